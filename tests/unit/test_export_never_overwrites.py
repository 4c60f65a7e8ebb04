"""`paygate export --out` never writes inside the data dir nor over a file unless
`--force`, and writes whole or not at all (temp file, fsync, rename, fsync dir)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "inside",
    ["db/main.snapshot.json", "db/days/new.csv", "keys/keyring.json", "report.csv", "."],
)
def test_export_into_the_data_dir_is_refused_and_touches_nothing(
    cli, data_dir: Path, inside: str
) -> None:
    before = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    result = cli("export", "--out", data_dir / inside, "--force", "--data-dir", data_dir)
    assert result.code == 2
    assert "inside paygate's data" in result.err
    assert {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()} == before


def test_export_through_a_link_into_the_data_dir_is_refused(
    cli, data_dir: Path, tmp_path: Path
) -> None:
    link = tmp_path / "innocent.csv"
    link.symlink_to(data_dir / "db" / "main.snapshot.json")
    snapshot = (data_dir / "db" / "main.snapshot.json").read_bytes()
    result = cli("export", "--out", link, "--force", "--data-dir", data_dir)
    assert result.code == 2 and "inside paygate's data" in result.err
    assert (data_dir / "db" / "main.snapshot.json").read_bytes() == snapshot


def test_export_over_an_existing_file_needs_force(cli, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "day.csv"
    out.write_text("the accountant's file\n")
    refused = cli("export", "--out", out, "--data-dir", data_dir)
    assert refused.code == 2
    assert refused.err == f"paygate: {out} already exists; --force replaces it\n"
    assert out.read_text() == "the accountant's file\n"

    forced = cli("export", "--out", out, "--force", "--data-dir", data_dir)
    assert forced.code == 0, forced.err
    assert out.read_text().startswith("time,type,payment_id")
    assert out.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_to_a_new_file_writes_it_whole(cli, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "new.json"
    result = cli("export", "--format", "json", "--out", out, "--data-dir", data_dir)
    assert result.code == 0, result.err
    assert out.read_text().rstrip().endswith("}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["data", "new.json"])
