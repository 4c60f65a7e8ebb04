"""One writer process per data dir, held by a lock file.

The lock is an OS file lock (filelock), released by the kernel when the holder dies,
so a crash never leaves a data dir locked. Next to it `writer.json` names the holder,
so a second writer is told which process to look for.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import orjson
from filelock import FileLock, Timeout

from gateway_core.errors import SystemFailure


class DataDirBusy(SystemFailure):
    """Another process holds the writer lock of this data dir."""


class WriterLock:
    """Exclusive writer lock on a data dir; `release()` or process exit frees it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.info_path = self.data_dir / "writer.json"
        self._lock = FileLock(self.data_dir / "paygate.lock", timeout=0, mode=0o600)

    def acquire(self) -> None:
        """Take the lock or raise `DataDirBusy` naming the holder's pid."""
        try:
            self._lock.acquire()
        except Timeout:
            raise DataDirBusy(
                f"data dir {self.data_dir} is in use by another paygate process "
                f"({self.holder()}); close it first or use another --data-dir"
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname()}
        fd = os.open(self.info_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "wb") as fh:
            os.fchmod(fd, 0o600)  # made by an older version under another umask
            fh.write(orjson.dumps(info))

    def holder(self) -> str:
        """Who holds the lock, as recorded in writer.json."""
        try:
            info = orjson.loads(self.info_path.read_bytes())
            return f"pid {info['pid']} on {info['host']}"
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
            return "pid unknown"

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self._lock.is_locked:
            self.info_path.unlink(missing_ok=True)
            self._lock.release()
