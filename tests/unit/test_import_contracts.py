"""The import contracts of pyproject.toml hold, and they would catch a new upward arrow.

`make test` runs `lint-imports` before pytest; these tests run it too, so a bare
`pytest` run also fails on an arrow that points the wrong way.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway_core", "bank_sim", "paygate_cli", "pos_app")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the packages found in `where`, with `where`'s pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(where / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=where,  # lint-imports puts the working directory first on sys.path
        timeout=120,
        check=False,
    )


def test_the_import_contracts_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_new_wrong_arrows_break_the_contracts(tmp_path: Path) -> None:
    """Control run: a copy of the packages with wrong arrows added (one of them deferred,
    inside a function) fails, and each arrow is named."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    added = {
        "gateway_core/upward.py": "def f() -> None:\n    import pos_app.themes\n",
        "bank_sim/sideways.py": "import pos_app.themes\n",
        "paygate_cli/raw_table.py": "import tinydb\n",
        "bank_sim/draws.py": "from textual.app import App\n",
    }
    for path, text in added.items():
        (tmp_path / path).write_text(text)

    done = lint_imports(tmp_path)

    assert done.returncode != 0
    for arrow in (
        "gateway_core.upward -> pos_app.themes",
        "bank_sim.sideways -> pos_app.themes",
        "paygate_cli.raw_table -> tinydb",
        "bank_sim.draws -> textual",
    ):
        assert arrow in done.stdout, arrow
