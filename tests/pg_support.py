"""A real PostgreSQL for the tests.

`pg_server` (session): the URL of a server: `PAYGATE_TEST_DATABASE_URL` when set (read at
start, before the tests' environment is emptied), else an embedded PostgreSQL from
PyPI (pgserver: the server binaries ship in its wheel) started in a temporary dir that
every xdist worker of the run shares, stopped and deleted when the last one exits. If it cannot
start, every test that needs it FAILS with the reason: PostgreSQL tests never skip.

`pg_database` (module): the URL of a fresh database for the module, made from a
template that holds the current schema (`CREATE DATABASE ... TEMPLATE`: fast).
`pg_url` (function): `pg_database` emptied of every row for the test.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import secrets
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from gateway_core.pgstore import schema
from gateway_core.pgstore.db import Database

URL_VARIABLE = "PAYGATE_TEST_DATABASE_URL"
GIVEN_URL = os.environ.get(URL_VARIABLE, "")
# named after the migrations' text: a server kept between runs gets a new one when it changes
_SCHEMA = hashlib.sha256("".join(m.sql for m in schema.migrations()).encode()).hexdigest()
TEMPLATE = f"paygate_template_{_SCHEMA[:12]}"
_LOCK = 0x70677465  # the template is made by one xdist worker at a time
_names = itertools.count(1)


def with_database(url: str, name: str) -> str:
    """`url` naming database `name` instead of its own."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _start_embedded(root: Path) -> str:
    try:
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
            warnings.simplefilter("ignore")
            import pgserver

            server = pgserver.get_server(root, cleanup_mode="delete")
        return str(server.get_uri())
    except Exception as e:  # whatever stops it, the tests must say so, not skip
        pytest.fail(f"PostgreSQL did not start for the tests ({type(e).__name__}: {e})")


def _make_template(url: str) -> None:
    """The template database with the current schema, made once per server."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK,))
        try:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,))
            if found.fetchone() is None:
                conn.execute(f"CREATE DATABASE {TEMPLATE}")
                db = Database(with_database(url, TEMPLATE), size=1)
                try:
                    schema.upgrade(db)
                finally:
                    db.close()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a PostgreSQL server with the schema's template database on it."""
    if GIVEN_URL:
        url = GIVEN_URL
    else:
        # its own temp dir (pytest prunes old base temp dirs, another run's may be ours);
        # the xdist workers of one run share it, and one server
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid())
        url = _start_embedded(Path(tempfile.gettempdir()) / f"paygate-pg-{run}")
    try:
        _make_template(url)
    except psycopg.Error as e:
        pytest.fail(f"PostgreSQL at {url} refused the test template: {e}")
    return url


def new_database(server: str, label: str) -> str:
    """A fresh database from the template; its URL."""
    name = f"t_{re.sub(r'[^a-z0-9]+', '_', label.lower())[-30:]}_{next(_names)}"
    name = f"{name}_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return with_database(server, name)


def drop_database(server: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def pg_database(pg_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a database of this module's own, with the current schema."""
    url = new_database(pg_server, request.module.__name__)
    yield url
    drop_database(pg_server, url)


def empty(url: str) -> None:
    """Remove every row (the schema stays)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'schema_version'"
        ).fetchall()
        if rows:
            conn.execute(f"TRUNCATE {', '.join(row[0] for row in rows)} RESTART IDENTITY")


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The module's database, emptied for this test."""
    empty(pg_database)
    return pg_database


def table_rows(url: str) -> list[tuple[str, bytes]]:
    """Every row of every table of the database, as text: (table, rows) each."""
    with psycopg.connect(url) as conn:
        names = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
        return [
            (
                f"table {name}",
                "\n".join(r[0] for r in conn.execute(f"SELECT t::text FROM {name} t")).encode(),
            )
            for (name,) in names
        ]


BACKENDS = ["embedded", "postgres"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """A test that asks for it runs on both backends: None (the embedded store: the
    data dir), then the URL of the module's PostgreSQL database, emptied for the test."""
    return request.getfixturevalue("pg_url") if request.param == "postgres" else None


@contextlib.contextmanager
def records_on(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, *, home: str
) -> Iterator[Any]:
    """The records of merchant `home` on `backend`: "embedded" (a data dir in
    `tmp_path`) or "postgres" (the module's database, emptied)."""
    if backend == "postgres":
        from gateway_core.pgstore import PgRecords

        records: Any = PgRecords(request.getfixturevalue("pg_url"), home)
    else:
        from gateway_core.store import DataStore
        from gateway_core.store.records import TinyRecords

        records = TinyRecords(DataStore(tmp_path / "data"), home=home)
    try:
        yield records
    finally:
        records.close()
