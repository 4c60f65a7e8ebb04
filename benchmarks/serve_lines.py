"""The service lines of `make bench`: `paygate serve` over HTTP on loopback.

- embedded: one `paygate serve` on a data dir, 1 client (the baseline) then 8;
- PostgreSQL: `paygate serve --workers 1` then `--workers 2` on a PostgreSQL that this
  module starts (pgserver: the server binaries ship in its wheel), 8 clients each, a
  fresh database per row.

Each row is `service_throughput.run` (fresh data dir, one key and one load-test card per
client, risk limits relaxed). When this checkout cannot run a line (no PostgreSQL
backend, no `--workers`, pgserver missing) or it fails, the line says why instead.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import service_throughput

from gateway_core.settings import Settings


def row(backend: str, workers: int, clients: int, result: tuple) -> dict:
    elapsed, latencies, outcomes, cpu = result
    ms = sorted(t * 1000 for t in latencies)
    approved = outcomes.count("succeeded")
    return {
        "backend": backend,
        "workers": workers,
        "clients": clients,
        "payments": len(ms),
        "seconds": round(elapsed, 2),
        "per_s": round(len(ms) / elapsed, 1),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))], 1),
        "approved": approved,
        "failed": len(outcomes) - approved,
        "cpu_ms": {role: round(s * 1000 / len(ms), 2) for role, s in sorted(cpu.items())},
    }


def embedded(payments: int, clients: tuple[int, ...] = (1, 8)) -> list[dict]:
    """`paygate serve` on the embedded store, one row per client count."""
    rows = []
    for n in clients:
        rows.append(row("embedded", 1, n, service_throughput.run(payments, n)))
        print(f"  paygate serve, {n} client(s): {rows[-1]['per_s']} /s", flush=True)
    return rows


def postgres_missing() -> str | None:
    """Why `serve --workers N` on PostgreSQL cannot run from this checkout (None: it can)."""
    if "database_url" not in Settings.model_fields:
        return "this checkout has no PostgreSQL backend (no database_url setting)"
    help_text = subprocess.run(
        [sys.executable, "-m", "paygate_cli.main", "serve", "--help"],
        capture_output=True,
        text=True,
    ).stdout
    if "--workers" not in help_text:
        return "this checkout's `paygate serve` has no --workers"
    try:
        import pgserver  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed"
    return None


@contextlib.contextmanager
def postgres_server(pgdata: Path) -> Iterator[tuple[str, int]]:
    """An embedded PostgreSQL in `pgdata`, stopped on exit; its URL and its pid."""
    import pgserver

    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
        warnings.simplefilter("ignore")
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    try:
        yield str(server.get_uri()), server.get_pid()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


def fresh_database(server: str, name: str) -> str:
    """A new empty database on `server`; its URL (the schema comes on first use)."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def postgres(payments: int, work: Path, clients: int = 8, workers=(1, 2)) -> dict:
    """`serve --workers N` on PostgreSQL, one row per N; or why not."""
    reason = postgres_missing()
    if reason is not None:
        return {"rows": [], "not_available": reason}
    rows = []
    try:
        with postgres_server(work / "pgdata") as (server, pid):
            for n in workers:
                url = fresh_database(server, f"paygate_bench_w{n}")
                result = service_throughput.run(payments, clients, n, url, pid)
                rows.append(row("postgresql", n, clients, result))
                print(f"  serve --workers {n} on PostgreSQL: {rows[-1]['per_s']} /s", flush=True)
    except (Exception, SystemExit) as e:  # the line says what stopped it, the run goes on
        return {"rows": rows, "not_available": f"failed: {type(e).__name__}: {e}"}
    return {"rows": rows, "not_available": None}
