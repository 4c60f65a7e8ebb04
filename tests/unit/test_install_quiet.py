"""`make` installs paygate in editable mode without a warning block from the build
backend (setuptools picks its plain path-entry strategy for this layout)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "gateway_core", "pos_app", "themes")


def test_an_editable_install_prints_no_warning(tmp_path: Path) -> None:
    src = tmp_path / "src"  # a copy: builds write into the tree, other tests build there too
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--ignore-installed",  # never uninstall the paygate this test suite runs on
            "--prefix",
            str(tmp_path / "prefix"),
            "-e",
            str(src),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    # a backend's warning names its class (BuildBackendWarning, SetuptoolsDeprecationWarning)
    assert not re.search(r"[a-z]Warning\b|!!", out), out
    (pth,) = (tmp_path / "prefix").rglob("__editable__.paygate-*.pth")
    assert Path(pth.read_text().strip()) == src.resolve()  # the checkout, no import hook
