"""services/ must stay importable without reflex or portal: plain pytest and the job consumer depend on it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.env import PROJECT_ROOT

FORBIDDEN = ("reflex", "portal", "rxconfig")


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_services_never_import_reflex_or_portal() -> None:
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)} imports {name}"
        for path in sorted((PROJECT_ROOT / "services").rglob("*.py"))
        for name in _imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_the_check_itself_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from portal.state import auth\n    import reflex as rx\n")
    assert {n.split(".")[0] for n in _imported_modules(sample)} == {"portal", "reflex"}
