"""Where the time of one sale goes: cProfile of the whole path, grouped by layer.

Run: .venv/bin/python benchmarks/profile_path.py [--stored 1000] [--sales 200] [--top 15]
Also counts fdatasync calls per sale, the gateway's and the banks' apart (a sync in the
store's group-commit thread is counted too, but its time is the event loop's wait), lists
the functions with the most time of their own, and measures one bare append + fdatasync
on the same disk, the floor under every durable write.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from collections import Counter
from pathlib import Path

import bench

LAYERS = [  # first match wins: (layer, substrings of "file:function")
    ("fdatasync (durable writes)", ("fdatasync", "fsync")),
    ("waiting: a sync in the store's thread, its hand-off", ("epoll", "SimpleQueue")),
    ("ISO 8583 encode/decode", ("iso8583",)),
    ("HTTP in process (httpx, ASGI, FastAPI)", ("starlette", "fastapi", "httpx", "anyio")),
    ("pydantic models", ("pydantic", "validate_python", "to_python")),
    ("store CPU (TinyDB, journal, orjson)", ("tinydb", "gateway_core/store", "orjson")),
    ("asyncio", ("asyncio", "selectors")),
    ("crypto (HMAC, AES-GCM, SHA)", ("hmac", "hashlib", "cryptography", "_hashlib")),
    ("bank_sim (acquirer, network, issuer, ledger)", ("bank_sim",)),
    ("gateway_core (rules, gateway, tenders, audit, vault)", ("gateway_core",)),
]


def layer_of(file: str, function: str) -> str:
    where = f"{file}:{function}"
    return next((name for name, cues in LAYERS if any(c in where for c in cues)), "other")


async def profile(data_dir: Path, sales: int, top: int) -> None:
    rt = bench.Runtime.open(
        bench.settings_for(data_dir),
        clock=bench.FixedClock(bench.START),
        banks=bench.simulated_banks,
    )
    try:
        await bench.timed_charges(rt, 20)  # warm
        real, calls = os.fdatasync, Counter[str]()
        banks = str(data_dir / "banks")

        def counting(fd: int) -> None:
            path = os.readlink(f"/proc/self/fd/{fd}")
            calls["banks" if path.startswith(banks) else "gateway"] += 1
            real(fd)

        os.fdatasync = counting
        cpu, wall = time.process_time(), time.perf_counter()
        await bench.timed_charges(rt, sales)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        os.fdatasync = real
        per = sales + 3  # timed_charges warms up with 3 more
        print(
            f"{calls.total() / per:.2f} fdatasync per sale (gateway "
            f"{calls['gateway'] / per:.2f}, banks {calls['banks'] / per:.2f})"
        )
        print(f"{wall / per * 1000:.2f} ms wall, {cpu / per * 1000:.2f} ms CPU per sale")
        profiler = cProfile.Profile()
        profiler.enable()
        await bench.timed_charges(rt, sales)
        profiler.disable()
    finally:
        await rt.aclose()
    layers: Counter[str] = Counter()
    own_times: Counter[str] = Counter()
    for (file, line, function), (_cc, _nc, own, _cum, _callers) in pstats.Stats(
        profiler
    ).stats.items():
        layers[layer_of(file, function)] += own
        own_times[f"{file.rsplit('/', 2)[-1]}:{line}({function})"] += own
    total = sum(layers.values())
    print("\n| layer | ms per sale (profiled) | share |\n|---|---:|---:|")
    for name, seconds in layers.most_common():
        print(f"| {name} | {seconds / per * 1000:.2f} | {seconds / total:.0%} |")
    print(f"\n| function (top {top} by own time) | ms per sale (profiled) |\n|---|---:|")
    for name, seconds in own_times.most_common(top):
        print(f"| `{name}` | {seconds / per * 1000:.3f} |")


def bare_fdatasync(directory: Path, count: int = 500) -> float:
    """Seconds for one 1 KB append + fdatasync."""
    fd = os.open(directory / "probe", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        start = time.perf_counter()
        for _ in range(count):
            os.write(fd, b"x" * 1023 + b"\n")
            os.fdatasync(fd)
        return (time.perf_counter() - start) / count
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=1_000, help="payments already in the day")
    parser.add_argument("--sales", type=int, default=200)
    parser.add_argument("--top", type=int, default=15, help="functions listed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paygate-profile-") as tmp:
        work = Path(tmp)
        model = bench.template(work / "template")
        with bench.DataStore(work / "data") as store:
            bench.fill_day(store, bench.START.date(), args.stored, model)
        asyncio.run(profile(work / "data", args.sales, args.top))
        print(f"\none bare 1 KB append + fdatasync: {bare_fdatasync(work) * 1000:.3f} ms")


if __name__ == "__main__":
    main()
