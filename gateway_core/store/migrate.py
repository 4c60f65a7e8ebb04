"""Carry a data dir from one journal per database to the shared write-ahead log.

Before `db/wal.jsonl`, each database had its own `<name>.journal.jsonl` whose entry
numbers counted that database's changes alone. A writer opening such a data dir:

1. opens each database whose journal holds entries on its own and compacts it: its
   snapshot then holds everything, its journal is empty (a torn tail is dropped and
   reported as on any open);
2. rewrites the main snapshot with `n` = the largest `n` of every snapshot, so that the
   log's numbers start above every database's (an entry is replayed into a database
   only when its `n` is above that database's snapshot);
3. creates the empty log, then deletes the old journals (main's last).

A crash at any step leaves old journals behind: the next writer starts again at 1,
finding nothing left to compact. Readers read an old data dir as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gateway_core.store.files import fsync_dir
from gateway_core.store.journal import JournalStorage, reading_snapshot
from gateway_core.store.snapshot import Snapshot
from gateway_core.store.wal import Wal

OLD_JOURNAL = ".journal.jsonl"


def old_journals(db_dir: Path) -> list[Path]:
    """The per-database journals of the old layout (days first, main last)."""
    days = sorted((db_dir / "days").glob(f"*{OLD_JOURNAL}")) if (db_dir / "days").is_dir() else []
    main = db_dir / f"main{OLD_JOURNAL}"
    return [*days, *([main] if main.exists() else [])]


def migrate(db_dir: Path, wal: Wal, crash_hook: Callable[[str], None]) -> list[str]:
    """Fold the old journals into snapshots and start the shared log; what opening them
    repaired, one note each."""
    notes: list[str] = []
    journals = old_journals(db_dir)
    for path in journals:
        if path.stat().st_size:
            name = path.name.removesuffix(OLD_JOURNAL)
            storage = JournalStorage(
                path.parent, name, packed=name != "main", crash_hook=crash_hook
            )
            notes += storage.recovered
            storage.close()  # compacts
    crash_hook("journals-compacted")
    snapshots = [db_dir / "main.snapshot.json", *(db_dir / "days").glob("*.snapshot.json")]
    base = max((_entry_of(path) for path in snapshots if path.exists()), default=0)
    main = JournalStorage(db_dir, "main")
    main.wal.seq = base
    main.compact()
    main.close()
    crash_hook("main-renumbered")
    wal.open_writer()
    for path in old_journals(db_dir):
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)
    crash_hook("journals-deleted")
    return notes


def _entry_of(path: Path) -> int:
    with reading_snapshot(path):
        snapshot = Snapshot(path)
    snapshot.close()
    return snapshot.n
