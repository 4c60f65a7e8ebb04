"""A TinyDB `Storage` kept in memory, made durable by an append-only journal.

One database is a snapshot (`<name>.snapshot.json`: every table as of journal entry
`n`, one document per line and a trailer line that checks them; absent until the first
compaction) plus the journal entries after it. The journal is the database's own
(`<name>.journal.jsonl`) or the write-ahead log its data dir's databases share
(`db/wal.jsonl`, see database.py); wal.py reads and writes both, unit.py makes each
block of writes one entry of it. Opening replays the snapshot, then every entry with a
larger `n`. See docs/STORAGE.md.

A *packed* database (the business days: 100k payments and their audit events) keeps
each document in memory as its JSON bytes, decoded when read: a third of the memory
of dicts, and a day opens by splitting lines instead of building millions of objects.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from gateway_core.errors import SystemFailure
from gateway_core.store.files import fsync_dir, make_private_dir
from gateway_core.store.snapshot import (
    SNAPSHOT_DAMAGE,
    Doc,
    Snapshot,
    Tables,
    pack,
    snapshot_chunks,
    unpack,
)
from gateway_core.store.unit import sync_deferred, unit
from gateway_core.store.wal import Entry, Op, ReadOnlyStore, StorageCorrupt, Wal

__all__ = [
    "JournalStorage",
    "Op",
    "ReadOnlyStore",
    "StorageCorrupt",
    "apply_ops",
    "collector_paused",
    "sync_deferred",
]

_READ_ATTEMPTS = 5  # reads of a store a writer is compacting meanwhile


def apply_ops(tables: Tables, ops: list[Op], keep: Callable[[Doc], Doc]) -> None:
    """Apply one change set to in-memory tables (live and during replay alike); `keep`
    turns a put's document into what the database holds (bytes or a dict of its own)."""
    for op in ops:
        kind, name = op[0], op[1]
        if kind == "put":
            tables.setdefault(name, {})[op[2]] = keep(op[3])
        elif kind == "del":
            tables.get(name, {}).pop(op[2], None)
        elif kind == "clear":
            tables[name] = {}
        elif kind == "drop":
            tables.pop(name, None)
        else:
            raise StorageCorrupt(f"unknown journal operation {kind!r}")


def _packed(op: Op) -> Op:
    return [op[0], op[1], op[2], pack(op[3])] if op[0] == "put" else op


