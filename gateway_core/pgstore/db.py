"""A pool of connections to one PostgreSQL database, and the transaction of the unit of
work under way (held in a context variable, so that every repository call inside a
unit uses its connection; outside one each call is its own transaction)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from gateway_core.errors import RecordConflict as RecordConflict  # raised here
from gateway_core.errors import SystemFailure
from gateway_core.settings import is_postgres_url
from gateway_core.store.journal import ReadOnlyStore

Params = Sequence[Any]


class DatabaseUnavailable(SystemFailure):
    """The database cannot be reached, or refused what was asked."""


def check_url(url: str) -> str:
    """`url` when it names a PostgreSQL database, else ValueError (not echoing it: it
    may carry a password)."""
    if not is_postgres_url(url):
        raise ValueError("a database URL must be postgresql://USER@HOST[:PORT]/DBNAME")
    return url


def redacted(url: str) -> str:
    """`url` without its password (what may be shown)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


_OPTIONS = "-c TimeZone=UTC"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _detail(error: psycopg.Error) -> str:
    """Which record: the constraint's table (never the values: a key may be secret)."""
    return f"a record of {error.diag.table_name or 'a table'} with the same key"


def _configure(conn: psycopg.Connection[Any]) -> None:
    set_json_dumps(orjson.dumps, conn)
    set_json_loads(orjson.loads, conn)


# The pool retries a lost server in the background and logs each try as a warning: a
# command says once that the database cannot be reached (a first connection is tried
# alone, for at most CONNECT_TIMEOUT_S), the pool's own retries stay quiet.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
CONNECT_TIMEOUT_S = 5


@dataclass
class _Unit:
    """The unit of work under way: its connection, what runs after its COMMIT, the
    advisory locks it holds."""

    conn: psycopg.Connection[Any]
    after: list[Callable[[], None]] = field(default_factory=list)
    locks: set[tuple[int, str]] = field(default_factory=set)


class Database:
    """Connections to one database; `unit()` is one transaction for a block of calls.

    A read-only one reads through one read-only REPEATABLE READ transaction held from
    its opening to its closing: like a reader of the embedded store, it sees what was
    committed when it opened, every read from the same snapshot (a chain's events and
    its head agree)."""

    def __init__(self, url: str, *, read_only: bool = False, size: int = 8) -> None:
        self.url = check_url(url)
        self.read_only = read_only
        self._unit: ContextVar[_Unit | None] = ContextVar(f"paygate_unit_{id(self)}", default=None)
        self._snapshot: psycopg.Connection[Any] | None = None
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            kwargs={"autocommit": True, "options": _OPTIONS},
            configure=_configure,
            open=False,
            name="paygate",
        )
        try:
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, options=_OPTIONS).close()
            if read_only:
                self._snapshot = snapshot = psycopg.connect(url, options=_OPTIONS)
                _configure(snapshot)
                snapshot.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                snapshot.read_only = True
                snapshot.execute("SELECT 1")  # the snapshot is taken at its first statement
            else:
                self._pool.open(wait=True, timeout=10)
        except (psycopg.Error, PoolTimeout) as e:
            self.close()
            raise DatabaseUnavailable(f"cannot connect to {redacted(url)}: {_first_line(e)}") from e

    def close(self) -> None:
        if self._snapshot is not None:
            self._snapshot.close()
        self._pool.close()

    def hold_lock(self, space: int, name: str) -> psycopg.Connection[Any]:
        """A connection of its own holding the session advisory lock `name` (in
        `space`) until it is closed, or its process dies: how other processes tell
        that this one is alive."""
        conn = psycopg.connect(self.url, autocommit=True)
        conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (space, name))
        return conn

    @property
    def in_unit(self) -> bool:
        return self._unit.get() is not None

    def lock_once(self, space: int, name: str) -> bool:
        """Take the transaction advisory lock `name` (in `space`) for the rest of the
        unit, unless the unit holds it already; whether it was taken now."""
        unit = self._unit.get()
        assert unit is not None, "a lock to COMMIT needs a unit"
        if (space, name) in unit.locks:
            return False
        self.one("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (space, name))
        unit.locks.add((space, name))
        return True

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """The unit's connection, else one from the pool for this call (autocommit)."""
        unit = self._unit.get()
        try:
            conn = unit.conn if unit is not None else self._snapshot
            if conn is not None:
                yield conn
                return
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as e:  # the server, not the request
            raise DatabaseUnavailable(f"database {redacted(self.url)}: {_first_line(e)}") from e
        except psycopg.errors.UniqueViolation as e:
            raise RecordConflict(f"written meanwhile by another process: {_detail(e)}") from e

    @contextlib.contextmanager
    def unit(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction for the block (a savepoint inside an enclosing unit): all or
        nothing, durable at COMMIT. Callbacks added by `after_commit` run once it is."""
        outer = self._unit.get()
        if self._snapshot is not None:  # nothing to write: the reads' snapshot
            yield self._snapshot
            return
        if outer is not None:
            with outer.conn.transaction():
                yield outer.conn
            return
        with self._pool.connection() as conn:
            unit = _Unit(conn)
            token = self._unit.set(unit)
            try:
                with conn.pipeline(), conn.transaction():
                    yield conn
            except psycopg.errors.UniqueViolation as e:  # found at a read or at COMMIT
                raise RecordConflict(f"written meanwhile by another process: {_detail(e)}") from e
            finally:
                self._unit.reset(token)
        for done in unit.after:
            done()

    def atomic(self) -> contextlib.AbstractContextManager[Any]:
        """A repository's statements as one: the enclosing unit's, else a unit of their
        own (no savepoint: a repository call fails its unit whole)."""
        return contextlib.nullcontext() if self.in_unit else self.unit()

    def after_commit(self, done: Callable[[], None]) -> None:
        """Run `done` once what was written so far is committed (now, outside a unit)."""
        unit = self._unit.get()
        if unit is None:
            done()
        else:
            unit.after.append(done)

    def writing(self) -> None:
        if self.read_only:
            raise ReadOnlyStore("the database was opened read-only")

    def run(self, sql: str, params: Params = ()) -> None:
        """Execute a write. Inside a unit it is pipelined: sent without waiting for its
        result (an error surfaces at the next read or at COMMIT, and fails the unit)."""
        self.writing()
        with self.connection() as conn:
            conn.execute(sql, params)

    def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        with self.connection() as conn:
            return conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        with self.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def pages(
        self, sql: str, params: Params, start: tuple[Any, ...] = (-1,), size: int = 2000
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of `sql` a page at a time, by the key its last columns make (`n`, or
        `day, n`), ascending: `sql` takes `params`, then the key last seen (`start` at
        first), then the page size. A long day is streamed, not held."""
        last = start
        while True:
            rows = self.all(sql, (*params, *last, size))
            yield from rows
            if len(rows) < size:
                return
            last = tuple(rows[-1][-len(start) :])
