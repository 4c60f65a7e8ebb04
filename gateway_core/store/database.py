"""The data dir: a long-lived `main` database plus one database per business day, and
the write-ahead log they share.

```
<data_dir>/paygate.lock, writer.json      writer lock (see lock.py)
<data_dir>/db/wal.jsonl                   every change since the last checkpoint
<data_dir>/db/main.snapshot.json          tokens, audit head, users, settings
<data_dir>/db/days/YYYY-MM-DD.*           that day's payments and audit events
```

One unit of work (a sale's step: its day and the main database) is one entry of the log
and one fdatasync, shared with concurrent committers. A day's snapshot is read only
when the day is used, so today's writes never pay for history. A writer holds the data
dir's lock; a read-only open takes no lock and cannot write. Files are made at the first
write, never by a read (directories 0700, files 0600, whatever the umask); at most
`MAX_OPEN_DAYS` days are open at once, the least recently used closed first. A data
dir of the old layout (one journal per database) is carried over by its first writer
(migrate.py) and read as it is by readers.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from gateway_core.errors import InputError
from gateway_core.store.files import make_private_dir
from gateway_core.store.journal import JournalStorage, StorageCorrupt, snapshot_id
from gateway_core.store.lock import WriterLock
from gateway_core.store.migrate import migrate, old_journals
from gateway_core.store.table import JournaledTable
from gateway_core.store.unit import deferring, unit
from gateway_core.store.wal import Entry, Wal

MAX_OPEN_DAYS = 16  # each may hold a snapshot descriptor
_READ_ATTEMPTS = 5  # reads of a data dir a writer checkpoints meanwhile


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
    and `shared_wal` says whether the databases share the write-ahead log (benchmarks
    run the same code over SQLite and stock TinyDB by changing these). `crash_hook` is
    for tests: called with the name of each checkpoint step. The log is folded into the
    snapshots at close and when it outgrows `wal_limit` bytes.
    """

    db_class: type[TinyDB] = JournaledDB
    storage_class: type = JournalStorage
    day_file = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(snapshot\.json|journal\.jsonl)$")
    shared_wal = True
    wal_limit = 64 << 20

    def __init__(
        self,
        data_dir: Path,
        *,
        read_only: bool = False,
        create: bool = True,
        crash_hook: Callable[[str], None] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.read_only = read_only
        self.db_dir = self.data_dir / "db"
        self.days_dir = self.db_dir / "days"
        self._crash_hook = crash_hook or (lambda step: None)
        self._lock: WriterLock | None = None
        self._days: OrderedDict[date, JournaledDB] = OrderedDict()  # least recent first
        self._days_lock = threading.RLock()
        self._main: JournaledDB | None = None
        self.wal: Wal | None = None
        self._pending: dict[str, list[Entry]] = {}  # the log's entries, by database
        self._notes: list[str] = []
        if (read_only or not create) and not self.has_data(self.data_dir):
            raise NoDataDir(f"no paygate data in {self.data_dir}")
        if not read_only:
            make_private_dir(self.data_dir)
            self._lock = WriterLock(self.data_dir)
            self._lock.acquire()
            make_private_dir(self.db_dir)
        try:
            self._open_all()
        except BaseException:
            self.close()
            raise

    def _open_all(self) -> None:
        wal_path = self.db_dir / "wal.jsonl"
        old = old_journals(self.db_dir)
        if not self.shared_wal or (self.read_only and old and not wal_path.exists()):
            self._main = self._open(self.db_dir, "main")  # one journal per database
            return
        self.wal = Wal(wal_path, "wal", read_only=self.read_only, shared=True)
        self.wal.on_grown = self._grown
        if old and not self.read_only:
            self._notes += migrate(self.db_dir, self.wal, self._crash_hook)
        self._main = self._open_main()
        if not wal_path.exists() and (self.db_dir / "main.snapshot.json").exists():
            self._notes.append(
                f"{wal_path.name} is missing: only what was folded into the snapshots is "
                "here; later changes may be lost"
            )
        if not self.read_only:
            for key in list(self._pending):
                if key != "main":
                    self.day(date.fromisoformat(key))  # replayed and reported now

    def _open_main(self) -> JournaledDB:
        """The main database and the log: a reader may meet a writer's checkpoint
        between the two (snapshots replaced, then the log trimmed), so it checks the
        main snapshot it read is still the one in place, and reads again if not."""
        snapshot = self.db_dir / "main.snapshot.json"
        for _attempt in range(_READ_ATTEMPTS):
            read_id = snapshot_id(snapshot)
            try:
                main = self._open(self.db_dir, "main", entries=self._read_wal)
            except StorageCorrupt:
                if not self.read_only or snapshot_id(snapshot) == read_id:
                    raise
                continue
            if not self.read_only or snapshot_id(snapshot) == read_id:
                return main
            main.close()
        raise StorageCorrupt("store main kept changing while it was read; try again")

    def _read_wal(self, after: int) -> list[Entry]:
        """Read the log from the main snapshot's entry `after`: main's entries, the
        others kept for their days."""
        assert self.wal is not None
        self.wal.recovered = []
        found: defaultdict[str, list[Entry]] = defaultdict(list)
        for n, parts in self.wal.read(after):
            for key, ops in parts.items():
                found[key].append((n, ops))
        self._pending = dict(found)
        return self._pending.pop("main", [])

    def _day_entries(self, key: str) -> Callable[[int], list[Entry]]:
        """A day's entries after its snapshot's: taken by a writer (then in memory or
        in a snapshot), kept by a reader (it may close the day and open it again)."""

        def entries(after: int) -> list[Entry]:
            held = self._pending.get(key, []) if self.read_only else self._pending.pop(key, [])
            return [entry for entry in held if entry[0] > after]

        return entries

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

    def _open(
        self,
        directory: Path,
        name: str,
        *,
        packed: bool = False,
        entries: Callable[[int], list[Entry]] | None = None,
    ) -> JournaledDB:
        shared: dict[str, Any] = {}
        if self.wal is not None:
            shared = {"wal": self.wal, "entries": entries, "crash_hook": self._crash_hook}
        return self.db_class(
            directory,
            name,
            storage=self.storage_class,
            read_only=self.read_only,
            packed=packed,
            **shared,
        )

    def day(self, day: date) -> JournaledDB:
        """The database of one business day (its files made at its first write), packed:
        its documents are held as JSON bytes."""
        with self._days_lock:
            db = self._days.get(day)
            if db is None:
                self._close_least_used()
                key = day.isoformat()
                db = self._open(self.days_dir, key, packed=True, entries=self._day_entries(key))
                self._days[day] = db
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
        """Whether a day has data (changes in memory or in the log, or files)."""
        db = self._days.get(day)
        if db is not None and isinstance(db.journal, JournalStorage) and db.journal.seq:
            return True
        return day.isoformat() in self._pending or any(
            self.day_file.match(p.name) for p in self.days_dir.glob(f"{day.isoformat()}.*")
        )

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
        found = {date.fromisoformat(key) for key in self._pending if key != "main"}
        if self.days_dir.is_dir():
            found |= {
                date.fromisoformat(m.group(1))
                for p in self.days_dir.iterdir()
                if (m := self.day_file.match(p.name))
            }
        return sorted(found | set(self._days))

    def check(self) -> list[str]:
        """What is missing or damaged in the data files, one line each (empty when
        nothing is): every table of every snapshot is read and checked against its
        CRC, and a main database whose snapshot is gone is named (the log, emptied by
        the checkpoint that wrote the snapshot, is still there)."""
        problems = []
        snapshot = self.db_dir / "main.snapshot.json"
        log = self.db_dir / ("wal.jsonl" if self.wal is not None else "main.journal.jsonl")
        if _empty(log) and not snapshot.exists():
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
            own = journal.own_journal and journal.snapshot_path.exists()
            if own and not journal.journal_path.exists():
                problems.append(
                    f"{journal.journal_path} is missing: changes after its last "
                    "compaction may be lost; restore it from a backup"
                )
        if self.wal is not None and snapshot.exists() and not self.wal.path.exists():
            problems.append(
                f"{self.wal.path} is missing: changes after the last checkpoint may be "
                "lost; restore it from a backup"
            )
        return problems

    @property
    def recovered(self) -> list[str]:
        """What opening had to repair (torn journal tails dropped), for the operator."""
        notes = [note for db in self._open_dbs() for note in db.journal.recovered]
        return [*self._notes, *(self.wal.recovered if self.wal else []), *notes]

    # -- units of work -------------------------------------------------------------
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
        the fdatasyncs (group commit): one covers every entry written before it began.
        Inside a `sync_deferred` block, left to its end."""
        wals = self._wals()
        if deferring(wals):
            return
        for wal in wals:
            wal.sync()

    async def synced(self) -> None:
        """`sync` awaited without blocking the event loop (the fdatasync runs in a
        thread; concurrent awaiters share it). Inside a `sync_deferred` block, left to
        its end."""
        wals = self._wals()
        if deferring(wals):
            return
        for wal in wals:
            await wal.synced()

    def _wals(self) -> list[Wal]:
        if self.wal is not None:
            return [self.wal]
        journals = [db.journal for db in self._open_dbs()]
        return list(dict.fromkeys(j.wal for j in journals if isinstance(j, JournalStorage)))

    # -- checkpoints ---------------------------------------------------------------
    def _grown(self) -> None:
        """After each unit: fold a log grown past `wal_limit` into the snapshots, unless
        a database is in use (the next unit tries again)."""
        if self.wal is not None and self.wal.size >= self.wal_limit:
            self.checkpoint(wait=False)

    def checkpoint(self, *, wait: bool = True) -> None:
        """Fold the log into the snapshots, then empty it; a crash at any step loses
        nothing. Every database holding changes the log has (and main, whose snapshot
        says where the log starts) gets a snapshot as of the log's last entry; the log
        is trimmed only then. It holds every open database's lock (`wait`: until each is
        free; else it gives up at once if one is in use) and no day opens meanwhile."""
        wal = self.wal
        if wal is None or self.read_only or self._main is None:
            return
        with self._days_lock, contextlib.ExitStack() as held:
            journals = [self.main.journal, *(db.journal for db in self._days.values())]
            for journal in journals:
                if not journal.lock.acquire(blocking=wait):
                    return
                held.callback(journal.lock.release)
            if not wait and wal.size < self.wal_limit:
                return  # another thread did it
            if not wal.entries and self.main.journal.snapshot_seq == wal.seq:
                return
            with wal.lock:
                for journal in journals[1:]:
                    if journal.journal_lines:
                        journal.compact()
                self.main.journal.compact()
                wal.trim(self._crash_hook)

    def close(self) -> None:
        """Checkpoint and close every open database, then release the writer lock."""
        try:
            try:
                if self.wal is not None and not self.read_only and self.wal.healthy:
                    self.checkpoint()
            finally:
                for db in self._open_dbs():
                    db.close()
                self._days.clear()
                self._main = None
                if self.wal is not None:
                    self.wal.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> DataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _empty(path: Path) -> bool:
    return path.exists() and path.stat().st_size == 0
