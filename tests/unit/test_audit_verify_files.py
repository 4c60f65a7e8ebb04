"""`paygate audit verify` names a missing or damaged data file (exit 1), not only a
broken chain: a lost main database, a damaged table the chain does not read, a lost
journal."""

from __future__ import annotations

from pathlib import Path

import pytest

SALE = ("--amount", "10", "--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")


@pytest.fixture
def data_dir(tmp_path: Path, cli) -> Path:
    data = tmp_path / "data"
    for _ in range(2):
        assert cli("charge", *SALE, "--data-dir", data).code == 0
    assert cli("audit", "verify", "--data-dir", data).code == 0
    return data


def day_file(data_dir: Path, suffix: str) -> Path:
    return next((data_dir / "db" / "days").glob(f"*.{suffix}"))


def test_a_missing_main_snapshot_is_named(cli, data_dir: Path) -> None:
    snapshot = data_dir / "db" / "main.snapshot.json"
    snapshot.unlink()
    result = cli("audit", "verify", "--data-dir", data_dir)
    assert result.code == 1
    assert f"{snapshot} is missing" in result.err
    assert "head is missing" in result.err
    assert "intact" not in result.out


def test_a_damaged_payments_table_is_named(cli, data_dir: Path) -> None:
    snapshot = day_file(data_dir, "snapshot.json")
    data = bytearray(snapshot.read_bytes())
    data[20] ^= 0x01  # inside the first document: the day's payments, not its audit events
    snapshot.write_bytes(bytes(data))
    result = cli("audit", "verify", "--data-dir", data_dir)
    assert result.code == 1
    assert f"snapshot {snapshot} is damaged" in result.err


def test_a_missing_journal_is_named(cli, data_dir: Path) -> None:
    journal = data_dir / "db" / "wal.jsonl"
    journal.unlink()
    result = cli("audit", "verify", "--data-dir", data_dir)
    assert result.code == 1
    assert f"{journal} is missing" in result.err
