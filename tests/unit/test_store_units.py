"""Units of work and group commit: `DataStore.unit`, `sync`, `synced`.

fdatasync is counted by a wrapper around `os.fdatasync`, which also notes which
documents each sync covered (the journal's bytes when it began); a commit is checked to
return only after a sync that covered it. Order is asserted, never time.
"""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import date
from pathlib import Path

import pytest

from gateway_core.store import DataStore
from gateway_core.store.records import TinyRecords

DAY = date(2026, 12, 6)


class Syncs:
    """Every fdatasync, and the events around it, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        self.before: threading.Event | None = None  # what the first sync waits for
        real = os.fdatasync

        def counted(fd: int) -> None:
            if self.before is not None:
                assert self.before.wait(30), "the other committers never wrote"
                self.before = None
            covered = Path(os.readlink(f"/proc/self/fd/{fd}")).read_bytes()
            real(fd)
            self.note("synced", covered)

        monkeypatch.setattr(os, "fdatasync", counted)

    def note(self, what: str, detail: object) -> None:
        with self.lock:
            self.log.append((what, detail))

    @property
    def count(self) -> int:
        return sum(1 for what, _ in self.log if what == "synced")


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> Syncs:
    return Syncs(monkeypatch)


def payments(store: DataStore) -> list[str]:
    return [d["id"] for d in store.day(DAY).table("payments")]


def test_a_unit_over_main_and_a_day_is_atomic_and_rolls_back(tmp_path: Path) -> None:
    with DataStore(tmp_path) as store:
        with store.unit(DAY):
            store.day(DAY).table("payments").insert({"id": "p1"})
            store.main.table("open").insert({"id": "p1"})
        with pytest.raises(RuntimeError), store.unit(DAY):
            store.day(DAY).table("payments").insert({"id": "p2"})
            store.main.table("open").insert({"id": "p2"})
            raise RuntimeError("a step fails")
        assert payments(store) == ["p1"]
        assert [d["id"] for d in store.main.table("open")] == ["p1"]
    with DataStore(tmp_path, read_only=True) as again:
        assert payments(again) == ["p1"]
        assert [d["id"] for d in again.main.table("open")] == ["p1"]


def test_a_nested_unit_joins_the_outer_one(tmp_path: Path, syncs: Syncs) -> None:
    with DataStore(tmp_path) as store:
        store.main.table("t").insert({"n": 0})
        before = syncs.count
        with pytest.raises(RuntimeError), store.unit():
            store.main.table("t").insert({"n": 1})
            with store.unit(DAY):
                store.day(DAY).table("payments").insert({"id": "p1"})
            assert syncs.count == before  # the inner block's end is not a commit
            raise RuntimeError("the outer block fails")
        assert [d["n"] for d in store.main.table("t")] == [0]
        assert payments(store) == []


def test_a_unit_that_is_not_durable_is_written_but_not_synced(tmp_path: Path, syncs: Syncs) -> None:
    with DataStore(tmp_path) as store:
        store.main.table("t").insert({"n": 0})
        before = syncs.count
        for n in range(1, 4):
            with store.unit(durable=False):
                store.main.table("t").insert({"n": n})
        assert syncs.count == before
        assert store.main.journal.wal.path.read_bytes().count(b"\n") == 4  # written(2)
        store.sync()
        assert syncs.count == before + 1
        store.sync()  # nothing new: no sync
        assert syncs.count == before + 1


def test_concurrent_committers_share_fdatasyncs(tmp_path: Path, syncs: Syncs) -> None:
    """Eight threads commit at once: the first sync waits (inside fdatasync) until every
    thread wrote its entry, so the next round covers the seven others in one sync."""
    threads = 8
    with DataStore(tmp_path) as store:
        store.main.table("t").insert({"id": "warm"})
        wal = store.main.journal.wal
        written = threading.Event()
        wrote = wal.commits.wrote

        def counting() -> int:
            ticket = wrote()
            if wal.commits.written >= start + threads:
                written.set()
            return ticket

        wal.commits.wrote = counting  # type: ignore[method-assign]  # a test's probe
        start = wal.commits.written
        syncs.before, syncs.log = written, []

        def commit(n: int) -> None:
            with store.unit():
                store.main.table("t").insert({"id": f"c{n}"})
            syncs.note("acked", f"c{n}")

        workers = [threading.Thread(target=commit, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert syncs.count == 2, syncs.log
    for index, (what, detail) in enumerate(syncs.log):
        if what == "acked":
            mark = b'"%s"' % str(detail).encode()
            assert any(
                w == "synced" and mark in covered  # type: ignore[operator]  # bytes
                for w, covered in syncs.log[:index]
            ), f"{detail} acknowledged before a sync covered it"


async def test_async_awaiters_share_one_sync(tmp_path: Path, syncs: Syncs) -> None:
    with DataStore(tmp_path) as store:
        store.main.table("t").insert({"n": 0})
        before = syncs.count
        for n in range(5):
            with store.unit(durable=False):
                store.main.table("t").insert({"n": n + 1})
        await asyncio.gather(*(store.synced() for _ in range(5)))
        assert syncs.count == before + 1
        await store.synced()
        assert syncs.count == before + 1


def test_a_read_only_store_refuses_a_unit_that_writes(tmp_path: Path) -> None:
    with DataStore(tmp_path) as store:
        store.main.table("t").insert({"n": 0})
    with DataStore(tmp_path, read_only=True) as reader:
        with reader.unit():
            assert len(reader.main.table("t")) == 1  # reading in a unit is fine
        with pytest.raises(Exception, match="read-only"), reader.unit():
            reader.main.table("t").insert({"n": 1})


async def test_the_records_units_are_the_stores(tmp_path: Path, syncs: Syncs) -> None:
    with DataStore(tmp_path) as store:
        records = TinyRecords(store)
        store.main.table("t").insert({"n": 0})
        before = syncs.count
        with records.unit(DAY, durable=False):
            store.day(DAY).table("payments").insert({"id": "p1"})
            store.main.table("t").insert({"n": 1})
        assert syncs.count == before
        assert store.wal.path.read_bytes().count(b"\n") == 2  # one entry for both
        await records.synced()
        records.sync()
        assert syncs.count == before + 1


def test_a_failed_sync_acknowledges_nothing_and_stops_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DataStore(tmp_path)
    store.main.table("t").insert({"n": 0})

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing)
    with pytest.raises(Exception, match="could not sync its journal"):
        store.main.table("t").insert({"n": 1})
    monkeypatch.undo()
    with pytest.raises(Exception, match="restart paygate"):
        store.main.table("t").insert({"n": 2})
    with pytest.raises(Exception, match="restart paygate"):
        store.sync()
    store.close()  # no checkpoint over a log that may be lost
    with DataStore(tmp_path, read_only=True) as again:
        assert [d["n"] for d in again.main.table("t")] in ([0], [0, 1])  # 1: maybe kept


def test_a_write_under_a_days_lock_meets_no_deadlock_with_a_unit(tmp_path: Path) -> None:
    """A reader-style caller holds a day's lock and writes to it (outside any unit)
    while another thread's unit holds the main database and waits for that day: the
    write needs only the log's lock for its append, so both finish."""
    store = DataStore(tmp_path)
    day, main = store.day(DAY).journal, store.main.journal
    done: list[str] = []

    def unit_over_main_and_the_day() -> None:
        with store.unit(DAY):
            store.main.table("head").insert({"id": "u"})
            store.day(DAY).table("payments").insert({"id": "u"})
        done.append("unit")

    with day.lock:
        other = threading.Thread(target=unit_over_main_and_the_day)
        other.start()
        while main.lock.acquire(blocking=False):  # until the unit holds main
            main.lock.release()
        store.day(DAY).table("payments").insert({"id": "w"})
        done.append("write")
    other.join(30)
    assert not other.is_alive(), "deadlock"
    assert done == ["write", "unit"] and payments(store) == ["w", "u"]
    store.close()
