"""Whatever the umask, what paygate makes is private: directories 0700, files 0600 (the
data dir, its databases, the lock, the keys, the banks' files, exports and receipts)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from pos_app.private_files import write_private_text

SALE = ("--amount", "10", "--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")
UNDER_UMASK_000 = "import os, sys; os.umask(0); from paygate_cli.main import main; sys.exit(main())"


def paygate(*argv: object) -> None:
    command = [sys.executable, "-c", UNDER_UMASK_000, *map(str, argv)]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stderr


def modes(top: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(top.stat().st_mode)}
    for path in top.rglob("*"):
        found[str(path.relative_to(top))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_everything_made_under_umask_000_is_private(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    paygate("charge", *SALE, "--data-dir", data)
    paygate("export", "--out", tmp_path / "day.csv", "--data-dir", data)
    made = modes(tmp_path / "new")
    assert {"data/paygate.lock", "data/db/main.snapshot.json", "data/keys/keyring.json"} <= set(
        made
    )
    assert any(name.startswith("data/banks/") for name in made)
    wrong = {
        name: f"{mode:04o}"
        for name, mode in made.items()
        if mode != (0o700 if (tmp_path / "new" / name).is_dir() else 0o600)
    }
    assert wrong == {}
    assert stat.S_IMODE((tmp_path / "day.csv").stat().st_mode) == 0o600


def test_a_receipt_made_under_umask_000_is_private(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_private_text(tmp_path / "receipts" / "pay_1.txt", "RECEIPT")
    finally:
        os.umask(old)
    assert modes(tmp_path / "receipts") == {".": 0o700, "pay_1.txt": 0o600}
