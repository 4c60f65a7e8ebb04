"""Group commit: committers share the fdatasyncs of one journal file.

Entries are counted as they are appended (`wrote`, after write(2) returned). A
committer waits until the count it got is durable (`wait`): when no sync is running it
becomes the leader, notes how many entries are written, syncs and publishes that count;
committers that arrive meanwhile wait for the next round, whose one fdatasync covers
every entry written before it began. No entry is reported durable before a sync that
started after it was written has returned.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from gateway_core.errors import SystemFailure
from gateway_core.observe.recorders import store_synced


class GroupCommit:
    """The written and durable entry counts of one file, and the rounds that sync it.

    `flush` makes everything written so far durable (an fdatasync of the file); when it
    raises `OSError` the file is failed: every waiter, and every later one, gets
    `SystemFailure` (what was written may be lost, so nothing more is acknowledged)."""

    def __init__(self, flush: Callable[[], None], name: str) -> None:
        self._flush = flush
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._written = 0
        self._durable = 0
        self._syncing = False
        self._failure: str | None = None
        self._round: asyncio.Future[None] | None = None  # the running async round

    @property
    def written(self) -> int:
        """Entries appended so far (the ticket that covers all of them)."""
        return self._written

    def wrote(self) -> int:
        """Count one appended entry; its ticket for `wait`."""
        with self._cond:
            self._written += 1
            return self._written

    @property
    def failure(self) -> str | None:
        """Why a sync failed (then nothing more is acknowledged), None if none did."""
        return self._failure

    def wait(self, ticket: int | None = None) -> None:
        """Block until entry `ticket` (default: every entry written so far) is durable,
        syncing if no other thread is, else waiting for the round in progress."""
        target = self._written if ticket is None else ticket
        if self._durable >= target:
            return  # already synced: no lock taken
        with self._cond:
            while self._durable < target:
                if self._failure is not None:
                    raise SystemFailure(self._failure)
                if self._syncing:
                    self._cond.wait()
                    continue
                self._lead()

    def _lead(self) -> None:
        """One round, called holding the condition: sync what is written now."""
        self._syncing = True
        covered = self._written
        synced = False
        self._cond.release()
        started = time.perf_counter()
        try:
            self._flush()
            synced = True
            store_synced(time.perf_counter() - started, covered - self._durable)
        except OSError as exc:
            self._failure = (
                f"store {self._name} could not sync its journal ({exc.strerror}); "
                "what was written may be lost - restart paygate"
            )
        finally:
            self._cond.acquire()
            self._syncing = False
            if synced:
                self._durable = max(self._durable, covered)
            self._cond.notify_all()

    async def synced(self, ticket: int | None = None) -> None:
        """`wait` from asyncio without blocking the loop: the sync runs in a thread, and
        awaiters that arrive while it runs share it (or the next round)."""
        target = self._written if ticket is None else ticket
        while self._durable < target:
            if self._failure is not None:
                raise SystemFailure(self._failure)
            current = self._round
            if (
                current is None
                or current.done()
                or current.get_loop() is not asyncio.get_running_loop()
            ):
                current = self._round = asyncio.ensure_future(
                    asyncio.to_thread(self.wait, self._written)
                )
            await asyncio.shield(current)

    def fail(self, message: str) -> None:
        """Refuse every later wait (the file was damaged by a failed write)."""
        with self._cond:
            self._failure = message
            self._cond.notify_all()
