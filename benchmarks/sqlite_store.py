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

import orjson

from gateway_core.store import DataStore
from gateway_core.store.journal import JournalStorage, ReadOnlyStore

SCHEMA = "CREATE TABLE IF NOT EXISTS docs (tbl TEXT, id TEXT, doc BLOB, PRIMARY KEY (tbl, id))"


class SqliteStorage(JournalStorage):
    """`JournalStorage` with its durable layer (`_load`, `_open_writer`, `_append`) on SQLite."""

    def _load(self) -> None:
        self.path = self.directory / f"{self.name}.sqlite"
        self._conn: sqlite3.Connection | None = None
        if not self.read_only:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._open_writer()
        if not self.path.exists():
            return
        db = sqlite3.connect(self.path)
        try:
            rows = db.execute("SELECT tbl, id, doc FROM docs ORDER BY tbl, CAST(id AS INTEGER)")
            for table, doc_id, doc in rows:
                self._tables.setdefault(table, {})[doc_id] = self.keep(doc)
        finally:
            db.close()

    def _open_writer(self) -> None:
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(SCHEMA)

    def _append(self, line: bytes) -> None:
        """One change set, one transaction; COMMIT syncs the WAL before returning."""
        ops = orjson.loads(line)["ops"]
        db = self._conn
        db.execute("BEGIN")
        try:
            for op in ops:
                kind, table = op[0], op[1]
                if kind == "put":
                    db.execute(
                        "INSERT OR REPLACE INTO docs VALUES (?, ?, ?)",
                        (table, op[2], orjson.dumps(op[3])),
                    )
                elif kind == "del":
                    db.execute("DELETE FROM docs WHERE tbl = ? AND id = ?", (table, op[2]))
                else:  # clear, drop
                    db.execute("DELETE FROM docs WHERE tbl = ?", (table,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._seq += 1

    def compact(self) -> None:
        """Nothing to fold: SQLite checkpoints its WAL by itself."""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _check_writable(self) -> None:
        if self._conn is None:
            raise ReadOnlyStore(f"store {self.name} is open read-only")


class SqliteDataStore(DataStore):
    """The data dir's databases as SQLite files."""

    storage_class = SqliteStorage
    day_file = re.compile(r"^(\d{4}-\d{2}-\d{2})\.sqlite$")
