"""Several gateway processes under load, for tests and measurements.

`wait_until` waits on a condition with a generous deadline (never on time passing);
`drive` is the load driver: `clients` HTTP clients taking card sales on the load-test
range (`499999...`) through a gateway for `sales` sales in all, each with its own
Idempotency-Key, and says what came back (and how fast, for a report: tests never
assert times).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from support import free_port

DEADLINE_S = 60.0


def wait_until(condition: Callable[[], object], what: str, deadline_s: float = DEADLINE_S) -> None:
    """Return once `condition()` is true; fail naming `what` after `deadline_s`."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline_s:.0f} s: {what}")
        time.sleep(0.05)


def luhn_card(n: int, prefix: str = "499999") -> str:
    """The `n`th 16-digit Luhn-valid number starting with `prefix` (load-test cards)."""
    body = f"{prefix}{n:09d}"
    digits = [int(d) for d in reversed(body)]
    total = sum(d if i % 2 else (2 * d // 10 + 2 * d % 10) for i, d in enumerate(digits))
    return body + str((10 - total % 10) % 10)


def sale(card: str, amount: int = 100_00) -> dict[str, object]:
    """A card sale's body for POST /v1/payments."""
    return {
        "amount": amount,
        "currency": "INR",
        "method": "card",
        "card": {"number": card, "expiry": "12/30", "cvv": "123"},
    }


@dataclass
class Load:
    """What `drive` saw: the acknowledged payments by idempotency key, the failures."""

    acked: dict[str, dict] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.acked) / self.seconds if self.seconds else 0.0


async def _client(
    url: str, key: str, queue: asyncio.Queue[int], load: Load, body: Callable[[int], dict]
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        while True:
            try:
                n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            idem = f"load-{n}"
            try:
                response = await http.post(
                    "/v1/payments", json=body(n), headers={"Idempotency-Key": idem}
                )
            except httpx.HTTPError as exc:
                load.errors.append(f"{idem}: {type(exc).__name__}")
                continue
            if response.status_code == 200:
                load.acked[idem] = response.json()
            else:
                load.errors.append(f"{idem}: HTTP {response.status_code} {response.text[:200]}")


async def drive_async(
    url: str,
    key: str,
    *,
    sales: int,
    clients: int = 8,
    body: Callable[[int], dict] | None = None,
) -> Load:
    """`clients` concurrent HTTP clients taking `sales` sales through `url`."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(sales):
        queue.put_nowait(n)
    load = Load()
    make = body or (lambda n: sale(luhn_card(n % 100_000)))
    start = time.perf_counter()
    await asyncio.gather(*(_client(url, key, queue, load, make) for _ in range(clients)))
    load.seconds = time.perf_counter() - start
    return load


def drive(url: str, key: str, *, sales: int, clients: int = 8) -> Load:
    """`drive_async` from synchronous code."""
    return asyncio.run(drive_async(url, key, sales=sales, clients=clients))


def established(pid: int, port: int) -> int:
    """How many connections to local `port` process `pid` holds open now (from /proc:
    which worker of a shared socket took a client's connection)."""
    inodes = set()
    with contextlib.suppress(OSError):  # the process is gone: it holds none
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port and inode in inodes:
                count += 1
    return count


RELAXED = {  # no risk rule gets in a load's way
    "per_minute": 10**9,
    "per_day": 10**9,
    "card_declines": 10**9,
    "testing_declines": 10**9,
}


@dataclass
class Served:
    """A `paygate serve` process (a supervisor with `--workers`), its address and log."""

    proc: subprocess.Popen
    url: str
    port: int
    log: Path

    def said(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()

    def workers(self) -> list[int]:
        """The pids of the supervisor's workers now, as it said."""
        pids: dict[str, int] = {}
        for line in self.said():
            if match := WORKER_RE.match(line):
                pids[match["name"]] = int(match["pid"])
        return list(pids.values())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


WORKER_RE = re.compile(r"(?P<name>worker \d+) (?:started|.*: restarted) \(pid (?P<pid>\d+)\)")


def serve(
    paygate_cmd: list[str],
    data_dir: Path,
    *options: str,
    risk: dict[str, int] | None = None,
    **env: str,
) -> Served:
    """`paygate serve OPTIONS` on a free port over `data_dir` (risk limits `risk`, else
    relaxed; `env`: PAYGATE_* variables), once it answers /health."""
    port = free_port()
    config = data_dir.with_name(f"config-{port}.toml")
    limits = "\n".join(f"{name} = {value}" for name, value in (risk or RELAXED).items())
    config.write_text(f'timezone = "Asia/Kolkata"\n[risk]\n{limits}\n', encoding="utf-8")
    log = data_dir.with_name(f"serve-{port}.log")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*paygate_cmd, "serve", "--port", str(port), "--data-dir", str(data_dir), *options],
            stdout=out,
            stderr=out,
            env={**os.environ, "PAYGATE_CONFIG": str(config), **env},
        )
    served = Served(proc, f"http://127.0.0.1:{port}", port, log)

    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"paygate serve stopped: {log.read_text()}")
        try:
            return httpx.get(f"{served.url}/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, "paygate serve answers /health")
    return served
