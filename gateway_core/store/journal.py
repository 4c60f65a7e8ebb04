"""A TinyDB `Storage` kept in memory, made durable by an append-only journal.

One database is a *file set* in a directory:

- `<name>.snapshot.json` — every table as of journal entry `n`, one document per line
  and a trailer line that checks them (absent until the first compaction);
- `<name>.journal.jsonl` — one line per committed change set, appended and fsynced
  before the call that made it returns.

A journal line is `{"n":<seq>,"crc":<crc32 of the ops bytes>,"ops":[...]}` where each
op is `["put", table, doc_id, doc]`, `["del", table, doc_id]`, `["clear", table]` or
`["drop", table]`. Opening replays the snapshot, then every line with a larger `n`.
A damaged *last* line is a write torn by a crash: it was never acknowledged, so it is
dropped (and the drop reported in `recovered`). A damaged line anywhere else is real
corruption and refuses to open. See docs/STORAGE.md.

A *packed* database (the business days: 100k payments and their audit events) keeps
each document in memory as its JSON bytes, decoded when read: a third of the memory
of dicts, and a day opens by splitting lines instead of building millions of objects.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
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

Op = list[Any]

_OPS_MARK = b',"ops":'
_READ_ATTEMPTS = 5  # reads of a store a writer is compacting meanwhile


class StorageCorrupt(SystemFailure):
    """A store file is damaged somewhere a crash cannot explain."""


class ReadOnlyStore(SystemFailure):
    """A write was attempted on a store opened read-only."""


def encode_line(seq: int, ops: list[Op]) -> bytes:
    """Serialize one change set as a journal line (a put's document may be its JSON bytes)."""
    body = orjson.dumps([_wire(op) for op in ops])
    return b'{"n":%d,"crc":%d,"ops":%s}\n' % (seq, zlib.crc32(body), body)


def _wire(op: Op) -> Op:
    if op[0] == "put" and type(op[3]) is bytes:
        return [op[0], op[1], op[2], orjson.Fragment(op[3])]
    return op


def decode_line(line: bytes) -> tuple[int, list[Op]] | None:
    """Parse a journal line; None when it is torn or damaged."""
    if not line.endswith(b"}\n"):
        return None
    mark = line.find(_OPS_MARK)
    if mark < 0:
        return None
    body = line[mark + len(_OPS_MARK) : -2]
    try:
        head = orjson.loads(line[:mark] + b"}")
        ops = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict) or head.get("crc") != zlib.crc32(body):
        return None
    seq = head.get("n")
    if not isinstance(seq, int) or not isinstance(ops, list):
        return None
    return seq, ops


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


_UNSYNCED: contextvars.ContextVar[set[JournalStorage] | None] = contextvars.ContextVar(
    "paygate_unsynced", default=None
)


@contextlib.contextmanager
def sync_deferred() -> Iterator[None]:
    """A bulk load: journal entries written in the block (in this thread and the tasks it
    starts) are appended at once but fdatasynced only when it ends, once per journal,
    instead of once per entry. Only for data that nobody is told about before the block
    ends and that is made again if it is cut short (the demo's history): a power loss
    inside it may lose any of its writes. Atomicity and rollback of each entry are unchanged."""
    written: set[JournalStorage] = set()
    token = _UNSYNCED.set(written)
    try:
        yield
    finally:
        _UNSYNCED.reset(token)
        for journal in written:
            journal.sync()


