"""Baseline: the same store interface over SQLite (WAL, synchronous=FULL). Not product code.

`SqliteDataStore` is a `DataStore` whose databases are SQLite files
(`db/main.sqlite`, `db/days/YYYY-MM-DD.sqlite`), so every repository, the gateway and
the banks run on it unchanged. Documents stay in memory exactly as in ours (TinyDB's
tables and queries are the same code); only the durable layer differs: one SQLite
transaction per change set, one row per document, instead of one fsynced journal line.
With `journal_mode=WAL` and `synchronous=FULL` a COMMIT returns after the WAL is synced,
which is the same promise as ours (acknowledged means on disk).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from typing import Any

from gateway_core.store import DataStore
from gateway_core.store.journal import JournalStorage, ReadOnlyStore
from gateway_core.store.snapshot import pack

SCHEMA = "CREATE TABLE IF NOT EXISTS docs (tbl TEXT, id TEXT, doc BLOB, PRIMARY KEY (tbl, id))"


class SqliteLog:
    """What a unit of work appends its entries to (gateway_core/store/wal.py: `Wal`), on
    SQLite: one transaction per entry, whose COMMIT syncs the WAL (nothing left to sync)."""

    def __init__(self, conn: sqlite3.Connection | None, name: str) -> None:
        self.conn, self.name = conn, name
        self.lock = threading.RLock()
        self.healthy = True

    def append(self, parts: dict[str, list[list[Any]]]) -> int:
        """One change set, one transaction."""
        self.check()
        db = self.conn
        assert db is not None
        db.execute("BEGIN")
        try:
            for op in next(iter(parts.values())):
                kind, table = op[0], op[1]
                if kind == "put":
                    db.execute(
                        "INSERT OR REPLACE INTO docs VALUES (?, ?, ?)",
                        (table, op[2], pack(op[3])),
                    )
                elif kind == "del":
                    db.execute("DELETE FROM docs WHERE tbl = ? AND id = ?", (table, op[2]))
                else:  # clear, drop
                    db.execute("DELETE FROM docs WHERE tbl = ?", (table,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return 0

    def sync(self, ticket: int | None = None) -> None:
        """COMMIT synced it already."""

    async def synced(self, ticket: int | None = None) -> None:
        """COMMIT synced it already."""

    def grown(self) -> None:
        """SQLite checkpoints its WAL by itself."""

    def check(self) -> None:
        if self.conn is None:
            raise ReadOnlyStore(f"store {self.name} is open read-only")


class SqliteStorage(JournalStorage):
    """`JournalStorage` with its durable layer (`_load` and the log) on SQLite."""

    def _load(self) -> None:
        self.path = self.directory / f"{self.name}.sqlite"
        conn = None
        if not self.read_only:
            self.directory.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(SCHEMA)
        self.wal = SqliteLog(conn, self.name)  # type: ignore[assignment]  # a Wal's stand-in
        if not self.path.exists():
            return
        db = sqlite3.connect(self.path)
        try:
            rows = db.execute("SELECT tbl, id, doc FROM docs ORDER BY tbl, CAST(id AS INTEGER)")
            for table, doc_id, doc in rows:
                self._tables.setdefault(table, {})[doc_id] = self.keep(doc)
        finally:
            db.close()

    def compact(self) -> None:
        """Nothing to fold: SQLite checkpoints its WAL by itself."""

    def close(self) -> None:
        conn = self.wal.conn  # type: ignore[attr-defined]  # the SqliteLog set by _load
        if conn is not None:
            conn.close()
            self.wal.conn = None  # type: ignore[attr-defined]  # the SqliteLog set by _load


class SqliteDataStore(DataStore):
    """The data dir's databases as SQLite files."""

    storage_class = SqliteStorage
    shared_wal = False
    day_file = re.compile(r"^(\d{4}-\d{2}-\d{2})\.sqlite$")
