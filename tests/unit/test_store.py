"""The journaled TinyDB store: same behaviour as stock TinyDB, durable, one writer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import load_snapshot
from tinydb import Query, TinyDB
from tinydb.operations import increment
from tinydb.storages import MemoryStorage
from tinydb.table import Document

from gateway_core.store import (
    DataDirBusy,
    DataStore,
    JournaledDB,
    JournalStorage,
    NoDataDir,
    ReadOnlyStore,
    StorageCorrupt,
)


def open_db(path: Path, **kw) -> JournaledDB:
    return JournaledDB(path, "t", storage=JournalStorage, **kw)


def contents(db: TinyDB) -> dict:
    """Every non-empty table (stock TinyDB also lists tables that were only touched)."""
    tables = {name: {d.doc_id: dict(d) for d in db.table(name)} for name in db.tables()}
    return {name: docs for name, docs in sorted(tables.items()) if docs}


# -- same behaviour as stock TinyDB, surviving every reopen -------------------------
docs = st.fixed_dictionaries({"k": st.integers(0, 5), "v": st.text(max_size=5)})
ops = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from("ab"), docs),
    st.tuples(st.just("insert_multiple"), st.sampled_from("ab"), st.lists(docs, max_size=3)),
    st.tuples(st.just("update"), st.sampled_from("ab"), st.integers(0, 5)),
    st.tuples(st.just("increment"), st.sampled_from("ab"), st.integers(0, 5)),
    st.tuples(st.just("remove"), st.sampled_from("ab"), st.integers(0, 5)),
    st.tuples(st.just("remove_id"), st.sampled_from("ab"), st.integers(1, 8)),
    st.tuples(st.just("update_id"), st.sampled_from("ab"), st.integers(1, 8)),
    st.tuples(st.just("upsert_id"), st.sampled_from("ab"), st.tuples(st.integers(1, 8), docs)),
    st.tuples(st.just("upsert"), st.sampled_from("ab"), docs),
    st.tuples(st.just("truncate"), st.sampled_from("ab"), st.none()),
    st.tuples(st.just("drop"), st.sampled_from("ab"), st.none()),
    st.tuples(st.just("reopen"), st.sampled_from(["close", "crash"]), st.none()),
)


def apply(db: TinyDB, op: tuple) -> None:
    kind, name, arg = op
    table, q = db.table(name), Query()
    if kind == "insert":
        table.insert(arg)
    elif kind == "insert_multiple":
        table.insert_multiple(arg)
    elif kind == "update":
        table.update({"v": "u"}, q.k == arg)
    elif kind == "increment":
        table.update(increment("k"), q.k == arg)
    elif kind == "remove":
        table.remove(q.k == arg)
    elif kind == "remove_id":
        if table.contains(doc_id=arg):
            table.remove(doc_ids=[arg])
    elif kind == "update_id":  # a missing id is skipped; an unchanged document too
        table.update({"v": "i"}, doc_ids=[arg])
    elif kind == "upsert_id":
        table.upsert(Document(arg[1], doc_id=arg[0]))
    elif kind == "upsert":
        table.upsert(arg, q.k == arg["k"])
    elif kind == "truncate":
        table.truncate()
    elif kind == "drop":
        db.drop_table(name)


def reopened(db: TinyDB) -> TinyDB:
    again = TinyDB(storage=MemoryStorage)
    again.storage.write(db.storage.read())
    return again


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(ops, max_size=25))
@pytest.mark.parametrize("packed", [False, True], ids=["dicts", "packed"])
def test_matches_stock_tinydb_across_reopens(tmp_path_factory, packed, program):
    path = tmp_path_factory.mktemp("db")
    ours, stock = open_db(path, packed=packed), TinyDB(storage=MemoryStorage)
    for op in program:
        if op[0] == "reopen":
            if op[1] == "close":
                ours.close()
            elif ours.journal.wal._fd is not None:  # a crash: nothing flushed or compacted
                os.close(ours.journal.wal._fd)
            ours = open_db(path, packed=packed)
            stock = reopened(stock)  # a reopened TinyDB numbers new documents from its data
        else:
            apply(ours, op)
            apply(stock, op)
        assert contents(ours) == contents(stock)
    ours.close()
    assert contents(open_db(path, read_only=True, packed=packed)) == contents(stock)


def test_each_write_appends_one_line_whatever_the_table_size(tmp_path):
    """Per-write cost does not grow with the table: one journal line, same size."""
    db = open_db(tmp_path)
    table = db.table("payments")
    sizes = []
    for count in (10, 1000, 10_000):
        table.insert_multiple({"n": i} for i in range(count - len(table)))
        before = db.journal.journal_path.stat().st_size
        lines_before = db.journal.journal_lines
        table.insert({"amount": 1250, "currency": "INR"})
        sizes.append(db.journal.journal_path.stat().st_size - before)
        assert db.journal.journal_lines == lines_before + 1
        table.update({"status": "succeeded"}, doc_ids=[len(table)])
    assert max(sizes) - min(sizes) <= 8  # only the digits of seq and doc id grow
    db.close()


@pytest.mark.parametrize("packed", [False, True], ids=["dicts", "packed"])
def test_an_update_by_id_that_changes_nothing_writes_nothing(tmp_path, packed):
    db = open_db(tmp_path, packed=packed)
    table = db.table("payments")
    doc_id = table.insert({"status": "unknown", "card": {"last4": "4242"}})
    lines = db.journal.journal_lines
    assert table.update({"status": "unknown"}, doc_ids=[doc_id, 99]) == [doc_id]
    assert db.journal.journal_lines == lines
    assert table.update({"status": "succeeded"}, doc_ids=[doc_id]) == [doc_id]
    assert db.journal.journal_lines == lines + 1
    assert table.get(doc_id=doc_id) == {"status": "succeeded", "card": {"last4": "4242"}}
    db.close()


def test_failed_updater_changes_nothing(tmp_path):
    db = open_db(tmp_path)
    table = db.table("t")
    table.insert({"a": 1})

    def explode(doc):
        doc["a"] = 2
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        table.update(explode)
    assert table.all() == [{"a": 1}]
    db.close()
    assert open_db(tmp_path, read_only=True).table("t").all() == [{"a": 1}]


def test_failed_journal_write_changes_nothing_and_stops_writes(tmp_path):
    db = open_db(tmp_path)
    table = db.table("t")
    table.insert({"a": 1})
    os.close(db.journal.wal._fd)  # the disk goes away under us
    db.journal.wal._fd = os.open(os.devnull, os.O_RDONLY)
    with pytest.raises(Exception, match="could not write its journal"):
        table.insert({"a": 2})
    assert table.all() == [{"a": 1}]
    with pytest.raises(Exception, match="restart paygate"):
        table.insert({"a": 3})
    assert open_db(tmp_path, read_only=True).table("t").all() == [{"a": 1}]


# -- torn tails and corruption ----------------------------------------------------------
def _journal_with(tmp_path: Path, n: int) -> Path:
    db = open_db(tmp_path)
    for i in range(n):
        db.table("t").insert({"i": i})
    os.close(db.journal.wal._fd)  # crash: no compaction
    return db.journal.journal_path


@pytest.mark.parametrize("cut", [1, 5, 20, -1])
def test_torn_last_line_is_dropped_and_reported(tmp_path, cut):
    journal = _journal_with(tmp_path, 5)
    data = journal.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    journal.write_bytes(data[: last_start + cut] if cut > 0 else data[:-1])

    ro = open_db(tmp_path, read_only=True)
    assert [d["i"] for d in ro.table("t")] == [0, 1, 2, 3]
    assert journal.read_bytes() != data[:last_start]  # read-only opens repair nothing

    db = open_db(tmp_path)
    assert "torn last entry" in db.journal.recovered[0]
    assert journal.read_bytes() == data[:last_start]
    db.table("t").insert({"i": 99})
    db.close()
    assert [d["i"] for d in open_db(tmp_path).table("t")] == [0, 1, 2, 3, 99]


def test_garbage_tail_of_zeros_is_dropped(tmp_path):
    journal = _journal_with(tmp_path, 3)
    with open(journal, "ab") as fh:
        fh.write(b"\0" * 512)
    assert len(open_db(tmp_path).table("t")) == 3


def test_damaged_middle_line_refuses_to_open(tmp_path):
    journal = _journal_with(tmp_path, 5)
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"i":2', b'"i":7')  # bit rot: the CRC no longer matches
    journal.write_bytes(b"".join(lines))
    with pytest.raises(StorageCorrupt, match="line 3"):
        open_db(tmp_path)


def test_missing_entry_refuses_to_open(tmp_path):
    journal = _journal_with(tmp_path, 5)
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:2] + lines[3:]))
    with pytest.raises(StorageCorrupt, match="skips from entry 2 to 4"):
        open_db(tmp_path)


def test_deleted_journal_is_reported(tmp_path):
    db = open_db(tmp_path)
    db.table("t").insert({"i": 1})
    db.close()
    db.journal.journal_path.unlink()
    reopened = open_db(tmp_path)
    assert reopened.table("t").all() == [{"i": 1}]
    assert "is missing" in reopened.journal.recovered[0]


def test_damaged_snapshot_refuses_to_open(tmp_path):
    db = open_db(tmp_path)
    db.table("t").insert({"i": 1})
    db.close()
    db.journal.snapshot_path.write_bytes(b'{"format":1,"n":')
    with pytest.raises(StorageCorrupt, match="snapshot"):
        open_db(tmp_path)


# -- read-only, per-day files, the writer lock ---------------------------------------------
def test_read_only_open_cannot_write(tmp_path):
    with DataStore(tmp_path) as store:
        store.main.table("t").insert({"a": 1})
    ro = DataStore(tmp_path, read_only=True)
    assert ro.main.table("t").all() == [{"a": 1}]
    with pytest.raises(ReadOnlyStore):
        ro.main.table("t").insert({"a": 2})
    ro.close()


def test_read_only_open_of_empty_dir_is_a_clear_error(tmp_path):
    with pytest.raises(NoDataDir, match="no paygate data"):
        DataStore(tmp_path / "nothing", read_only=True)


def test_each_day_has_its_own_file_set(tmp_path):
    with DataStore(tmp_path) as store:
        store.day(date(2026, 11, 27)).table("payments").insert({"id": "p1"})
    yesterday = tmp_path / "db" / "days" / "2026-11-27.snapshot.json"
    before = (yesterday.stat().st_mtime_ns, yesterday.read_bytes())
    with DataStore(tmp_path) as store:
        for i in range(50):
            store.day(date(2026, 11, 28)).table("payments").insert({"id": f"p{i}"})
        assert store.days() == [date(2026, 11, 27), date(2026, 11, 28)]
    assert (yesterday.stat().st_mtime_ns, yesterday.read_bytes()) == before
    today = load_snapshot(tmp_path / "db" / "days" / "2026-11-28.snapshot.json")
    assert len(today["tables"]["payments"]) == 50


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from gateway_core.store import DataStore
    store = DataStore(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.readline()
    """
)


