"""The built-in themes and the layout files travel in the wheel: an installed paygate
loads them too."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import pos_app
from pos_app.themes import builtin_theme_dir, load_themes
assert pos_app.__file__.startswith(sys.argv[1]), pos_app.__file__
files = list(builtin_theme_dir().iterdir())
inside = bool(files) and all(str(f).startswith(sys.argv[1]) for f in files)
print(inside, sorted(load_themes(None).themes))
"""


def test_an_installed_wheel_carries_and_loads_the_built_in_themes(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("paygate-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    shipped = sorted(p.name for p in (site / "pos_app" / "builtin_themes").glob("*.toml"))
    assert shipped == sorted(p.name for p in (ROOT / "pos_app" / "builtin_themes").glob("*.toml"))
    styles = sorted(p.name for p in (site / "pos_app" / "styles").glob("*.tcss"))
    assert styles == sorted(p.name for p in (ROOT / "pos_app" / "styles").glob("*.tcss"))

    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(site)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert out.strip() == "True ['high-contrast', 'paygate-dark', 'receipt-paper']"


def test_the_package_holds_its_themes_as_files_not_links() -> None:
    package = ROOT / "pos_app"
    assert not [p for p in package.rglob("*") if p.is_symlink()]
    assert sorted(p.stem for p in (package / "builtin_themes").glob("*.toml")) == [
        "high-contrast",
        "paygate-dark",
        "receipt-paper",
    ]
