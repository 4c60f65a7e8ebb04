"""Damaged or lost data files: reported and repaired, or refused with a clear message;
never an empty store without a word.

A data dir takes real sales over the embedded banks; then today's file set is damaged
the ways disks and people damage files. Opening it again as a writer either keeps every
acknowledged payment and says what it repaired (in `store.recovered`, the audit log and
on stderr), or refuses with `StorageCorrupt` naming the file.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from support import VISA, charge, gateway_settings, open_runtime, open_world

from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.store import StorageCorrupt
from gateway_core.store.repos import TinyAuditRepository


async def sales(data_dir: Path, clock: FixedClock, *, crash: bool) -> list[str]:
    """Three acknowledged sales; with `crash`, the process dies before compacting."""
    async with open_world(data_dir, clock, 5.0) as world:
        ids = [(await world.gw.charge(charge(VISA, 10_00 * n))).id for n in (1, 2, 3)]
        if crash:  # the log's fd goes
            os.close(world.rt.store.wal._fd)
            world.rt.store.wal._fd = None
    return ids


def audit_actions(rt: Runtime) -> list[str]:
    return [event["action"] for _day, event in TinyAuditRepository(rt.store).events()]


def day_file(data_dir: Path, clock: FixedClock, suffix: str) -> Path:
    """A file of today's database, or the data dir's log (`wal.jsonl`)."""
    if suffix == "wal.jsonl":
        return data_dir / "db" / suffix
    return data_dir / "db" / "days" / f"{clock.now().date()}.{suffix}"


def append(data: bytes) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        with open(path, "ab") as fh:
            fh.write(data)

    return damage


REPAIRED = {
    "torn write at the tail": ("wal.jsonl", append(b'{"n":999,"crc":12,"ops":[["put","pay')),
    "one line of garbage appended": ("wal.jsonl", append(b"\x00\xff garbage \x13" * 40)),
    "zeros appended (a preallocated block)": ("wal.jsonl", append(b"\0" * 4096)),
}


@pytest.mark.parametrize("damage", REPAIRED)
async def test_a_damaged_tail_is_repaired_and_reported(
    tmp_path: Path, clock: FixedClock, damage: str, cli
) -> None:
    data_dir = tmp_path / "data"
    ids = await sales(data_dir, clock, crash=True)
    suffix, harm = REPAIRED[damage]
    harm(day_file(data_dir, clock, suffix))

    result = cli("audit", "verify", "--data-dir", data_dir)  # read-only: reports, repairs nothing
    assert result.code == 0, result.err
    rt = open_runtime(gateway_settings(data_dir, 5.0), clock=clock)
    try:
        notes = rt.store.recovered
        assert any("torn last entry" in note for note in notes), notes
        assert [p.id for p in rt.gateway.list_day()] == ids
        assert all(rt.gateway.get(i).status == "succeeded" for i in ids)
        assert "store.recovered" in audit_actions(rt), "the repair was not audited"
        assert rt.audit.verify().ok
    finally:
        rt.close()
    again = open_runtime(gateway_settings(data_dir, 5.0), clock=clock)
    assert again.store.recovered == []  # repaired once, for good
    again.close()


def truncate_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


REFUSED = {
    "snapshot truncated": (False, "snapshot.json", truncate_half, "is damaged"),
    "garbage lines appended": (True, "wal.jsonl", append(b"junk\nmore junk\n"), "damaged"),
}


@pytest.mark.parametrize("damage", REFUSED)
async def test_damage_that_cannot_be_explained_refuses_to_open(
    tmp_path: Path, clock: FixedClock, damage: str, cli
) -> None:
    data_dir = tmp_path / "data"
    crash, suffix, harm, words = REFUSED[damage]
    await sales(data_dir, clock, crash=crash)
    path = day_file(data_dir, clock, suffix)
    harm(path)
    with pytest.raises(StorageCorrupt, match=words) as refused:
        open_runtime(gateway_settings(data_dir, 5.0), clock=clock)
    assert path.name in str(refused.value)
    result = cli("audit", "verify", "--data-dir", data_dir)
    assert result.code == 1
    assert result.err.startswith("paygate: ") and path.name in result.err


def remove_main(data_dir: Path, clock: FixedClock) -> None:
    for path in (data_dir / "db").glob("main.*"):
        path.unlink()


def remove_day_snapshot(data_dir: Path, clock: FixedClock) -> None:
    day_file(data_dir, clock, "snapshot.json").unlink()  # the journal is empty: compacted


@pytest.mark.parametrize("lose", [remove_day_snapshot, remove_main])
def test_lost_files_that_would_open_empty_are_refused(
    tmp_path: Path, clock: FixedClock, lose, cli
) -> None:
    data_dir = tmp_path / "data"
    asyncio.run(sales(data_dir, clock, crash=False))  # sync test: the CLI runs its own loop
    lose(data_dir, clock)
    with pytest.raises(StorageCorrupt, match=r"data files are missing.*restore them"):
        open_runtime(gateway_settings(data_dir, 5.0), clock=clock)
    result = cli("repair", "--data-dir", data_dir)  # any writer
    assert result.code == 1 and result.err.startswith("paygate: data files are missing")


async def test_the_banks_lost_main_database_is_refused(tmp_path: Path, clock: FixedClock) -> None:
    """Else the simulated issuers would open every account afresh, creating money."""
    data_dir = tmp_path / "data"
    await sales(data_dir, clock, crash=False)
    for path in (data_dir / "banks" / "db").glob("main.*"):
        path.unlink()
    rt = open_runtime(gateway_settings(data_dir, 5.0), clock=clock)
    try:
        with pytest.raises(StorageCorrupt, match=r"banks' main database .* is missing"):
            rt.gateway  # noqa: B018 - opening the embedded banks is the point
    finally:
        rt.close()


async def test_a_deleted_journal_is_reported_and_the_snapshot_kept(
    tmp_path: Path, clock: FixedClock, cli
) -> None:
    data_dir = tmp_path / "data"
    ids = await sales(data_dir, clock, crash=False)  # closed: all of it is in the snapshot
    day_file(data_dir, clock, "wal.jsonl").unlink()
    rt = open_runtime(gateway_settings(data_dir, 5.0), clock=clock)
    try:
        assert [p.id for p in rt.gateway.list_day()] == ids
        assert any("is missing" in note for note in rt.store.recovered)
        assert "store.recovered" in audit_actions(rt)
    finally:
        rt.close()
