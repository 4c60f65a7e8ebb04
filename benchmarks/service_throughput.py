"""Payments per second through `paygate serve`, from N concurrent HTTP clients.

Run: .venv/bin/python benchmarks/service_throughput.py [--payments 1000] [--clients 1,4,16]
For each client count: a fresh data dir, one terminal key per client, a `paygate serve`
process on a free loopback port with the simulated banks in it (zero latency, risk rules
relaxed), then every client posts its share of sales (each with its own idempotency
key, each client on its own card of the load-test range) as fast as answers come back.
Prints one table row per client count: wall time, payments/s, per-request latency
percentiles, and how many were approved, declined (a full round trip too) or failed
(not a 200). `run(..., workers=N, database_url=URL)` is `paygate serve --workers N` on
PostgreSQL (`make bench`, benchmarks/serve_lines.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from proc_cpu import tree_cpu

from bank_sim.testcards import CVV, EXPIRY
from gateway_core.cards import load_test_pan
from paygate_cli.main import main as paygate

CONFIG = """timezone = "Asia/Kolkata"
[risk]
per_minute = 1000000000
per_day = 1000000000
card_declines = 1000000000
testing_declines = 1000000000
usual_ticket_min_history = 1000000000
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def issue_keys(data_dir: Path, clients: int) -> list[str]:
    """One terminal key per client (printed by `paygate terminals add`)."""
    keys = []
    for i in range(clients):
        out = io.StringIO()
        argv = ["terminals", "add", "--terminal", f"BENCH{i:03d}", "--data-dir", str(data_dir)]
        with contextlib.redirect_stdout(out):
            code = paygate([*argv, "--admin", "owner", "--admin-pin", "9876"])
        if code != 0:
            raise SystemExit(f"terminals add failed with exit code {code}")
        keys.append(out.getvalue().splitlines()[1])
    return keys


def start_server(data_dir: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "paygate_cli.main", "serve", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(
        [*cmd, "--data-dir", str(data_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("paygate serve exited at start")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("paygate serve did not answer /health in 60 s")


async def client_run(url: str, key: str, client_no: int, count: int) -> tuple[list[float], list]:
    """Post `count` sales one after another; the latencies and each outcome (the
    payment's status, or the HTTP status of a failure)."""
    latencies, outcomes = [], []
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        card = {"number": load_test_pan(100 + client_no), "expiry": EXPIRY, "cvv": CVV}
        for n in range(count):
            body = {"amount": 1_00 + n % 100, "card": card}
            started = time.perf_counter()
            response = await client.post(
                "/v1/payments", json=body, headers={"Idempotency-Key": f"b{client_no}-{n}"}
            )
            latencies.append(time.perf_counter() - started)
            ok = response.status_code == 200
            outcomes.append(response.json()["status"] if ok else response.status_code)
    return latencies, outcomes


async def measure(url: str, keys: list[str], payments: int) -> tuple[float, list[float], list]:
    shares = [payments // len(keys) + (i < payments % len(keys)) for i in range(len(keys))]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            client_run(url, key, i, share)
            for i, (key, share) in enumerate(zip(keys, shares, strict=True))
        )
    )
    elapsed = time.perf_counter() - started
    latencies = [t for lat, _outcomes in results for t in lat]
    return elapsed, latencies, [o for _lat, outcomes in results for o in outcomes]


def run(
    payments: int,
    clients: int,
    workers: int = 1,
    database_url: str | None = None,
    database_pid: int | None = None,
) -> tuple[float, list[float], list, dict[str, float]]:
    """One row: a fresh data dir (and `database_url`, a fresh PostgreSQL database, when
    given), `clients` keys, the server, the sales; (seconds, latencies, outcomes, CPU
    seconds spent meanwhile by role: gateway, banks, postgresql (the tree of
    `database_pid`) and clients (this process))."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(CONFIG, encoding="utf-8")
        os.environ["PAYGATE_CONFIG"] = str(config)
        if database_url:
            os.environ["PAYGATE_DATABASE_URL"] = database_url
        try:
            data_dir = Path(tmp) / "data"
            keys = issue_keys(data_dir, clients)
            proc, url = start_server(data_dir, workers)
            roots = {"server": proc.pid}
            if database_pid is not None:
                roots["postgresql"] = database_pid
            try:
                before, mine = tree_cpu(roots), time.process_time()
                result = asyncio.run(measure(url, keys, payments))
                cpu = tree_cpu(roots)
                cpu.subtract(before)
                cpu["clients"] = time.process_time() - mine
                return (*result, dict(cpu))
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1000, help="sales per row")
    parser.add_argument("--clients", default="1,4,16", help="client counts, comma-separated")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    print(f"{'clients':>7} {'payments':>8} {'seconds':>8} {'pay/s':>7} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'approved':>8} {'declined':>8} {'failed':>6}")  # fmt: skip
    for clients in counts:
        elapsed, lat, outcomes, _cpu = run(args.payments, clients)
        ms = sorted(t * 1000 for t in lat)
        pct = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
        approved, declined = outcomes.count("succeeded"), outcomes.count("declined")
        failed = len(outcomes) - approved - declined
        print(
            f"{clients:>7} {len(ms):>8} {elapsed:>8.2f} {len(ms) / elapsed:>7.1f} "
            f"{pct[49]:>7.1f} {pct[94]:>7.1f} {pct[98]:>7.1f} {approved:>8} {declined:>8} "
            f"{failed:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
