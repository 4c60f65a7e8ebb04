"""Layers point down only: the gateway core never imports Textual (or the UI package)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
{extra}
import gateway_core
names = ["gateway_core"]
for info in pkgutil.walk_packages(gateway_core.__path__, "gateway_core."):
    importlib.import_module(info.name)
    names.append(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "pos_app"))
print(json.dumps({{"modules": names, "forbidden": loaded}}))
"""


def probe(extra: str = "") -> dict:
    """Import every gateway_core module in a fresh interpreter; report what got loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(extra=extra)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def core() -> dict:
    return probe()


def test_every_core_module_is_imported(core: dict) -> None:
    on_disk = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "gateway_core").rglob("*.py")
    }
    assert on_disk <= set(core["modules"])
    assert {"gateway_core.vault", "gateway_core.store.journal"} <= set(core["modules"])


def test_gateway_core_imports_no_textual_and_no_ui(core: dict) -> None:
    assert core["forbidden"] == []


def test_the_probe_would_see_textual() -> None:
    """Control run: the same probe reports Textual when something does import it."""
    assert "textual" in probe("import textual")["forbidden"]
