"""Layers point down only, as loaded: importing every module of a package in a fresh
interpreter loads none of the packages it must not use (nor Textual, outside pos_app).

The static check of the same arrows (every import statement, deferred ones too) is
`lint-imports` with the contracts in pyproject.toml; see test_import_contracts.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway_core", "bank_sim", "paygate_cli", "pos_app")

# What each package must not load. paygate_cli is the composition root: it may load all.
FORBIDDEN: dict[str, set[str]] = {
    "gateway_core": {"pos_app", "bank_sim", "paygate_cli", "textual"},
    "bank_sim": {"pos_app", "paygate_cli", "textual"},
    "pos_app": {"bank_sim", "paygate_cli"},
    "paygate_cli": set(),
}

# Arrows that still point the wrong way at import time (issue 16); the same arrows are
# the `ignore_imports` of pyproject.toml. Each goes when its helper's work lands (the
# test below fails until it is deleted here, so this list only shrinks).
KNOWN: dict[str, set[str]] = {}

PROBE = """
import importlib, json, pkgutil, sys
{extra}
package = importlib.import_module({package!r})
names = [package.__name__]
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(info.name)
    names.append(info.name)
loaded = sorted({{m.split(".")[0] for m in sys.modules}})
print(json.dumps({{"modules": names, "loaded": loaded}}))
"""


def probe(package: str, extra: str = "") -> dict[str, list[str]]:
    """Import every module of `package` in a fresh interpreter; report what got loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(package=package, extra=extra)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module", params=PACKAGES)
def loaded(request: pytest.FixtureRequest) -> tuple[str, dict[str, list[str]]]:
    package: str = request.param
    return package, probe(package)


def test_every_module_of_the_package_is_imported(
    loaded: tuple[str, dict[str, list[str]]],
) -> None:
    package, found = loaded
    on_disk = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / package).rglob("*.py")
    }
    assert on_disk <= set(found["modules"])


def test_a_package_loads_only_what_its_layer_may_use(
    loaded: tuple[str, dict[str, list[str]]],
) -> None:
    package, found = loaded
    wrong = FORBIDDEN[package] & set(found["loaded"])
    known = KNOWN.get(package, set())
    assert wrong <= known, f"{package} loads {sorted(wrong - known)}"
    assert known <= wrong, f"{package} no longer loads {sorted(known - wrong)}: update KNOWN"


def test_the_core_loads_no_textual_and_no_ui() -> None:
    loaded = set(probe("gateway_core")["loaded"])
    assert not loaded & {"textual", "pos_app", "paygate_cli"}


def test_the_probe_would_see_a_forbidden_package() -> None:
    """Control run: the same probe reports Textual when something does import it."""
    assert "textual" in probe("gateway_core", "import textual")["loaded"]
