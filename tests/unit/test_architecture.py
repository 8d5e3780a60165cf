"""The layering of ../shared/DESIGN.md as tests over the real import graph of the source (imports anywhere in a
module, also inside functions, followed transitively), so an indirect path (through the job queue, say) counts.
import-linter states the same contracts for `make lint`; this test also proves that the checker itself sees."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from tests.support.env import PROJECT_ROOT

FORBIDDEN_IN_SERVICES = ("reflex", "portal", "rxconfig")


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for top in ("services", "portal"):
        for path in (PROJECT_ROOT / top).rglob("*.py"):
            parts = path.with_suffix("").relative_to(PROJECT_ROOT).parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(path: Path, module: str) -> set[str]:
    """Every module `path` imports, anywhere in it (names as written, relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _resolve(name: str) -> str | None:
    modules = _modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


@cache
def direct(module: str) -> frozenset[str]:
    """Project modules `module` imports directly (external names kept as they are)."""
    result = set()
    for name in imported(_modules()[module], module):
        resolved = _resolve(name) if name.split(".")[0] in ("services", "portal") else name
        if resolved and resolved != module:
            result.add(resolved)
    return frozenset(result)


def reachable(module: str) -> set[str]:
    seen, pending = set(), [module]
    while pending:
        for target in direct(pending.pop()):
            if target not in seen:
                seen.add(target)
                if target in _modules():
                    pending.append(target)
    return seen


def _in(package: str) -> list[str]:
    return sorted(m for m in _modules() if m == package or m.startswith(package + "."))


def test_services_never_reach_reflex_or_portal_even_indirectly() -> None:
    offenders = {
        m: sorted(t for t in reachable(m) if t.split(".")[0] in FORBIDDEN_IN_SERVICES) for m in _in("services")
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_provisioning_never_reaches_billing_not_even_through_the_job_queue() -> None:
    offenders = {
        m: sorted(t for t in reachable(m) if t.startswith("services.billing")) for m in _in("services.provisioning")
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_job_queue_knows_only_the_queue() -> None:
    for module in _in("services.jobs"):
        domains = {t for t in reachable(module) if t.startswith("services.")} - set(_in("services.jobs"))
        assert domains <= {"services.config", "services"}, (module, domains)


def test_models_import_nothing_above_them() -> None:
    for module in _in("services.models"):
        above = {t for t in reachable(module) if t.startswith("services.") and not t.startswith("services.models")}
        assert above == set(), (module, above)


def test_the_engine_never_knows_which_backend_it_drives() -> None:
    specific = {
        "services.provisioning.backends.docker",
        "services.provisioning.backends.coolify",
        "services.provisioning.coolify.client",
    }
    assert direct("services.provisioning.engine") & specific == set()


def test_pages_reach_data_only_through_state() -> None:
    for module in _in("portal.pages") + _in("portal.components"):
        data = {
            t
            for t in direct(module)
            if t.startswith(("services.db", "services.models", "services.config"))
            or t.split(".")[0] in ("sqlmodel", "sqlalchemy")
        }
        assert data == set(), (module, data)


def test_no_cycles_between_modules_of_services() -> None:
    graph = {m: {t for t in direct(m) if t.startswith("services")} for m in _in("services")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


@pytest.mark.parametrize(
    "source,expected",
    [
        ("def f():\n    from portal.state import auth\n    import reflex as rx\n", {"portal.state", "reflex"}),
        ("from . import engine\n", {"services.provisioning", "services.provisioning.engine"}),
    ],
)
def test_the_checker_itself_sees_imports_inside_functions_and_relative_ones(
    tmp_path: Path, source: str, expected: set[str]
) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(source)
    assert expected <= imported(sample, "services.provisioning.sample")
