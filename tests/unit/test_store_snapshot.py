"""Snapshot files (format 2: a line per document, an index, a checked footer) and the
packed day databases that hold documents as JSON bytes."""

from __future__ import annotations

import contextlib
from datetime import date

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import load_snapshot

from gateway_core.store import DataStore, JournalStorage, StorageCorrupt
from gateway_core.store.documents import column_index, documents, newest
from gateway_core.store.snapshot import SNAPSHOT_DAMAGE, pack, read_snapshot, snapshot_chunks

json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
doc = st.dictionaries(st.text(max_size=6), json_value, max_size=4)
tables = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.dictionaries(st.integers(1, 10**6).map(str), doc, max_size=6),
    max_size=3,
)


def snapshot_of(seq: int, data: dict) -> bytes:
    return b"".join(snapshot_chunks(seq, data))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9), tables)
def test_a_snapshot_reads_back_as_written(tmp_path_factory, seq, data):
    path = tmp_path_factory.mktemp("snap") / "x.snapshot.json"
    path.write_bytes(snapshot_of(seq, data))
    assert read_snapshot(path) == (seq, data)
    n, packed = read_snapshot(path, pack)
    assert n == seq
    assert {t: {k: orjson.loads(v) for k, v in d.items()} for t, d in packed.items()} == data


