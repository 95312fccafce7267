"""`[metadata] title_format`: the template language and its errors at settings load."""

from __future__ import annotations

from pathlib import Path

import pytest

from stashplex.settings import SettingsError, load
from stashplex.titleformat import DEFAULT_FORMAT, compile_format

VALUES = {
    "title": "Pool Day",
    "code": "ABC-1",
    "studio": "Site",
    "parent_studio": "",
    "date": "2024-05-01",
    "year": "2024",
    "performers": "Jane, John",
    "filename": "pool.day.1080p",
}


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("{title|code|filename}", VALUES, "Pool Day"),
        ("{title|code|filename}", {**VALUES, "title": "  "}, "ABC-1"),
        ("{title|code|filename}", {"filename": "x"}, "x"),
        ("{studio} - {title}", VALUES, "Site - Pool Day"),
        ("[{parent_studio} - ]{title}", VALUES, "Pool Day"),
        ("[{studio} - ]{title}", VALUES, "Site - Pool Day"),
        ("[{date} ]{title}[ ({performers})]", VALUES, "2024-05-01 Pool Day (Jane, John)"),
        ("[{date} ]{title}[ ({performers})]", {"title": "T"}, "T"),
        ("{{{year}}} [[{code}]]", VALUES, "{2024} [ABC-1]"),
        ("{ Title | CODE }", {"code": "c"}, "c"),
        ("{studio}   {title}", {"title": "T"}, "T"),  # spaces collapse, ends are trimmed
        ("{parent_studio}", VALUES, ""),
    ],
)
def test_render(template: str, values: dict[str, str], expected: str) -> None:
    assert compile_format(template).render(values) == expected


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("", "expected a template"),
        ("plain text", "names no field"),
        ("{titel}", "unknown field {titel}"),
        ("{title|}", "unknown field {(empty)}"),
        ("{title", "never closed"),
        ("title}", "closes nothing"),
        ("[{title}", "'[' is never closed"),
        ("{title}]", "closes nothing"),
        ("[[{title}]", "closes nothing"),
        ("[a [{title}]]", "cannot nest"),
        ("[ - ]{title}", "must hold a {field}"),
    ],
)
def test_bad_templates_say_why(template: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        compile_format(template)
    assert reason in str(caught.value)


def test_fields_named() -> None:
    assert compile_format("[{date} ]{title|code}[ ({performers})]").fields == {
        "date",
        "title",
        "code",
        "performers",
    }


def test_default_is_title_then_code_then_file_name() -> None:
    assert str(DEFAULT_FORMAT) == "{title|code|filename}"
    assert compile_format("{title|code|filename}") == DEFAULT_FORMAT  # comparable, hashable
    assert hash(compile_format("{title}")) == hash(compile_format("{title}"))


def test_bad_template_in_the_file_names_file_section_and_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    path.write_text("[metadata]\ntitle_format = {studio} - {titel}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load(path, {})
    message = str(caught.value)
    assert message.startswith(f"{path}: [metadata] title_format = '{{studio}} - {{titel}}': ")
    assert "unknown field {titel}" in message and "\n" not in message


def test_bad_template_in_the_environment_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="environment STASHPLEX_METADATA_TITLE_FORMAT"):
        load(None, {"STASHPLEX_METADATA_TITLE_FORMAT": "{x"}, search=False)


def test_loaded_template_is_compiled() -> None:
    settings = load(None, {"STASHPLEX_METADATA_TITLE_FORMAT": "[{studio} - ]{title}"}, search=False)
    assert settings.metadata.title_format.render({"title": "T"}) == "T"