def hold_lock(data_dir: Path) -> subprocess.Popen:
    """Start a process that holds the writer lock of `data_dir` until its stdin closes."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_second_writer_is_refused_with_the_holders_pid(tmp_path):
    holder = hold_lock(tmp_path)
    try:
        with pytest.raises(DataDirBusy, match=f"pid {holder.pid}"):
            DataStore(tmp_path)
        ro = DataStore(tmp_path, read_only=True)  # readers need no lock
        ro.close()
    finally:
        holder.communicate("\n")
    with DataStore(tmp_path):  # released when the holder exits
        pass


def test_lock_is_freed_when_the_holder_is_killed(tmp_path):
    holder = hold_lock(tmp_path)
    holder.kill()
    holder.wait()
    with DataStore(tmp_path):
        pass


# -- atomic blocks ----------------------------------------------------------------------
@pytest.mark.parametrize("packed", [False, True], ids=["dicts", "packed"])
def test_atomic_block_is_one_entry_across_tables(tmp_path, packed):
    db = open_db(tmp_path, packed=packed)
    lines = db.journal.journal_lines
    with db.journal.atomic():
        db.table("a").insert({"x": 1})
        db.table("b").insert({"y": 2})
        db.table("a").update({"x": 3}, doc_ids=[1])
        assert db.table("a").all() == [{"x": 3}]  # the block reads its own writes
    assert db.journal.journal_lines == lines + 1
    os.close(db.journal.wal._fd)  # crash: replay only
    again = open_db(tmp_path, packed=packed)
    assert contents(again) == {"a": {1: {"x": 3}}, "b": {1: {"y": 2}}}


@pytest.mark.parametrize("packed", [False, True], ids=["dicts", "packed"])
def test_atomic_block_that_raises_leaves_nothing(tmp_path, packed):
    db = open_db(tmp_path, packed=packed)
    db.table("a").insert({"x": 1})
    db.table("c").insert({"z": 1})
    before = contents(db)
    with pytest.raises(RuntimeError), db.journal.atomic():
        db.table("a").update({"x": 2})
        db.table("b").insert({"y": 2})
        db.table("a").remove(doc_ids=[1])
        db.drop_table("c")
        raise RuntimeError("the bank said no")
    assert contents(db) == before
    db.close()
    assert contents(open_db(tmp_path, packed=packed)) == before
