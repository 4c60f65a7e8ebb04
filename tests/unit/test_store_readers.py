"""A reader (no lock) sees every committed write, even one folded into a new snapshot by
a writer's compaction while the reader was opening: it read the old snapshot, then the
trimmed journal, and would miss what moved between them."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway_core.store import journal
from gateway_core.store.database import JournaledDB
from gateway_core.store.journal import JournalStorage


def open_db(path: Path, **kw) -> JournaledDB:
    return JournaledDB(path, "t", storage=JournalStorage, **kw)


@pytest.mark.parametrize("packed", [False, True], ids=["dicts", "packed"])
@pytest.mark.parametrize("compactions", [1, 2])
def test_reader_meeting_a_compaction_sees_every_committed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packed: bool, compactions: int
) -> None:
    writer = open_db(tmp_path, packed=packed)
    table = writer.table("payments")
    for i in range(3):
        table.insert({"i": i})
    writer.journal.compact()
    for i in range(3, 6):
        table.insert({"i": i})  # committed: in the journal only

    left = [compactions]

    class SnapshotThenCompaction(journal.Snapshot):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            if left[0]:  # the writer compacts between the reader's snapshot and journal
                left[0] -= 1
                table.insert({"i": 100 + left[0]})
                writer.journal.compact()

    monkeypatch.setattr(journal, "Snapshot", SnapshotThenCompaction)
    reader = open_db(tmp_path, read_only=True, packed=packed)
    seen = sorted(doc["i"] for doc in reader.table("payments"))
    assert seen == [0, 1, 2, 3, 4, 5, *sorted(100 + n for n in range(compactions))]


def test_reader_of_a_store_that_never_settles_is_told_to_try_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_db(tmp_path)
    writer.table("t").insert({"i": 0})
    writer.journal.compact()

    class AlwaysCompacting(journal.Snapshot):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            writer.table("t").insert({"i": 1})
            writer.journal.compact()

    monkeypatch.setattr(journal, "Snapshot", AlwaysCompacting)
    with pytest.raises(journal.StorageCorrupt, match="kept changing while it was read"):
        open_db(tmp_path, read_only=True)
