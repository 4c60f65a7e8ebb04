"""`sync_deferred`: a bulk load (the demo's history) appends each entry at once and
fdatasyncs each journal once when the block ends; outside it every write is synced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway_core.store import JournaledDB, JournalStorage
from gateway_core.store.journal import sync_deferred


def open_db(path: Path, name: str) -> JournaledDB:
    return JournaledDB(path, name, storage=JournalStorage)


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    done: list[int] = []
    real = os.fdatasync

    def counted(fd: int) -> None:
        done.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counted)
    return done


def test_a_bulk_load_syncs_each_journal_once_at_its_end(tmp_path: Path, syncs) -> None:
    a, b = open_db(tmp_path, "a"), open_db(tmp_path, "b")
    with sync_deferred():
        for n in range(50):
            a.table("t").insert({"n": n})
            b.table("t").insert({"n": n})
        assert syncs == []
        assert len(a.journal.journal_path.read_bytes().splitlines()) == 50  # appended at once
    assert len(syncs) == len(set(syncs)) == 2  # one for each journal
    for db in (a, b):
        db.close()
    assert [d["n"] for d in open_db(tmp_path, "a").table("t")] == list(range(50))


def test_a_bulk_load_keeps_each_entry_atomic(tmp_path: Path, syncs) -> None:
    db = open_db(tmp_path, "a")
    with sync_deferred():
        db.table("t").insert({"n": 1})
        with pytest.raises(RuntimeError), db.journal.atomic():
            db.table("t").insert({"n": 2})
            raise RuntimeError("a step fails")
    assert [d["n"] for d in db.table("t")] == [1]
    assert len(db.journal.journal_path.read_bytes().splitlines()) == 1


def test_outside_a_bulk_load_every_write_is_synced(tmp_path: Path, syncs) -> None:
    db = open_db(tmp_path, "a")
    for n in range(3):
        db.table("t").insert({"n": n})
    assert len(syncs) == 3
