"""Units of work: every write of a block, to any database, as one journal entry.

A unit joins each database it writes to (taking its lock until the block ends: the
main database first, then the days), applies the writes in memory at once (reads in the
block see them) and keeps what undoes them. When the block ends it appends one entry
per journal (one in all when the databases share the data dir's write-ahead log),
releases the locks and then waits, outside them, until the entry is durable, sharing
the fdatasync with every other committer (group commit). When the block raises, every
write is undone in memory and nothing is written. Nested units join the outer one.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
from collections.abc import Iterator
from typing import Protocol

from gateway_core.store.wal import Op, Wal


class Member(Protocol):
    """A database as a unit sees it (`Member`)."""

    key: str  # its name in the journal's entries
    wal: Wal
    lock: threading.RLock
    batch: list[Op] | None  # its changes in the unit

    def begin(self) -> None: ...
    def taken(self) -> None: ...
    def rollback(self) -> None: ...
    def end(self) -> None: ...


_UNIT: contextvars.ContextVar[Unit | None] = contextvars.ContextVar("paygate_unit", default=None)
_UNSYNCED: contextvars.ContextVar[set[Wal] | None] = contextvars.ContextVar(
    "paygate_unsynced", default=None
)


class Unit:
    """The databases a block writes to, and the tickets of its entries; a context
    manager (a class, not a generator: it is entered for every write)."""

    def __init__(self, durable: bool, storages: tuple[Member, ...]) -> None:
        self.durable = durable
        self.thread = threading.get_ident()
        self.members: list[Member] = []
        self.tickets: dict[Wal, int | None] = {}  # by journal: its entry, None if none
        self._storages = storages
        self._token: contextvars.Token[Unit | None] | None = None

    def __enter__(self) -> Unit:
        self._token = _UNIT.set(self)
        try:
            for storage in self._storages:
                self.join(storage)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        try:
            try:
                if kind is None:
                    self.write()
                else:
                    self.rollback()
            finally:
                self.release()
        finally:
            if self._token is not None:
                _UNIT.reset(self._token)
        if kind is None:
            self.settle()

    def join(self, storage: Member) -> None:
        """Take part in the unit: its lock is held until the end."""
        if storage in self.members:
            return
        storage.lock.acquire()
        storage.begin()
        self.members.append(storage)
        self.tickets.setdefault(storage.wal, None)

    def write(self) -> None:
        """Append one entry per journal. A journal that fails is rolled back in memory
        with every later one; those written before it stay written."""
        for index, wal in enumerate(self.tickets):
            members = [m for m in self.members if m.wal is wal and m.batch]
            if not members:
                continue
            try:
                with wal.lock:
                    self.tickets[wal] = wal.append({m.key: m.batch or [] for m in members})
            except BaseException:
                for later in list(self.tickets)[index:]:
                    for member in reversed(self.members):
                        if member.wal is later:
                            member.rollback()
                raise
            for member in members:
                member.taken()

    def rollback(self) -> None:
        """Undo every write of the block in memory."""
        for member in reversed(self.members):
            member.rollback()

    def release(self) -> None:
        for member in reversed(self.members):
            member.end()
            member.lock.release()

    def settle(self) -> None:
        """Wait until the entries are durable (`durable`), or leave them to the end of
        `sync_deferred`; then let a journal grown large be folded into its snapshots."""
        deferred = _UNSYNCED.get()
        for wal, ticket in self.tickets.items():
            if deferred is not None:
                deferred.add(wal)
            elif self.durable:
                wal.sync(ticket)  # no entry: what the block read is durable too
        for wal in self.tickets:
            wal.grown()


def unit(*storages: Member, durable: bool = True) -> contextlib.AbstractContextManager[Unit]:
    """A unit of work over `storages` (and any database written inside); joins the
    unit already open in this thread, if any."""
    current = _UNIT.get()
    if current is not None and current.thread == threading.get_ident():
        for storage in storages:
            current.join(storage)
        return contextlib.nullcontext(current)
    return Unit(durable, storages)


@contextlib.contextmanager
def sync_deferred(*, sync: bool = True) -> Iterator[None]:
    """A bulk load: journal entries written in the block (in this thread and the tasks it
    starts) are appended at once but fdatasynced only when it ends, once per journal,
    instead of once per entry. Only for data that nobody is told about before the block
    ends and that is made again if it is cut short (the demo's history): a power loss
    inside it may lose any of its writes. Atomicity and rollback of each entry are unchanged.

    `sync=False`: nothing is synced at the end; the caller awaits `DataStore.synced()`
    itself before it answers (the banks' sale: one fdatasync, the event loop free). A
    block inside another joins it: the outermost one's end syncs, and `DataStore.sync()`
    / `synced()` inside a block leave their logs to it (`deferring`)."""
    if _UNSYNCED.get() is not None:
        yield
        return
    written: set[Wal] = set()
    token = _UNSYNCED.set(written)
    try:
        yield
    finally:
        _UNSYNCED.reset(token)
        for wal in written if sync else ():
            wal.sync()


def deferring(wals: list[Wal]) -> bool:
    """Whether a `sync_deferred` block is on: then `wals` are synced at its end (a sync
    asked for inside it is left to that end)."""
    written = _UNSYNCED.get()
    if written is None:
        return False
    written.update(wals)
    return True
