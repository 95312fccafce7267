"""The doctor's report as text: symbols, the ASCII fallback, the fix lines, the verdict."""

from __future__ import annotations

from stashplex.checklist import FAIL, OK, WARN, Report, can_encode, render_text


def sample() -> Report:
    report = Report()
    stash = report.section("Stash")
    stash.add(OK, "Stash answers", fix="never shown for a pass")
    stash.add(WARN, "slowish", fix="look at it")
    report.section("Empty")
    dry = report.section("Dry run")
    dry.add(FAIL, "2 files would not match", "scan them", ("/a.mp4", "/b.mp4"))
    return report


def test_text_with_symbols() -> None:
    assert render_text(sample()).splitlines() == [
        "Stash",
        "  ✓ Stash answers",
        "  ! slowish",
        "    → look at it",
        "Dry run",
        "  ✗ 2 files would not match",
        "      /a.mp4",
        "      /b.mp4",
        "    → scan them",
        "1 passed, 1 warnings, 1 failed: fix the lines marked ✗",
    ]


def test_ascii_fallback_and_verdict() -> None:
    text = render_text(sample(), unicode=False)
    assert "  + Stash answers" in text and "  x 2 files" in text and "    -> scan them" in text
    assert text.isascii()
    passing = Report()
    passing.section("S").add(WARN, "only a warning")
    assert passing.passed
    assert render_text(passing).endswith("0 passed, 1 warnings, 0 failed: ready to scan")
    assert not sample().passed


def test_can_encode() -> None:
    assert can_encode("utf-8")
    assert not can_encode("ascii")
    assert not can_encode("cp1252")
    assert not can_encode("no-such-codec")
    assert not can_encode(None)
