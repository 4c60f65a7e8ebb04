"""Journal files: append-only logs of change sets, synced by group commit.

A line is `{"n":<seq>,"crc":<crc32 of the ops bytes>,"ops":...}`. In a database's own
journal (`<name>.journal.jsonl`) `ops` is a list of operations; in the data dir's
write-ahead log (`db/wal.jsonl`, shared by its databases) it is an object mapping each
database written by the entry to its list. An operation is `["put", table, doc_id,
doc]`, `["del", table, doc_id]`, `["clear", table]` or `["drop", table]`.

Reading (`Wal.read`) drops a damaged *last* line (a write torn by a crash: never
acknowledged) and reports it; a damaged line anywhere else, or a gap in `n`, refuses.
See docs/STORAGE.md.
"""

from __future__ import annotations

import contextlib
import os
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from gateway_core.errors import SystemFailure
from gateway_core.store.files import fsync_dir, make_private_dir
from gateway_core.store.group_commit import GroupCommit

Op = list[Any]
Parts = dict[str, list[Op]]  # the ops of one entry, by database
Entry = tuple[int, Any]  # (n, ops): a list of ops, or Parts in a shared log

_OPS_MARK = b',"ops":'


class StorageCorrupt(SystemFailure):
    """A store file is damaged somewhere a crash cannot explain."""


class ReadOnlyStore(SystemFailure):
    """A write was attempted on a store opened read-only."""


def encode_line(seq: int, ops: list[Op] | Parts) -> bytes:
    """Serialize one change set as a journal line (a put's document may be its JSON bytes)."""
    if isinstance(ops, dict):
        body = orjson.dumps({name: [_wire(op) for op in part] for name, part in ops.items()})
    else:
        body = orjson.dumps([_wire(op) for op in ops])
    return b'{"n":%d,"crc":%d,"ops":%s}\n' % (seq, zlib.crc32(body), body)


def _wire(op: Op) -> Op:
    if op[0] == "put" and type(op[3]) is bytes:
        return [op[0], op[1], op[2], orjson.Fragment(op[3])]
    return op


def decode_line(line: bytes) -> Entry | None:
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
    if not isinstance(seq, int) or not isinstance(ops, list | dict):
        return None
    return seq, ops


class Wal:
    """One journal file: appended under `lock`, synced by group commit.

    `lock` is held while an entry is appended (by a unit of work holding the locks of
    its databases, see unit.py): each database's entries are appended in the order its
    changes were applied in memory. The file is opened (and
    created, with its directory) at the first append: reading creates nothing.
    """

    def __init__(
        self, path: Path, name: str, *, read_only: bool = False, shared: bool = False
    ) -> None:
        self.path = Path(path)
        self.shared = shared  # entries hold several databases' ops
        self.name = name
        self.read_only = read_only
        self.lock = threading.RLock()
        self.seq = 0  # the last entry's number
        self.entries = 0  # entries in the file (what a trim would fold away)
        self.recovered: list[str] = []
        self._fd: int | None = None
        self._size = 0
        self._failure: str | None = None
        self.commits = GroupCommit(self._flush, name)
        self.on_grown: Callable[[], None] | None = None  # after each unit (a checkpoint)

    # -- reading -------------------------------------------------------------------
    def read(self, after: int) -> list[Entry]:
        """Every entry of the file with `n` > `after`, in order; sets `seq` to the last
        one (or `after`). A torn last line is dropped (cut off the file by a writer) and
        reported in `recovered`; damage elsewhere or a gap raises `StorageCorrupt`."""
        self.seq, self.entries = after, 0
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.splitlines(keepends=True)
        good_bytes = 0
        found: list[Entry] = []
        for index, line in enumerate(lines):
            decoded = decode_line(line)
            if decoded is None:
                if index == len(lines) - 1:
                    self._drop_torn_tail(good_bytes, len(data) - good_bytes)
                    break
                raise StorageCorrupt(f"journal {self.path} is damaged at line {index + 1}")
            seq = decoded[0]
            good_bytes += len(line)
            self.entries += 1
            if seq <= after:
                continue  # already in the snapshot (a compaction died before the trim)
            if seq != self.seq + 1:
                raise StorageCorrupt(f"journal {self.path} skips from entry {self.seq} to {seq}")
            found.append(decoded)
            self.seq = seq
        return found

    def _drop_torn_tail(self, keep: int, dropped: int) -> None:
        self.recovered.append(
            f"{self.path.name}: dropped a torn last entry ({dropped} bytes) "
            "left by a crash; it was never acknowledged"
        )
        if not self.read_only:
            with open(self.path, "r+b") as fh:
                fh.truncate(keep)
                os.fsync(fh.fileno())

    # -- writing -------------------------------------------------------------------
    def open_writer(self) -> int:
        """The file open for appending (made, with its directory, at the first write)."""
        if self._fd is None:
            make_private_dir(self.path.parent)
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:  # nothing written: the store stays usable
                raise SystemFailure(
                    f"store {self.name} could not open its journal ({exc.strerror}); "
                    "the change was not saved"
                ) from exc
            self._size = os.fstat(self._fd).st_size
            fsync_dir(self.path.parent)
        return self._fd

    def append(self, parts: Parts) -> int:
        """Write one entry (not synced yet); its ticket for `sync`. Call holding `lock`.
        A database's own journal takes the ops of that one database."""
        self.check()
        fd = self.open_writer()
        line = encode_line(self.seq + 1, parts if self.shared else next(iter(parts.values())))
        try:
            _write_all(fd, line)
        except OSError as exc:
            self._fail(exc)
        self._size += len(line)
        self.seq += 1
        self.entries += 1
        return self.commits.wrote()

    def _flush(self) -> None:
        fd = self._fd
        if fd is not None:
            os.fdatasync(fd)

    def sync(self, ticket: int | None = None) -> None:
        """Block until entry `ticket` (default: every entry so far) is durable."""
        self.commits.wait(ticket)

    async def synced(self, ticket: int | None = None) -> None:
        """`sync` awaited without blocking the event loop."""
        await self.commits.synced(ticket)

    @property
    def size(self) -> int:
        """Bytes written to the file since it was last trimmed (or opened)."""
        return self._size

    @property
    def healthy(self) -> bool:
        """No write or sync failed."""
        return self._failure is None and self.commits.failure is None

    def grown(self) -> None:
        """Called after each unit, outside its locks (the data dir checkpoints a large log)."""
        if self.on_grown is not None:
            self.on_grown()

    def trim(self, crash_hook: Callable[[str], None]) -> None:
        """Empty the file (every entry is in the snapshots) and make that durable."""
        fd = self.open_writer()
        with self.lock:
            self.sync()
            os.ftruncate(fd, 0)
            os.fsync(fd)
            crash_hook("journal-trimmed")
            self._size = self.entries = 0

    def check(self) -> None:
        """Refuse writes after a failed write or sync."""
        if self.read_only:
            raise ReadOnlyStore(f"store {self.name} is open read-only")
        failure = self._failure or self.commits.failure
        if failure:
            raise SystemFailure(failure)

    def _fail(self, exc: OSError) -> None:
        """Undo a partly written entry and refuse further writes until reopened."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
        self._failure = (
            f"store {self.name} could not write its journal ({exc.strerror}); "
            "the last change was not saved - restart paygate"
        )
        self.commits.fail(self._failure)
        raise SystemFailure(self._failure) from exc

    def close(self) -> None:
        """Release the file (after a last sync of what is written)."""
        if self._fd is not None:
            with contextlib.suppress(SystemFailure):
                self.sync()
            os.close(self._fd)
            self._fd = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