@contextlib.contextmanager
def collector_paused(*, keep: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic objects are made
    (a 100k-payment day): with it on, every pass on the way walked them again (a load
    took 1.5x as long).

    `keep`: what was made stays (a loaded database), so file it with the oldest objects
    at once (`freeze` + `unfreeze`) instead of having it walked twice more on its way
    there (1.3 s at 100k). Young garbage cycles made before then wait for the next full
    pass. Skipped if the application froze objects itself (unfreeze would release them).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


class JournalStorage(Storage):
    """TinyDB storage: documents in memory, each change appended to a journal.

    `packed`: documents are held as their JSON bytes (see the module's docstring).
    `wal`: the write-ahead log shared with the data dir's other databases, and
    `entries(n)` gives this database's changes in it after entry `n` (its snapshot's);
    without them the database has a journal of its own. `crash_hook` exists for tests:
    it is called with the name of each compaction step so a test can kill the process
    exactly there.
    """

    def __init__(
        self,
        directory: Path,
        name: str,
        *,
        read_only: bool = False,
        packed: bool = False,
        crash_hook: Callable[[str], None] | None = None,
        wal: Wal | None = None,
        entries: Callable[[int], list[Entry]] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.name = self.key = name
        self.read_only = read_only
        self.packed = packed
        self.keep: Callable[[Doc], Doc] = pack if packed else unpack
        self.snapshot_path = self.directory / f"{name}.snapshot.json"
        self.journal_path = self.directory / f"{name}.journal.jsonl"
        self.own_journal = wal is None
        self.wal = wal or Wal(self.journal_path, name, read_only=read_only)
        self._entries = entries or self.wal.read
        self.recovered: list[str] = []
        self.lock = threading.RLock()
        self._crash_hook = crash_hook or (lambda step: None)
        self._tables: Tables = {}
        self._snapshot: Snapshot | None = None  # tables not read yet (packed databases)
        self._seq = 0
        self._snapshot_seq = 0
        self._journal_lines = 0
        self.batch: list[Op] | None = None
        self._owner = 0  # the thread whose unit collects `batch`
        self._undo: list[tuple[str, str | None, Any]] | None = None
        self._closed = False
        with collector_paused(keep=True):
            self._load()

    # -- opening -----------------------------------------------------------------
    def _load(self) -> None:
        """Read snapshot + journal. A reader (no lock) may meet a writer's compaction
        between the two (the snapshot replaced, then the journal trimmed): it would see
        the old snapshot and the trimmed journal, missing what was folded in between.
        So a reader checks that the snapshot it read is still the one in place, and reads
        again if not. (A database on the shared log is read once: the data dir does
        this check for the log.)"""
        for attempt in range(_READ_ATTEMPTS):
            try:
                self._load_once()
                if self._settled():
                    return
            except StorageCorrupt:
                if self._settled():
                    raise
            if attempt == _READ_ATTEMPTS - 1:
                raise StorageCorrupt(
                    f"store {self.name} kept changing while it was read; try again"
                )
            self._reset()

    def _settled(self) -> bool:
        return (
            not self.read_only
            or not self.own_journal
            or snapshot_id(self.snapshot_path) == self._read_id
        )

    def _reset(self) -> None:
        if self._snapshot is not None:
            self._snapshot.close()
        self._tables, self._snapshot, self.recovered = {}, None, []
        self._seq = self._snapshot_seq = self._journal_lines = 0
        self.wal.recovered = []

    def _load_once(self) -> None:
        self._read_id = snapshot_id(self.snapshot_path)
        tmp = self.snapshot_path.with_suffix(".json.tmp")
        if tmp.exists() and not self.read_only:
            tmp.unlink()  # a compaction died before its rename: the old snapshot stands
        if self.snapshot_path.exists():
            with self._reading_snapshot():
                self._snapshot = Snapshot(self.snapshot_path, self.keep)
            self._tables = self._snapshot.loaded
            self._seq = self._snapshot_seq = self._snapshot.n
        entries = self._entries(self._snapshot_seq)
        if self.own_journal:
            self.recovered = self.wal.recovered
            if self.snapshot_path.exists() and not self.journal_path.exists():
                self.recovered.append(
                    f"{self.journal_path.name} is missing: only what was compacted into "
                    f"the snapshot (entry {self._seq}) is here; later changes may be lost"
                )
        if entries or (not self.packed and self.own_journal and self.journal_path.exists()):
            self._load_all()  # replay and dict databases need every table
        for _n, ops in entries:
            apply_ops(self._tables, ops, self.keep)
        self._seq += len(entries)
        self._journal_lines = len(entries)

    @contextlib.contextmanager
    def _reading_snapshot(self) -> Iterator[None]:
        with reading_snapshot(self.snapshot_path):
            yield

    def _load_table(self, name: str) -> None:
        """Read a table of the snapshot if it was not read yet (a packed database reads
        each table when first used: a day's payments without its 300k audit events)."""
        if self._unread(name):
            with self.lock, self._reading_snapshot():
                if self._snapshot is not None and self._snapshot.unread(name):
                    self._check_open()
                    self._tables[name] = self._snapshot.load(name)

    def last(self, name: str) -> Doc | None:
        """The newest document of a table, as held, without reading a table not read yet."""
        if self._unread(name):
            with self.lock, self._reading_snapshot():
                if self._snapshot is not None and self._snapshot.unread(name):
                    self._check_open()
                    return self._snapshot.last(name)
        docs = self._tables.get(name)
        return docs[next(reversed(docs))] if docs else None

    def _unread(self, name: str) -> bool:
        return self._snapshot is not None and self._snapshot.unread(name)

    def _load_all(self) -> None:
        for name in self._snapshot.pending if self._snapshot else ():
            self._load_table(name)

    # -- the TinyDB Storage interface --------------------------------------------
    def read(self) -> Tables:
        """The tables by name, as held (a new dict each call, so callers cannot edit ours)."""
        self._load_all()
        return dict(self._tables)

    def table(self, name: str) -> dict[str, Doc]:
        """One table's documents by id as held (bytes when packed), live: only `commit`
        may change them."""
        self._load_table(name)
        return self._tables.get(name, {})

    def write(self, data: Tables) -> None:
        """Whole-database write, used by TinyDB only for drop_table(s)."""
        self._load_all()
        ops: list[Op] = [["drop", name] for name in self._tables if name not in data]
        for name, table in data.items():
            if self._tables.get(name) is not table:
                ops.append(["clear", name])
                ops.extend(["put", name, doc_id, doc] for doc_id, doc in table.items())
        self.commit(ops)

    @property
    def idle(self) -> bool:
        """Not inside a block of writes: closing it now loses nothing."""
        return self.batch is None

    def close(self) -> None:
        """Compact if the journal holds anything, then release the files; the storage
        refuses reads of tables not read yet, and writes, from then on."""
        if self._closed:
            return
        try:
            if self._journal_lines and not self.read_only and self.wal.healthy:
                self.compact()
        finally:
            self._closed = True
            if self.own_journal:
                self.wal.close()
            if self._snapshot is not None:
                self._snapshot.close()

    # -- writing -------------------------------------------------------------------
    @property
    def seq(self) -> int:
        """Change sets this database has taken (the number of its last entry when it
        has a journal of its own)."""
        return self._seq

    @property
    def snapshot_seq(self) -> int:
        """The entry its snapshot holds everything up to."""
        return self._snapshot_seq

    @property
    def journal_lines(self) -> int:
        """Journal entries with changes of this database that its snapshot does not hold."""
        return self._journal_lines

    def commit(self, ops: list[Op]) -> None:
        """Apply a change set as one journal entry: when this returns (outside a unit of
        work), the change is on disk. When it raises, memory is unchanged and nothing
        was acknowledged. Inside a unit (`atomic()`, `DataStore.unit`) the change is
        applied at once and written with the rest of the block.
        """
        if not ops:
            return
        self._check_writable()
        ops = [_packed(op) for op in ops]  # the caller's dicts are not kept: it may edit them
        for op in ops:
            self._load_table(op[1])
        if self.batch is not None and self._owner == threading.get_ident():
            self._stage(ops)  # inside a unit this thread holds (as every table write is)
        else:
            with unit(self):
                self._stage(ops)

    def _stage(self, ops: list[Op]) -> None:
        assert self.batch is not None and self._undo is not None
        self._undo.extend(_undo_for(self._tables, op) for op in ops)
        apply_ops(self._tables, ops, self.keep)
        self.batch.extend(ops)

    def begin(self) -> None:
        """Start collecting a unit's changes (called by the unit, holding `lock`)."""
        self._check_open()
        self.batch, self._undo = [], []
        self._owner = threading.get_ident()

    def taken(self) -> None:
        """The unit's changes were appended to the journal."""
        self._seq += 1
        self._journal_lines += 1

    def rollback(self) -> None:
        """Undo the unit's changes in memory."""
        for table, key, before in reversed(self._undo or []):
            _restore(self._tables, table, key, before)
        self.batch, self._undo = [], []

    def end(self) -> None:
        """The unit is over."""
        self.batch = self._undo = None

    def sync(self) -> None:
        """Make every entry appended so far durable (group commit)."""
        self.wal.sync()

    def atomic(self) -> contextlib.AbstractContextManager[object]:
        """Make every write in the block one journal entry: all of it or none.

        Reads inside the block see its writes. If the block raises, or the entry
        cannot be written, memory is rolled back and the error goes on. Nested
        blocks join the outer one, and so does every other database written inside
        (a unit of work, unit.py).
        """
        return unit(self)

    def compact(self) -> None:
        """Fold the journal into a new snapshot; a crash at any step loses nothing.

        Steps: write `snapshot.tmp` and fsync it; rename it over the snapshot; fsync
        the directory; truncate the journal and fsync it (its own journal: the shared
        log is trimmed by the data dir once every database has its snapshot).
        """
        self._check_writable()
        make_private_dir(self.directory)  # for the temp file
        with self.lock:
            self._load_all()
            seq = self.wal.seq
            tmp = self.snapshot_path.with_suffix(".json.tmp")
            chunks = snapshot_chunks(seq, self._tables)
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
                first = next(chunks)
                fh.write(first[: len(first) // 2])
                self._crash_hook("snapshot-half-written")
                fh.write(first[len(first) // 2 :])
                for chunk in chunks:
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            self._crash_hook("snapshot-written")
            os.replace(tmp, self.snapshot_path)
            self._crash_hook("snapshot-renamed")
            fsync_dir(self.directory)
            self._crash_hook("directory-synced")
            if self.own_journal:
                self.wal.trim(self._crash_hook)
            self._snapshot_seq = seq
            self._journal_lines = 0

    def _check_open(self) -> None:
        if self._closed:
            raise SystemFailure(f"store {self.name} was closed (too many days open at once?)")

    def _check_writable(self) -> None:
        self._check_open()
        self.wal.check()


@contextlib.contextmanager
def reading_snapshot(path: Path) -> Iterator[None]:
    """Damage met reading the snapshot at `path` refuses to open (`StorageCorrupt`)."""
    try:
        yield
    except SNAPSHOT_DAMAGE as exc:
        raise StorageCorrupt(
            f"snapshot {path} is damaged (truncated or edited); "
            "restore it from a backup (paygate will not guess)"
        ) from exc


def snapshot_id(path: Path) -> tuple[int, ...] | None:
    """Which snapshot file is in place (device, inode, size, time), None if none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


_ABSENT = object()


def _undo_for(tables: Tables, op: Op) -> tuple[str, str | None, Any]:
    """What to put back to undo `op`: a document, or a whole table when key is None."""
    name = op[1]
    if op[0] in ("put", "del"):
        return name, op[2], tables.get(name, {}).get(op[2], _ABSENT)
    return name, None, tables.get(name, _ABSENT)


def _restore(tables: Tables, name: str, key: str | None, before: Any) -> None:
    if key is None:
        if before is _ABSENT:
            tables.pop(name, None)
        else:
            tables[name] = before
    elif before is _ABSENT:
        tables.get(name, {}).pop(key, None)
    else:
        tables.setdefault(name, {})[key] = before
