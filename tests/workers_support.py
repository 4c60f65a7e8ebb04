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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

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
