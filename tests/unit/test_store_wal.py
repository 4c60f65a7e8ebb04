"""The data dir's write-ahead log (db/wal.jsonl): one entry per unit of work over main
and any days, replayed at open, folded into the snapshots by checkpoints (at close and
when it grows) that a crash at any step cannot harm, and carried over from the old
layout of one journal per database (files in old_layout/, made by the old code)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from gateway_core.store import DataStore, journal

DAY = date(2026, 12, 6)
OLD = Path(__file__).parent / "old_layout"


def ids(db, table: str = "payments") -> list[str]:
    return [doc["id"] for doc in db.table(table)]


def crash(store: DataStore) -> None:
    """The process dies: the log's fd and the lock go, nothing is folded."""
    os.close(store.wal._fd)
    store.wal._fd = None
    store._lock.release()


def test_a_unit_over_main_and_a_day_is_one_entry_and_one_fdatasync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: synced.append(fd) or real(fd))
    with DataStore(tmp_path) as store:
        store.main.table("warm").insert({"id": "w"})
        synced.clear()
        with store.unit(DAY):
            store.day(DAY).table("payments").insert({"id": "p1"})
            store.day(DAY).table("audit").insert({"id": "e1"})
            store.main.table("head").insert({"id": "e1"})
        assert len(synced) == 1
        assert store.wal.path.read_bytes().count(b"\n") == 2
        crash(store)
    with DataStore(tmp_path) as again:
        assert ids(again.day(DAY)) == ["p1"] and ids(again.main, "head") == ["e1"]


WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date
    from gateway_core.store import DataStore, wal
    store = DataStore(sys.argv[1])
    day = date(2026, 12, 6)
    for n in range(5):
        with store.unit(day):
            store.day(day).table("payments").insert({"id": f"p{n}"})
            store.main.table("head").insert({"id": f"p{n}"})
        print(n, flush=True)
    if sys.argv[2] == "cut":  # the process dies in the middle of writing the entry
        def half(fd, data):
            os.write(fd, data[: len(data) // 2])
            os._exit(9)
        wal._write_all = half
    else:  # written whole, killed before the fdatasync
        os.fdatasync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
    with store.unit(day):
        store.day(day).table("payments").insert({"id": "p5"})
        store.main.table("head").insert({"id": "p5"})
    print("acknowledged", flush=True)
    """
)


@pytest.mark.parametrize("how", ["cut", "unsynced"])
def test_a_unit_killed_while_written_is_all_there_or_none_of_it(tmp_path: Path, how: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", WRITER, str(tmp_path), how], capture_output=True, text=True
    )
    assert proc.returncode in (9, -signal.SIGKILL), proc.stderr[-2000:]
    assert "acknowledged" not in proc.stdout
    with DataStore(tmp_path) as store:
        whole = [f"p{n}" for n in range(5)] + (["p5"] if how == "unsynced" else [])
        assert ids(store.day(DAY)) == whole and ids(store.main, "head") == whole
        torn = [note for note in store.recovered if "torn last entry" in note]
        assert len(torn) == (how == "cut")


def test_damage_before_the_last_entry_refuses_to_open(tmp_path: Path) -> None:
    store = DataStore(tmp_path)
    for n in range(3):
        store.day(DAY).table("payments").insert({"id": f"p{n}"})
    crash(store)
    wal = tmp_path / "db" / "wal.jsonl"
    lines = wal.read_bytes().splitlines(keepends=True)
    wal.write_bytes(lines[0] + lines[1].replace(b"p1", b"p9") + lines[2])
    with pytest.raises(journal.StorageCorrupt, match=r"wal\.jsonl is damaged at line 2"):
        DataStore(tmp_path)


def test_a_grown_log_is_folded_into_the_snapshots(tmp_path: Path) -> None:
    store = DataStore(tmp_path)
    store.wal_limit = 2_000
    for n in range(60):
        with store.unit(DAY):
            store.day(DAY).table("payments").insert({"id": f"p{n}"})
            store.main.table("head").insert({"id": f"p{n}"})
    assert store.wal.path.stat().st_size < 2_000 + 200  # folded, again and again
    assert (tmp_path / "db" / "days" / f"{DAY}.snapshot.json").exists()
    crash(store)
    with DataStore(tmp_path) as again:
        want = [f"p{n}" for n in range(60)]
        assert ids(again.day(DAY)) == want and ids(again.main, "head") == want


def test_days_open_lazily_and_a_reader_sees_what_the_writer_committed(tmp_path: Path) -> None:
    other = date(2026, 12, 5)
    with DataStore(tmp_path) as store:
        store.day(other).table("payments").insert({"id": "old"})
    writer = DataStore(tmp_path)
    assert list(writer._days) == []  # a clean day is not read to open
    with writer.unit(DAY):
        writer.day(DAY).table("payments").insert({"id": "p1"})
        writer.main.table("head").insert({"id": "p1"})
    with writer.unit(DAY, durable=False):
        writer.day(DAY).table("payments").insert({"id": "p2"})
    with DataStore(tmp_path, read_only=True) as reader:
        assert reader.days() == [other, DAY]
        assert ids(reader.day(DAY)) == ["p1", "p2"] and ids(reader.main, "head") == ["p1"]
        assert ids(reader.day(other)) == ["old"]
    writer.close()


def test_a_reader_meeting_a_checkpoint_sees_every_committed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = DataStore(tmp_path)
    for n in range(3):
        with writer.unit(DAY):
            writer.day(DAY).table("payments").insert({"id": f"p{n}"})
    writer.checkpoint()
    with writer.unit(DAY):
        writer.day(DAY).table("payments").insert({"id": "p3"})  # in the log only
    left = [1]

    class SnapshotThenCheckpoint(journal.Snapshot):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            if left[0]:  # between the reader's main snapshot and its read of the log
                left[0] -= 1
                with writer.unit(DAY):
                    writer.day(DAY).table("payments").insert({"id": "p4"})
                writer.checkpoint()
                with writer.unit(DAY):
                    writer.day(DAY).table("payments").insert({"id": "p5"})

    monkeypatch.setattr(journal, "Snapshot", SnapshotThenCheckpoint)
    with DataStore(tmp_path, read_only=True) as reader:
        assert ids(reader.day(DAY)) == [f"p{n}" for n in range(6)]
    assert left == [0]
    writer.close()


CHECKPOINT_AND_DIE = textwrap.dedent(
    """
    import os, sys
    from datetime import date
    from gateway_core.store import DataStore
    step, occurrence = sys.argv[2], int(sys.argv[3])
    def hook(at):
        global occurrence
        if at == step:
            occurrence -= 1
            if not occurrence:
                os._exit(9)
    store = DataStore(sys.argv[1], crash_hook=hook)
    day = date(2026, 12, 6)
    start = len(store.main.table("head"))
    for n in range(start, start + 20):
        with store.unit(day):
            store.day(day).table("payments").insert({"id": f"p{n}"})
            store.main.table("head").insert({"id": f"p{n}"})
    print("acked", start + 20, flush=True)
    store.checkpoint()
    print("survived", flush=True)
    """
)
STEPS = ["snapshot-half-written", "snapshot-written", "snapshot-renamed", "directory-synced"]


@pytest.mark.parametrize(
    ("step", "occurrence"),
    [*((s, 1) for s in STEPS), *((s, 2) for s in STEPS), ("journal-trimmed", 1)],
)
@pytest.mark.parametrize("earlier", [False, True], ids=["first", "after-a-checkpoint"])
def test_a_checkpoint_killed_at_any_step_loses_nothing(
    tmp_path: Path, step: str, occurrence: int, earlier: bool
) -> None:
    """Occurrence 1 of a snapshot step is the day's, 2 the main database's."""
    rounds = 2 if earlier else 1
    for _ in range(rounds):
        proc = subprocess.run(
            [sys.executable, "-c", CHECKPOINT_AND_DIE, str(tmp_path), step, str(occurrence)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 9, proc.stderr[-2000:]
        acked = int(proc.stdout.split()[1])
        with DataStore(tmp_path) as store:  # a clean close: the next round starts folded
            want = [f"p{n}" for n in range(acked)]
            assert ids(store.day(DAY)) == want and ids(store.main, "head") == want
            assert not list((tmp_path / "db").rglob("*.tmp"))


def old_data_dir(tmp_path: Path) -> Path:
    shutil.copytree(OLD / "db", tmp_path / "db")
    return tmp_path


def assert_old_data(store: DataStore) -> None:
    assert ids(store.main, "tokens") == ["tok1", "tok2"]
    assert ids(store.day(date(2026, 11, 1))) == [f"a{i}" for i in range(30)]
    assert [(d["id"], d.get("amount")) for d in store.day(date(2026, 11, 2)).table("payments")] == [
        ("b0", 5),
        ("b1", None),
    ]
    assert ids(store.day(date(2026, 11, 3))) == ["c0"]


def test_an_old_data_dir_is_carried_over_with_nothing_lost(tmp_path: Path) -> None:
    data_dir = old_data_dir(tmp_path)
    with open(data_dir / "db" / "days" / "2026-11-03.journal.jsonl", "ab") as fh:
        fh.write(b'{"n":2,"crc":1,"ops":[["put"')  # a torn tail, as a crash leaves
    with DataStore(data_dir, read_only=True) as reader:  # read as it is, changed in nothing
        assert_old_data(reader)
    assert len(list(data_dir.rglob("*.journal.jsonl"))) == 4
    store = DataStore(data_dir)
    assert any("torn last entry" in note for note in store.recovered)
    assert not list(data_dir.rglob("*.journal.jsonl"))
    assert_old_data(store)
    # entry numbers now start above every snapshot's (day A's: 30): a new write to an
    # old day is replayed after a crash, not taken for one its snapshot holds
    store.day(date(2026, 11, 1)).table("payments").insert({"id": "late-refund"})
    crash(store)
    with DataStore(data_dir) as again:
        assert ids(again.day(date(2026, 11, 1)))[-1] == "late-refund"
        assert again.recovered == []


MIGRATE_AND_DIE = textwrap.dedent(
    """
    import os, sys
    from gateway_core.store import DataStore
    def hook(at):
        if at == sys.argv[2]:
            os._exit(9)
    DataStore(sys.argv[1], crash_hook=hook).close()
    """
)


@pytest.mark.parametrize(
    "step", ["snapshot-renamed", "journals-compacted", "main-renumbered", "journals-deleted"]
)
def test_a_carry_over_killed_at_any_step_loses_nothing(tmp_path: Path, step: str) -> None:
    data_dir = old_data_dir(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", MIGRATE_AND_DIE, str(data_dir), step], capture_output=True
    )
    assert proc.returncode == 9, proc.stderr[-2000:]
    with DataStore(data_dir) as store:
        assert_old_data(store)
    assert not list(data_dir.rglob("*.journal.jsonl"))
