"""In the core, a `type: ignore` names its error code and says why (a comment after it).

mypy (`make typecheck`, strict on gateway_core) refuses an ignore without a code; this
test asks for the reason too.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[a-z0-9-, ]+\])?(?P<rest>.*)$")


def unexplained(folder: Path) -> set[tuple[str, str]]:
    """(file, code) of every `type: ignore` under `folder` without a code and a reason."""
    found: set[tuple[str, str]] = set()
    for path in sorted(folder.rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = IGNORE.search(line)
            if match and not (match["code"] and re.match(r"\s*#\s*\S", match["rest"])):
                code = line[: match.start()].strip()
                found.add((path.relative_to(folder.parent).as_posix(), code))
    return found


def test_every_ignore_in_the_core_names_its_code_and_reason() -> None:
    assert unexplained(ROOT / "gateway_core") == set()


def test_the_check_sees_an_unexplained_ignore(tmp_path: Path) -> None:
    """Control: bare, code-only and explained ignores, told apart."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text(
        "a = 1  # type: ignore\n"
        "b = 2  # type: ignore[misc]\n"
        "c = 3  # type: ignore[misc]  # the stub is wrong\n"
    )
    assert unexplained(package) == {("pkg/m.py", "a = 1"), ("pkg/m.py", "b = 2")}