@settings(max_examples=400, deadline=None)
@given(tables, st.data())
def test_any_changed_byte_is_refused(tmp_path_factory, data, draw):
    good = snapshot_of(7, data)
    at = draw.draw(st.integers(0, len(good) - 1))
    new = draw.draw(st.integers(0, 255).filter(lambda b: b != good[at]))
    path = tmp_path_factory.mktemp("snap") / "x.snapshot.json"
    path.write_bytes(good[:at] + bytes([new]) + good[at + 1 :])
    with pytest.raises(SNAPSHOT_DAMAGE):
        read_snapshot(path)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_read_or_are_refused_never_crash(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("snap") / "x.snapshot.json"
    path.write_bytes(raw)
    with contextlib.suppress(SNAPSHOT_DAMAGE):
        read_snapshot(path)


def test_a_cut_snapshot_is_refused_at_every_length(tmp_path):
    good = snapshot_of(3, {"payments": {str(i): {"id": f"p{i}"} for i in range(1, 30)}})
    path = tmp_path / "x.snapshot.json"
    for cut in range(len(good)):
        path.write_bytes(good[:cut])
        with pytest.raises(SNAPSHOT_DAMAGE):
            read_snapshot(path)


def test_a_format_1_snapshot_opens_and_is_rewritten_as_format_2(tmp_path):
    db_dir = tmp_path / "db" / "days"
    db_dir.mkdir(parents=True)
    old = {"format": 1, "n": 2, "tables": {"payments": {"1": {"id": "p1"}, "2": {"id": "p2"}}}}
    (db_dir / "2026-11-28.snapshot.json").write_bytes(orjson.dumps(old))
    (db_dir / "2026-11-28.journal.jsonl").write_bytes(b"")
    with DataStore(tmp_path) as store:
        table = store.day(date(2026, 11, 28)).table("payments")
        assert [d["id"] for d in table.all()] == ["p1", "p2"]
        table.insert({"id": "p3"})
    snap = load_snapshot(db_dir / "2026-11-28.snapshot.json")
    assert snap["n"] == 3
    assert snap["tables"]["payments"] == {"1": {"id": "p1"}, "2": {"id": "p2"}, "3": {"id": "p3"}}


def test_a_damaged_snapshot_of_a_day_is_refused(tmp_path):
    day = date(2026, 11, 28)
    with DataStore(tmp_path) as store:
        store.day(day).table("payments").insert({"id": "p1", "amount": 100})
    path = tmp_path / "db" / "days" / "2026-11-28.snapshot.json"
    path.write_bytes(path.read_bytes().replace(b'"amount":100', b'"amount":900'))
    with DataStore(tmp_path) as store:
        db = store.day(day)  # its index and footer are sound: the table is read when used
        with pytest.raises(StorageCorrupt, match="is damaged"):
            db.table("payments").all()
    path.write_bytes(path.read_bytes()[:-10])  # a cut footer is found at once
    with DataStore(tmp_path) as store, pytest.raises(StorageCorrupt, match="is damaged"):
        store.day(day)


def test_a_packed_day_reads_each_table_when_first_used(tmp_path):
    day = date(2026, 11, 28)
    with DataStore(tmp_path) as store:
        store.day(day).table("payments").insert({"id": "p1"})
        store.day(day).table("audit").insert({"seq": 1})
    with DataStore(tmp_path) as store:
        storage = store.day(day).journal
        assert storage._snapshot.pending == ["payments", "audit"]
        assert store.day(day).table("payments").all() == [{"id": "p1"}]
        assert storage._snapshot.pending == ["audit"]
        store.day(day).table("audit").insert({"seq": 2})  # a write reads the table first
        assert storage._snapshot.pending == []
    snap = load_snapshot(tmp_path / "db" / "days" / "2026-11-28.snapshot.json")
    assert snap["tables"] == {
        "payments": {"1": {"id": "p1"}},
        "audit": {"1": {"seq": 1}, "2": {"seq": 2}},
    }


def test_a_packed_day_holds_bytes_and_hands_out_dicts_of_their_own(tmp_path):
    with DataStore(tmp_path) as store:
        db = store.day(date(2026, 11, 28))
        assert isinstance(db.journal, JournalStorage) and db.journal.packed
        assert not store.main.journal.packed
        table = db.table("payments")
        table.insert({"id": "p1", "card": {"last4": "4242"}})
        assert db.journal.table("payments") == {"1": b'{"id":"p1","card":{"last4":"4242"}}'}
        for got in (table.get(doc_id=1), table.all()[0], documents(table)[0]):
            got["card"]["last4"] = "0000"
        table.update({"status": "ok"}, doc_ids=[1])
        assert table.all() == [{"id": "p1", "card": {"last4": "4242"}, "status": "ok"}]
        table.update({"status": "ok"}, doc_ids=[1])  # no change: nothing written
        lines = db.journal.journal_lines
        table.update({"status": "ok"}, doc_ids=[1])
        assert db.journal.journal_lines == lines


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=6), st.booleans(), st.dictionaries(st.text(max_size=4), doc)),
        max_size=8,
    )
)
def test_a_column_index_is_what_decoding_each_document_gives(tmp_path_factory, rows):
    """Ids sliced from the bytes where `id` comes first, decoded where it does not or
    where its text holds an escape."""
    path = tmp_path_factory.mktemp("store")
    with DataStore(path) as store:
        table = store.day(date(2026, 11, 28)).table("payments")
        for n, (text, first, rest) in enumerate(rows):
            pid = f"{text}#{n}"  # unique
            rest = {k: v for k, v in rest.items() if k != "id"}
            table.insert({"id": pid, **rest} if first else {**rest, "id": pid})
        expected = {d["id"]: d.doc_id for d in table.all()}
        assert column_index(table, "id") == expected


def test_the_newest_document_of_an_unread_table_is_read_alone(tmp_path):
    day = date(2026, 11, 28)
    with DataStore(tmp_path) as store:
        store.day(day).table("audit").insert_multiple(
            {"seq": n, "x": "y" * n} for n in range(1, 500)
        )
    with DataStore(tmp_path) as store:
        assert newest(store.day(day).table("audit")) == {"seq": 499, "x": "y" * 499}
        assert store.day(day).journal._snapshot.pending == ["audit"]  # still not read
    path = tmp_path / "db" / "days" / "2026-11-28.snapshot.json"
    data = path.read_bytes()
    last = data.rindex(b'{"seq":499')
    path.write_bytes(data[:last] + b"#" + data[last + 1 :])
    with DataStore(tmp_path) as store, pytest.raises(StorageCorrupt, match="is damaged"):
        newest(store.day(day).table("audit"))
