"""The data dir: a long-lived `main` database plus one database per business day.

```
<data_dir>/paygate.lock, writer.json      writer lock (see lock.py)
<data_dir>/db/main.*                      tokens, audit head, users, settings
<data_dir>/db/days/YYYY-MM-DD.*           that day's payments and audit events
```

Today's writes go to today's file set only, so they never pay for history. A writer
holds the data dir's lock; a read-only open takes no lock and cannot write. Files are
made at the first write, never by a read (directories 0700, files 0600, whatever the
umask); at most `MAX_OPEN_DAYS` days are open at once, the least recently used closed
first.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from tinydb import TinyDB

from gateway_core.errors import InputError
from gateway_core.store.files import make_private_dir
from gateway_core.store.journal import JournalStorage, StorageCorrupt
from gateway_core.store.lock import WriterLock
from gateway_core.store.table import JournaledTable
from gateway_core.store.unit import unit
from gateway_core.store.wal import Wal

MAX_OPEN_DAYS = 16  # each holds a journal and maybe a snapshot descriptor


class NoDataDir(InputError):
    """A data dir that holds no paygate data, opened by a command that needs some."""


class JournaledDB(TinyDB):
    """TinyDB on a `JournalStorage` with journaled tables."""

    table_class = JournaledTable

    @property
    def journal(self) -> JournalStorage:
        """The storage under this database."""
        return self.storage  # type: ignore[return-value]  # TinyDB types it as its base Storage


class DataStore:
    """Opens the databases of a data dir; one writer per dir, any number of readers.

    `db_class` and `storage_class` make a database; `day_file` matches a day's file names
    (benchmarks run the same code over SQLite and stock TinyDB by changing these three).
    """

    db_class: type[TinyDB] = JournaledDB
    storage_class: type = JournalStorage
    day_file = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(snapshot\.json|journal\.jsonl)$")

    def __init__(self, data_dir: Path, *, read_only: bool = False, create: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.read_only = read_only
        self.db_dir = self.data_dir / "db"
        self.days_dir = self.db_dir / "days"
        self._lock: WriterLock | None = None
        self._days: OrderedDict[date, JournaledDB] = OrderedDict()  # least recent first
        self._days_lock = threading.RLock()
        self._main: JournaledDB | None = None
        if (read_only or not create) and not self.has_data(self.data_dir):
            raise NoDataDir(f"no paygate data in {self.data_dir}")
        if not read_only:
            make_private_dir(self.data_dir)
            self._lock = WriterLock(self.data_dir)
            self._lock.acquire()
            make_private_dir(self.db_dir)
        try:
            self._main = self._open(self.db_dir, "main")
            if not read_only:
                for day in self._unclean_days():
                    self.day(day)  # a torn tail is repaired and reported now, not later
        except BaseException:
            self.close()
            raise

    @staticmethod
    def has_data(data_dir: Path) -> bool:
        """Whether a data dir holds paygate data (its databases were ever written)."""
        return (Path(data_dir) / "db").is_dir()

    @property
    def main(self) -> JournaledDB:
        """The long-lived database: tokens, users, the audit head."""
        assert self._main is not None, "store is closed"
        return self._main

    def _open_dbs(self) -> list[JournaledDB]:
        return [*self._days.values(), *([self._main] if self._main is not None else [])]

    def _open(self, directory: Path, name: str, *, packed: bool = False) -> JournaledDB:
        return self.db_class(
            directory, name, storage=self.storage_class, read_only=self.read_only, packed=packed
        )

    def day(self, day: date) -> JournaledDB:
        """The database of one business day (its files made at its first write), packed:
        its documents are held as JSON bytes."""
        with self._days_lock:
            db = self._days.get(day)
            if db is None:
                self._close_least_used()
                db = self._days[day] = self._open(self.days_dir, day.isoformat(), packed=True)
            self._days.move_to_end(day)
            return db

    def existing_day(self, day: date) -> JournaledDB | None:
        """The database of a day that has data, None for any other day (a lookup of a
        day with no data opens and creates nothing)."""
        with self._days_lock:
            if day in self._days or self.has_day(day):
                return self.day(day)
        return None

    def has_day(self, day: date) -> bool:
        """Whether a day has files in the data dir."""
        return any(self.day_file.match(p.name) for p in self.days_dir.glob(f"{day.isoformat()}.*"))

    def _close_least_used(self) -> None:
        """Close days until there is room for one more, least recently used first; a day
        in use (inside a block of writes, or held by another thread) stays open."""
        for day in list(self._days):
            if len(self._days) < MAX_OPEN_DAYS:
                return
            journal = self._days[day].journal
            if not isinstance(journal, JournalStorage):
                continue  # a baseline's storage (benchmarks/): kept open
            held_here = journal.lock._is_owned()  # type: ignore[attr-defined]  # RLock's own
            if held_here or not journal.lock.acquire(blocking=False):
                continue  # this thread is inside it, or another thread is
            try:
                if journal.idle:
                    self._days.pop(day).close()
            finally:
                journal.lock.release()

    def days(self) -> list[date]:
        """Every business day that has data, oldest first."""
        if not self.days_dir.is_dir():
            return []
        found = {
            date.fromisoformat(m.group(1))
            for p in self.days_dir.iterdir()
            if (m := self.day_file.match(p.name))
        }
        return sorted(found | set(self._days))

    def _unclean_days(self) -> list[date]:
        """Days not left as a clean close leaves them (an empty journal beside the
        snapshot): being written at a crash, so maybe torn, or with their journal gone."""
        return [
            day
            for day in self.days()
            if not _empty(self.days_dir / f"{day.isoformat()}.journal.jsonl")
        ]

    def check(self) -> list[str]:
        """What is missing or damaged in the data files, one line each (empty when
        nothing is): every table of every snapshot is read and checked against its
        CRC, and a main database whose snapshot is gone is named (its journal, emptied
        by the compaction that wrote the snapshot, is still there)."""
        problems = []
        snapshot = self.db_dir / "main.snapshot.json"
        if _empty(self.db_dir / "main.journal.jsonl") and not snapshot.exists():
            problems.append(
                f"{snapshot} is missing: tokens, users and the audit head are gone; "
                "restore it from a backup"
            )
        for db in [self.main, *(self.day(day) for day in self.days())]:
            journal = db.journal
            try:
                journal.read()
            except StorageCorrupt as exc:
                problems.append(str(exc))
            if journal.snapshot_path.exists() and not journal.journal_path.exists():
                problems.append(
                    f"{journal.journal_path} is missing: changes after its last compaction "
                    "may be lost; restore it from a backup"
                )
        return problems

    @contextlib.contextmanager
    def unit(self, *days: date, durable: bool = True) -> Iterator[None]:
        """A unit of work: every write in the block, to the main database and any day,
        is one atomic journal entry (all of it or none after a crash); if the block
        raises, memory is rolled back and nothing is written. The main database and
        `days` are joined (locked) at once, any other database when first written.

        When the block ends the entry is durable (`durable`), or only appended (write(2):
        it survives a killed process, not a power loss) until the next `sync()`. A unit
        opened inside another joins it (the outer one decides `durable`)."""
        with unit(durable=durable), contextlib.ExitStack() as joined:
            joined.enter_context(self.main.journal.atomic())
            for day in sorted(set(days), reverse=True):
                joined.enter_context(self.day(day).journal.atomic())
            yield

    def sync(self) -> None:
        """Block until every entry appended so far is durable. Concurrent callers share
        the fdatasyncs (group commit): one covers every entry written before it began."""
        for wal in self._wals():
            wal.sync()

    async def synced(self) -> None:
        """`sync` awaited without blocking the event loop (the fdatasync runs in a
        thread; concurrent awaiters share it)."""
        for wal in self._wals():
            await wal.synced()

    def _wals(self) -> list[Wal]:
        return list(dict.fromkeys(db.journal.wal for db in self._open_dbs()))

    @property
    def recovered(self) -> list[str]:
        """What opening had to repair (torn journal tails dropped), for the operator."""
        return [note for db in self._open_dbs() for note in db.journal.recovered]

    def close(self) -> None:
        """Compact and close every open database, then release the writer lock."""
        try:
            for db in self._open_dbs():
                db.close()
            self._days.clear()
            self._main = None
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> DataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _empty(path: Path) -> bool:
    return path.exists() and path.stat().st_size == 0