class JournalStorage(Storage):
    """TinyDB storage: documents in memory, each change appended to a journal.

    `packed`: documents are held as their JSON bytes (see the module's docstring).
    `crash_hook` exists for tests: it is called with the name of each compaction step
    so a test can kill the process exactly there.
    """

    def __init__(
        self,
        directory: Path,
        name: str,
        *,
        read_only: bool = False,
        packed: bool = False,
        crash_hook: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.name = name
        self.read_only = read_only
        self.packed = packed
        self.keep: Callable[[Doc], Doc] = pack if packed else unpack
        self.snapshot_path = self.directory / f"{name}.snapshot.json"
        self.journal_path = self.directory / f"{name}.journal.jsonl"
        self.recovered: list[str] = []
        self.lock = threading.RLock()
        self._crash_hook = crash_hook or (lambda step: None)
        self._tables: Tables = {}
        self._snapshot: Snapshot | None = None  # tables not read yet (packed databases)
        self._seq = 0
        self._snapshot_seq = 0
        self._journal_lines = 0
        self._fd: int | None = None
        self._batch: list[Op] | None = None
        self._undo: list[tuple[str, str | None, Any]] | None = None
        self._size = 0
        self._failure: str | None = None
        self._closed = False
        with collector_paused(keep=True):
            self._load()

    def _open_writer(self) -> int:
        """The journal open for appending, opened (and created, with its directory) at
        the first write: opening a database to read it creates nothing. (`_load`, this
        and `_append` are the whole durable layer: benchmarks/sqlite_store.py swaps them
        for SQLite.)"""
        if self._fd is None:
            make_private_dir(self.directory)
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._size = os.fstat(self._fd).st_size
            fsync_dir(self.directory)
        return self._fd

    # -- opening -----------------------------------------------------------------
    def _load(self) -> None:
        """Read snapshot + journal. A reader (no lock) may meet a writer's compaction
        between the two (the snapshot replaced, then the journal trimmed): it would see
        the old snapshot and the trimmed journal, missing what was folded in between.
        So a reader checks that the snapshot it read is still the one in place, and reads
        again if not."""
        for attempt in range(_READ_ATTEMPTS):
            try:
                self._load_once()
                if not self.read_only or self._snapshot_id() == self._read_id:
                    return
            except StorageCorrupt:
                if not self.read_only or self._snapshot_id() == self._read_id:
                    raise
            if attempt == _READ_ATTEMPTS - 1:
                raise StorageCorrupt(
                    f"store {self.name} kept changing while it was read; try again"
                )
            self._reset()

    def _snapshot_id(self) -> tuple[int, ...] | None:
        """Which snapshot file is in place (device, inode, size, time), None if none."""
        try:
            st = os.stat(self.snapshot_path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns

    def _reset(self) -> None:
        if self._snapshot is not None:
            self._snapshot.close()
        self._tables, self._snapshot, self.recovered = {}, None, []
        self._seq = self._snapshot_seq = self._journal_lines = 0

    def _load_once(self) -> None:
        self._read_id = self._snapshot_id()
        tmp = self.snapshot_path.with_suffix(".json.tmp")
        if tmp.exists() and not self.read_only:
            tmp.unlink()  # a compaction died before its rename: the old snapshot stands
        if self.snapshot_path.exists():
            with self._reading_snapshot():
                self._snapshot = Snapshot(self.snapshot_path, self.keep)
            self._tables = self._snapshot.loaded
            self._seq = self._snapshot_seq = self._snapshot.n
        if self.journal_path.exists():
            if not self.packed or self.journal_path.stat().st_size:
                self._load_all()  # replay and dict databases need every table
            self._replay()
        elif self.snapshot_path.exists():
            self.recovered.append(
                f"{self.journal_path.name} is missing: only what was compacted into the "
                f"snapshot (entry {self._seq}) is here; later changes may be lost"
            )

    @contextlib.contextmanager
    def _reading_snapshot(self) -> Iterator[None]:
        try:
            yield
        except SNAPSHOT_DAMAGE as exc:
            raise StorageCorrupt(
                f"snapshot {self.snapshot_path} is damaged (truncated or edited); "
                "restore it from a backup (paygate will not guess)"
            ) from exc

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

    def _replay(self) -> None:
        data = self.journal_path.read_bytes()
        lines = data.splitlines(keepends=True)
        good_bytes = 0
        for index, line in enumerate(lines):
            decoded = decode_line(line)
            if decoded is None:
                if index == len(lines) - 1:
                    self._drop_torn_tail(good_bytes, len(data) - good_bytes)
                    return
                raise StorageCorrupt(f"journal {self.journal_path} is damaged at line {index + 1}")
            seq, ops = decoded
            good_bytes += len(line)
            if seq <= self._snapshot_seq:
                continue  # already in the snapshot (compaction died before the trim)
            if seq != self._seq + 1:
                raise StorageCorrupt(
                    f"journal {self.journal_path} skips from entry {self._seq} to {seq}"
                )
            apply_ops(self._tables, ops, self.keep)
            self._seq = seq
            self._journal_lines += 1

    def _drop_torn_tail(self, keep: int, dropped: int) -> None:
        self.recovered.append(
            f"{self.journal_path.name}: dropped a torn last entry ({dropped} bytes) "
            "left by a crash; it was never acknowledged"
        )
        if not self.read_only:
            with open(self.journal_path, "r+b") as fh:
                fh.truncate(keep)
                os.fsync(fh.fileno())

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
        return self._batch is None

    def close(self) -> None:
        """Compact if the journal holds anything, then release the files; the storage
        refuses reads of tables not read yet, and writes, from then on."""
        if self._closed:
            return
        try:
            if self._journal_lines and not self.read_only:
                self.compact()
        finally:
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._snapshot is not None:
                self._snapshot.close()

    # -- writing -------------------------------------------------------------------
    @property
    def seq(self) -> int:
        """Number of the last committed change set."""
        return self._seq

    @property
    def journal_lines(self) -> int:
        """Change sets in the journal that the snapshot does not hold yet."""
        return self._journal_lines

    def commit(self, ops: list[Op]) -> None:
        """Append a change set, make it durable, then apply it in memory.

        When this returns, the change is on disk (fdatasync). When it raises, memory
        is unchanged and nothing was acknowledged. Inside `atomic()` the change is
        applied at once but written with the rest of the block.
        """
        if not ops:
            return
        self._check_writable()
        ops = [_packed(op) for op in ops]  # the caller's dicts are not kept: it may edit them
        for op in ops:
            self._load_table(op[1])
        with self.lock:
            if self._batch is not None and self._undo is not None:
                self._undo.extend(_undo_for(self._tables, op) for op in ops)
                apply_ops(self._tables, ops, self.keep)
                self._batch.extend(ops)
                return
            self._append(encode_line(self._seq + 1, ops))
            apply_ops(self._tables, ops, self.keep)

    def _append(self, line: bytes) -> None:
        deferred = _UNSYNCED.get()
        try:
            fd = self._open_writer()
        except OSError as exc:  # nothing written: the store stays usable
            raise SystemFailure(
                f"store {self.name} could not open its journal ({exc.strerror}); "
                "the change was not saved"
            ) from exc
        try:
            _write_all(fd, line)
            if deferred is None:
                os.fdatasync(fd)
        except OSError as exc:
            self._fail(exc)
        if deferred is not None:
            deferred.add(self)
        self._size += len(line)
        self._seq += 1
        self._journal_lines += 1

    def sync(self) -> None:
        """Make every entry appended so far durable (the end of `sync_deferred`)."""
        with self.lock:
            if self._fd is None:
                return  # closed: its close compacted (and fsynced) everything
            try:
                os.fdatasync(self._fd)
            except OSError as exc:
                self._fail(exc)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Make every write in the block one journal entry: all of it or none.

        Reads inside the block see its writes. If the block raises, or the entry
        cannot be written, memory is rolled back and the error goes on. Nested
        blocks join the outer one.
        """
        with self.lock:
            if self._batch is not None:
                yield
                return
            self._batch, self._undo = [], []
            try:
                yield
                if self._batch:
                    self._append(encode_line(self._seq + 1, self._batch))
            except BaseException:
                for table, key, before in reversed(self._undo):
                    _restore(self._tables, table, key, before)
                raise
            finally:
                self._batch = self._undo = None

    def compact(self) -> None:
        """Fold the journal into a new snapshot; a crash at any step loses nothing.

        Steps: write `snapshot.tmp` and fsync it; rename it over the snapshot; fsync
        the directory; truncate the journal and fsync it.
        """
        self._check_writable()
        fd = self._open_writer()  # its directory too, for the temp file
        with self.lock:
            self._load_all()
            tmp = self.snapshot_path.with_suffix(".json.tmp")
            chunks = snapshot_chunks(self._seq, self._tables)
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
            os.ftruncate(fd, 0)
            os.fsync(fd)
            self._crash_hook("journal-trimmed")
            self._size = 0
            self._snapshot_seq = self._seq
            self._journal_lines = 0

    def _check_open(self) -> None:
        if self._closed:
            raise SystemFailure(f"store {self.name} was closed (too many days open at once?)")

    def _check_writable(self) -> None:
        self._check_open()
        if self.read_only:
            raise ReadOnlyStore(f"store {self.name} is open read-only")
        if self._failure:
            raise SystemFailure(self._failure)

    def _fail(self, exc: OSError) -> None:
        """Undo a partly written entry and refuse further writes until reopened."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
        self._failure = (
            f"store {self.name} could not write its journal ({exc.strerror}); "
            "the last change was not saved - restart paygate"
        )
        raise SystemFailure(self._failure) from exc


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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
