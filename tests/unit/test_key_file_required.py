"""A missing, unsafe or damaged key file is an error naming the file, never a new key.

Keys are made with a new data dir, or by `paygate keys init`; any other command refuses
(exit 1) and says how to restore the file. A new key would read no card of the vault and
verify no event of the audit log.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import CLI_SALE as SALE


def key_file(data_dir: Path) -> Path:
    return data_dir / "keys" / "keyring.json"


@pytest.mark.parametrize(
    "command",
    [
        ("status", "pay_20261128_0123456789"),
        ("charge", *SALE),
        ("keys", "list"),
        ("keys", "rotate"),
        ("audit", "verify"),
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_missing_key_file_is_refused_and_never_recreated(cli, data_dir: Path, command) -> None:
    key_file(data_dir).unlink()
    result = cli(*command, "--data-dir", data_dir)
    assert result.code == 1, result.err
    assert str(key_file(data_dir)) in result.err
    assert "restore it from your backup" in result.err
    assert not key_file(data_dir).exists()


@pytest.mark.parametrize(
    "damage",
    [b"", b"{", b'{"format": 1, "keys": []}'],
    ids=["empty", "cut", "no keys"],
)
def test_key_file_of_the_wrong_size_is_refused(cli, data_dir: Path, damage: bytes) -> None:
    key_file(data_dir).write_bytes(damage)
    result = cli("charge", *SALE, "--data-dir", data_dir)
    assert result.code == 1
    assert str(key_file(data_dir)) in result.err
    assert "restore it from your backup" in result.err
    assert key_file(data_dir).read_bytes() == damage


def test_key_file_open_to_others_is_refused_not_replaced(cli, data_dir: Path) -> None:
    before = key_file(data_dir).read_bytes()
    key_file(data_dir).chmod(0o644)
    result = cli("status", "pay_20261128_0123456789", "--data-dir", data_dir)
    assert result.code == 1
    assert f"chmod 600 {key_file(data_dir)}" in result.err
    assert key_file(data_dir).read_bytes() == before


def test_keys_init_makes_a_key_only_where_none_is_lost(cli, tmp_path: Path, data_dir) -> None:
    fresh = tmp_path / "fresh"
    made = cli("keys", "init", "--data-dir", fresh)
    assert made.code == 0, made.err
    assert key_file(fresh).stat().st_mode & 0o777 == 0o600
    again = cli("keys", "init", "--data-dir", fresh)
    assert again.code == 1 and "already exists" in again.err

    key_file(data_dir).unlink()
    refused = cli("keys", "init", "--data-dir", data_dir)
    assert refused.code == 1 and "restore" in refused.err
    assert not key_file(data_dir).exists()
    forced = cli("keys", "init", "--force", "--data-dir", data_dir)
    assert forced.code == 0, forced.err
    assert key_file(data_dir).exists()


def test_a_new_data_dir_keeps_a_key_made_before_its_data(cli, tmp_path: Path) -> None:
    """A crash between making the key and the first data file leaves a key and no data:
    the next charge goes on with that key instead of making another."""
    data = tmp_path / "data"
    keys = tmp_path / "elsewhere" / "keyring.json"  # a key file on another volume
    config = tmp_path / "paygate.toml"
    config.write_text(f'key_file = "{keys}"\n')
    assert cli("keys", "init", "--data-dir", data, "--config", config).code == 0
    made = keys.read_bytes()
    result = cli("charge", *SALE, "--data-dir", data, "--config", config)
    assert result.code == 0, result.err
    assert keys.read_bytes() == made
    assert not key_file(data).exists()
