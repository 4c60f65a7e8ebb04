"""The terminal's shape: pos_app imports only the core (and Textual, Rich, the standard
library), has no import cycle (deferred and typing-only imports included), keeps every
module under 600 lines, and its controllers offer what the screens' hosts ask for."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from app_support import build_app

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from pos_app.screens import hosts

PACKAGE = Path(__file__).resolve().parents[2] / "pos_app"
FORBIDDEN = ("paygate_cli", "bank_sim")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every module of pos_app and the modules it imports, wherever the import is."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
        found[_module(path)] = names
    return found


def test_pos_app_imports_only_the_core() -> None:
    wrong = {
        module: sorted(n for n in names if n.split(".")[0] in FORBIDDEN)
        for module, names in _imports().items()
    }
    assert {m: n for m, n in wrong.items() if n} == {}


def test_pos_app_has_no_import_cycle() -> None:
    imports = _imports()
    graph = {m: {n for n in names if n in imports and n != m} for m, names in imports.items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                raise AssertionError(" -> ".join([*path, module, target]))
            if target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_no_module_over_600_lines() -> None:
    long = {
        _module(p): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def _members(protocol: type) -> set[str]:
    return {
        name
        for klass in protocol.__mro__
        if klass.__dict__.get("_is_protocol")
        for name in (*klass.__dict__, *inspect.get_annotations(klass))
        if not name.startswith("_")
    }


def test_the_controllers_offer_what_the_screens_ask(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    try:
        for host, protocol in (
            (app.flow, hosts.SaleDesk),
            (app.office, hosts.BackOffice),
            (app, hosts.SignIn),
            (app.keys, hosts.KeyGuide),
        ):
            missing = {name for name in _members(protocol) if not hasattr(host, name)}
            assert missing == set(), f"{type(host).__name__} lacks {missing}"
    finally:
        app.rt.close()
