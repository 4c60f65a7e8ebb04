"""No test imports a conftest by name: with several conftest.py files on the path, which
one `from conftest import …` finds depends on the tests collected with it (a helper
module, `*_support.py`, is named after what it holds and is found the same way always)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parents[1]


def test_no_test_imports_a_conftest() -> None:
    pattern = re.compile(r"^\s*(from conftest import|import conftest)", re.MULTILINE)
    found = [
        str(p.relative_to(TESTS)) for p in TESTS.rglob("*.py") if pattern.search(p.read_text())
    ]
    assert found == []
