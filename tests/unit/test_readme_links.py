"""The README and the docs link nothing outside the repository: every link is a file of
the checkout that exists, and the README names no path above it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "themes" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def links(page: Path) -> list[str]:
    return LINK.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_is_a_file_of_the_checkout(page: Path) -> None:
    for target in links(page):
        path = target.split("#")[0]
        assert not re.match(r"[a-z][a-z0-9+.-]*:", path), f"{page.name}: external link {target}"
        if not path:
            continue  # an anchor on the same page
        resolved = (page.parent / path).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name}: {target} is outside the checkout"
        assert resolved.exists(), f"{page.name}: {target} does not exist"


def test_the_readme_names_no_path_above_the_checkout() -> None:
    assert "../" not in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_check_sees_links() -> None:
    """Control: the pattern finds the README's links (so an empty pass means something)."""
    assert "docs/STORAGE.md" in links(ROOT / "README.md")
