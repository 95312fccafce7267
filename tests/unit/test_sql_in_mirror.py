"""SQL lives in `stashplex/mirror/` (and `migrations/`): every other module asks the mirror's
named functions and query tables, so a schema change has one package to read."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "stashplex"
MIRROR = PACKAGE / "mirror"

# Statements as written in this code base: upper-case keywords.
_SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)"
    r"|PRAGMA\s+\w+|EXPLAIN\s+QUERY)\b",
    re.S,
)
_DRIVER_CALLS = {"exec_driver_sql", "executemany", "executescript"}
_SQLITE_ALLOWED = {"Error", "OperationalError", "DatabaseError"}  # catching is not querying


def sql_uses(text: str) -> list[str]:
    """What in this module's source talks SQL: statement text, driver calls, SQLAlchemy."""
    found = []
    for node in ast.walk(ast.parse(text)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _SQL.search(node.value):
                found.append(f"line {line}: SQL text {node.value[:60]!r}")
        elif isinstance(node, ast.JoinedStr):  # an f-string: its text with each {...} as "x"
            joined = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
            if _SQL.search(joined):
                found.append(f"line {line}: SQL text {joined[:60]!r}")
        elif isinstance(node, ast.Attribute):
            if node.attr in _DRIVER_CALLS:
                found.append(f"line {line}: .{node.attr}")
            elif (
                isinstance(node.value, ast.Name)
                and node.value.id == "sqlite3"
                and node.attr not in _SQLITE_ALLOWED
            ):
                found.append(f"line {line}: sqlite3.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "sqlalchemy",
            "sqlite3",
        ):
            if node.module != "sqlalchemy.exc":
                found.append(f"line {line}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sqlalchemy"):
                    found.append(f"line {line}: import {alias.name}")
    return found


def test_no_sql_outside_the_mirror_package() -> None:
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if MIRROR in path.parents or "__pycache__" in path.parts:
            continue
        uses = sql_uses(path.read_text(encoding="utf-8"))
        if uses:
            offenders[str(path.relative_to(ROOT))] = uses
    assert offenders == {}, "move these into a stashplex/mirror/ module with a named function"


def test_the_mirror_package_is_where_the_sql_is() -> None:
    # The check above would pass on a tree it cannot read: it finds the mirror's own SQL.
    assert sql_uses((MIRROR / "lookups.py").read_text(encoding="utf-8"))
    assert sql_uses((MIRROR / "writer.py").read_text(encoding="utf-8"))


def test_the_reader_sees_every_form() -> None:
    text = (
        "import sqlite3\n"
        "from sqlalchemy import select, text\n"
        "from sqlalchemy.exc import DBAPIError\n"
        "import sqlalchemy.orm\n"
        "QUERY = 'SELECT doc FROM scenes WHERE id = ?'\n"
        'UP = f"UPDATE {table} SET x = 1"\n'
        "def f(c):\n"
        "    c.exec_driver_sql('x')\n"
        "    sqlite3.connect('m.db')\n"
        "    try:\n        pass\n    except sqlite3.Error:\n        pass\n"
        '    """Select the scenes from the mirror; delete nothing."""\n'
    )
    found = sql_uses(text)
    kinds = " ".join(found)
    for expected in (
        "from sqlalchemy import",
        "import sqlalchemy.orm",
        "SELECT doc",
        "UPDATE x SET x = 1",
        ".exec_driver_sql",
        "sqlite3.connect",
    ):
        assert expected in kinds, expected
    assert "DBAPIError" not in kinds and "sqlite3.Error" not in kinds
    assert "Select the scenes" not in kinds  # prose is not SQL
