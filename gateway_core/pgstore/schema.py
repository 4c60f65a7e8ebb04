"""The schema as versioned SQL migrations (`migrations/NNNN_name.sql`), applied in order
by `paygate db upgrade` and on first use; `schema_version` records those applied."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from gateway_core.pgstore.db import Database, DatabaseUnavailable

# one migration at a time, whichever process starts first (an advisory lock of its own)
_LOCK = 0x70617967  # "payg"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every migration shipped, oldest first."""
    found = []
    for entry in resources.files("gateway_core.pgstore").joinpath("migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def current(db: Database) -> int:
    """The newest migration applied (0: an empty database)."""
    row = db.one("SELECT to_regclass('schema_version') IS NOT NULL")
    if not row or not row[0]:
        return 0
    version = db.one("SELECT coalesce(max(version), 0) FROM schema_version")
    return int(version[0]) if version else 0


def check(db: Database) -> None:
    """Refuse a schema this paygate cannot use: older (when opened read-only, so not
    upgraded) or newer (a later paygate's)."""
    have, need = current(db), migrations()[-1].version
    if have > need:
        raise DatabaseUnavailable(
            f"the database's schema is version {have}, newer than this paygate's ({need})"
        )
    if have < need:
        raise DatabaseUnavailable(
            f"the database's schema is version {have}, this paygate needs {need}: run "
            "`paygate db upgrade`"
        )


def upgrade(db: Database) -> list[Migration]:
    """Apply the migrations not applied yet; the ones
    applied now (none when the schema is current). All of them are one transaction,
    under an advisory lock: two processes starting at once apply them once."""
    wanted = migrations()
    if current(db) >= wanted[-1].version:
        return []
    applied = []
    db.writing()
    with db.connection() as conn, conn.transaction():  # not pipelined: a script per file
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version int PRIMARY KEY, name text"
            " NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        done = row[0] if row else 0
        for migration in wanted:
            if migration.version > done:
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                applied.append(migration)
    return applied
