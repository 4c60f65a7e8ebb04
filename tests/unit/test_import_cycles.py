"""No import cycle inside a package, deferred imports included.

grimp (import-linter's graph library) reads every import statement of every module,
those inside functions and under `if TYPE_CHECKING:` too, so a cycle kept alive by a
deferred import counts. A cycle is a strongly connected set of modules of one package
(a loop through another package breaks the layers contract instead).
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

PACKAGES = ("gateway_core", "bank_sim", "paygate_cli", "pos_app")


def cycles(graph: grimp.ImportGraph, package: str) -> list[frozenset[str]]:
    """The import cycles inside `package`: its strongly connected sets of 2+ modules."""
    modules = {m for m in graph.modules if m == package or m.startswith(package + ".")}
    reach = {m: _reachable(graph, m, modules) for m in modules}
    found = {frozenset(n for n in reach[m] if m in reach[n]) for m in modules}
    return sorted((c for c in found if len(c) > 1), key=sorted)


def _reachable(graph: grimp.ImportGraph, start: str, inside: set[str]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in graph.find_modules_directly_imported_by(todo.pop()) & inside:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_the_package(graph: grimp.ImportGraph, package: str) -> None:
    found = cycles(graph, package)
    assert not found, f"import cycles in {package}: " + "; ".join(
        " <-> ".join(sorted(c)) for c in found
    )


def test_a_deferred_import_that_closes_a_loop_is_a_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control run: a fake package whose loop is closed inside a function is reported."""
    package = tmp_path / "loopy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from loopy import b\n    return b\n")
    (package / "b.py").write_text("import loopy.a\n")
    (package / "c.py").write_text("import loopy.b\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = cycles(grimp.build_graph("loopy", cache_dir=None), "loopy")
    assert found == [frozenset({"loopy.a", "loopy.b"})]
