"""The command line as a user meets it: versions, and output cut short by a pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stashplex import __version__
from stashplex.cli import EXIT_BROKEN_PIPE, main, sync_main


@pytest.mark.parametrize(("entry", "name"), [(main, "stashplex"), (sync_main, "stashplex-sync")])
def test_version(entry, name: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        entry(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"{name} {__version__}\n"


@pytest.mark.parametrize(
    "argv", [["settings"], ["--help"], ["sync", "--help"], ["db", "upgrade", "--help"]]
)
def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path, argv: list[str]) -> None:
    """`stashplex settings | head`: the pipe is closed before the command writes a byte."""
    process = subprocess.Popen(
        [sys.executable, "-m", "stashplex", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read().decode()
    code = process.wait(timeout=60)
    assert errors == ""
    assert code in (0, EXIT_BROKEN_PIPE)
