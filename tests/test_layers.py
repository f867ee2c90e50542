"""The house's floors: each part of the code imports only the parts below it.

The order is the README's "How it works" table. A newcomer can then trust the tree: a change to
how the KB is read cannot break because of the interview, and `engine/` never reaches up into
`reports/` or `commands/`. Imports are read with `ast`, so lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# lowest first; a module may import its own part and any part listed before it
FLOORS = [
    "engine.record",
    "engine.errors",
    "engine.kb",
    "engine.wording",
    "engine.cases",
    "engine.inference",
    "engine.explain",
    "engine.interview",
    "engine.testing",
    "engine.authoring",
    "engine.fhir",
    "engine.lint",
    "reports",
    "clinic",
    "commands",
    "cli",
]
# parts on the same floor as each other (neither needs the other; keep it that way)
SIDE_BY_SIDE = {"engine.explain", "engine.interview", "engine.testing", "engine.authoring"}
# the only upward imports, each lazy and for a stated reason
EXCEPTIONS = {
    # a FHIR QuestionnaireResponse is accepted wherever a case file is, so the case reader hands
    # one to the FHIR reader (which itself builds a `Case`)
    ("engine.cases.case", "engine.fhir.response.case_from_response"),
    ("engine.cases.case", "engine.fhir.response"),
}


def part_of(module: str) -> str | None:
    for part in sorted(FLOORS, key=len, reverse=True):
        if module == part or module.startswith(part + "."):
            return part
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources() -> list[Path]:
    paths = [ROOT / "cli.py"]
    for folder in ("engine", "reports", "clinic", "commands"):
        paths += sorted((ROOT / folder).rglob("*.py"))
    return [p for p in paths if p != ROOT / "engine" / "__init__.py"]  # the empty namespace root


def test_every_module_has_a_floor() -> None:
    homeless = [module_name(p) for p in sources() if part_of(module_name(p)) is None]
    assert homeless == [], "put these in a sub-package of engine/ (see the README table)"


@pytest.mark.parametrize("path", sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_only_go_down(path: Path) -> None:
    own = part_of(module_name(path))
    assert own is not None
    upward = []
    for target in sorted(imports_of(path)):
        other = part_of(target)
        if other is None or other == own or (module_name(path), target) in EXCEPTIONS:
            continue
        if FLOORS.index(other) > FLOORS.index(own) or (own in SIDE_BY_SIDE and other in SIDE_BY_SIDE):
            upward.append(f"{own} imports {target}")
    assert upward == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The walker finds lazy imports inside functions, the kind that would slip past a grep."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from reports.text import render_text\n    return render_text\n")
    assert part_of(sorted(imports_of(module))[0]) == "reports"
