"""The layering ARCHITECTURE.md describes is the one the code has.

Reads the layer table from ARCHITECTURE.md and every `import` of the package (module level and
inside functions), then checks: no unit imports one on a higher layer, the sample Stash stays at
the bottom, no two modules import each other in a circle, every unit is in the table, and no two
modules share a file name.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "stashplex"
SAMPLE = "samplestash"


def layer_table() -> dict[str, int | None]:
    """Unit -> layer number (None for the sample Stash's row)."""
    table: dict[str, int | None] = {}
    for line in (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*(\d+|-)\s*\|([^|]*)\|", line)
        if row:
            for unit in re.findall(r"`([\w.]+)`", row.group(2)):
                table[unit] = None if row.group(1) == "-" else int(row.group(1))
    return table


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "stashplex"


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """The stashplex modules `path` imports (a `from package import module` names the module)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    return imports_in(path.read_text(encoding="utf-8"), package, top_level_only)


def imports_in(text: str, package: str, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(text)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "stashplex")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "stashplex":
                continue
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if is_module(child) else base)
    return found


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_unit_is_in_the_table() -> None:
    table = layer_table()
    units = {unit_of(module_name(p)) for p in sources()}
    assert units - set(table) == set(), "add these to the layer table in ARCHITECTURE.md"
    assert set(table) - units == set(), "ARCHITECTURE.md names units that do not exist"


def test_no_import_runs_upward() -> None:
    table = layer_table()
    upward = []
    for path in sources():
        source = unit_of(module_name(path))
        for target_module in imports(path):
            target = unit_of(target_module)
            if target == source:
                continue
            mine, theirs = table.get(source), table.get(target)
            if source == SAMPLE:
                ok = theirs == 0  # the sample Stash hangs off the bottom
            elif target == SAMPLE:
                ok = mine == 9  # only the command lines start a sample Stash
            else:
                ok = mine is not None and theirs is not None and theirs <= mine
            if not ok:
                upward.append(f"{module_name(path)} (layer {mine}) imports {target_module}")
    assert upward == []


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in sources():
        graph[module_name(path)] |= imports(path, top_level_only=True) - {module_name(path)}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_module_file_names_are_unique() -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for path in sources():
        if path.name not in ("__init__.py", "__main__.py"):
            seen[path.name].append(module_name(path))
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}


def test_the_import_reader_sees_every_form() -> None:
    # The rules above are only as good as the import reader: prove it finds each form.
    text = (
        "from stashplex.web import app\n"
        "import stashplex.daemon\n"
        "from . import documents\n"
        "from .writer import MirrorWriter\n"
        "def later():\n    from stashplex.pms.api import PmsClient\n"
    )
    assert imports_in(text, "stashplex.mirror") == {
        "stashplex.web.app",
        "stashplex.daemon",
        "stashplex.mirror.documents",
        "stashplex.mirror.writer",
        "stashplex.pms.api",
    }
    assert "stashplex.pms.api" not in imports_in(text, "stashplex.mirror", top_level_only=True)
