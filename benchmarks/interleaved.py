"""Two checkouts' card sales, interleaved: CPU and wall time per `Gateway.charge`.

Run: .venv/bin/python benchmarks/interleaved.py OLD_CHECKOUT NEW_CHECKOUT [--rounds 80]
     [--sales 50] [--stored OLD_N,NEW_N] [--keyed]

On a shared VM the same code runs 20–50 % faster or slower from one minute to the next,
so two `make bench` runs one after the other cannot show a 5 % difference. Here each
checkout runs in its own process (its packages first on the path), both warmed up on a
fresh data dir; then round after round each takes `--sales` sales in turn, the order
swapped every round, so that both see the same machine. What is compared is the ratio
within each round (new / old), and its median over the rounds.

`--stored` fills each side's day with that many payments first (the same checkout twice
with `--stored 1000,100000` shows whether a sale's cost grows with the day); `--keyed`
gives every sale an idempotency key, as the service's clients do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def prepare(tree: Path, stored: int, work: Path) -> Path:
    """A fresh data dir in `work` for `tree`'s code whose day holds `stored` payments."""
    sys.path[:0] = [str(tree), str(tree / "benchmarks")]
    import bench  # the checkout's own: how it opens a runtime and what a sale is

    if not stored:
        return work
    model = bench.template(work / "template")
    with bench.DataStore(work / "data") as store:
        bench.fill_day(store, bench.START.date(), stored, model)
    return work / "data"


async def worker(data_dir: Path, keyed: bool) -> None:
    """Take sales on `data_dir`: after "ready", one line per count read from stdin ("0"
    stops), answered with its CPU and wall seconds."""
    import bench

    banks = {"banks": bench.simulated_banks} if hasattr(bench, "simulated_banks") else {}
    rt = bench.Runtime.open(
        bench.settings_for(data_dir), clock=bench.FixedClock(bench.START), **banks
    )
    gateway = rt.gateway
    if hasattr(bench, "unlimited_card"):  # before the load-test range: lift the count
        bench.unlimited_card(rt)
    for _ in range(30):  # warm-up: imports, caches, the banks' first tables
        await gateway.charge(bench.request())
    print("ready", flush=True)
    made = 0
    for line in sys.stdin:
        if (count := int(line)) == 0:
            break
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(count):
            req = bench.request()
            if keyed:
                made += 1
                req = req.model_copy(update={"idempotency_key": f"sale-{made}"})
            if (await gateway.charge(req)).status != "succeeded":
                raise RuntimeError("a timed sale did not succeed")
        print(time.process_time() - cpu, time.perf_counter() - wall, flush=True)
    await rt.aclose()


def start(tree: Path, stored: int, keyed: bool) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = ["--worker", str(tree), "--stored", str(stored), *(["--keyed"] if keyed else [])]
    proc = subprocess.Popen(
        [sys.executable, __file__, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"the worker of {tree} did not start")
    return proc


def compare(
    old: Path, new: Path, rounds: int, sales: int, stored: tuple[int, int], keyed: bool
) -> None:
    procs = {"old": start(old, stored[0], keyed), "new": start(new, stored[1], keyed)}
    times: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for n in range(rounds):
        for side in ("old", "new") if n % 2 == 0 else ("new", "old"):
            proc = procs[side]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(f"{sales}\n")
            proc.stdin.flush()
            cpu, wall = map(float, proc.stdout.readline().split())
            times[side].append((1000 * cpu / sales, 1000 * wall / sales))
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.write("0\n")
        proc.stdin.flush()
        proc.wait()
    print(f"{rounds} rounds of {sales} sales on each side, interleaved")
    print(
        f"payments already in the day: old {stored[0]:,}, new {stored[1]:,}; idempotency"
        f" keys: {keyed}; load average at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        file=sys.stderr,
    )
    quarter = max(1, rounds // 4)
    for side, runs in times.items():  # growth as sales pile up: first rounds against last
        first = statistics.median(t[0] for t in runs[:quarter])
        last = statistics.median(t[0] for t in runs[-quarter:])
        print(
            f"{side}: CPU ms a sale, first {quarter} rounds {first:.3f}, last {last:.3f}",
            file=sys.stderr,
        )
    for k, what in enumerate(("CPU", "wall")):
        olds = [t[k] for t in times["old"]]
        news = [t[k] for t in times["new"]]
        ratios = [b / a for a, b in zip(olds, news, strict=True)]
        print(
            f"{what:4} ms a sale: old {statistics.median(olds):.3f},"
            f" new {statistics.median(news):.3f} (medians);"
            f" new/old per round: median {statistics.median(ratios):.3f},"
            f" mean {statistics.mean(ratios):.3f}, new higher in {sum(r > 1 for r in ratios)}"
            f" of {rounds}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, nargs="?")
    parser.add_argument("new", type=Path, nargs="?")
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("--sales", type=int, default=50)
    parser.add_argument("--stored", default="0,0", help="OLD_N,NEW_N payments in the day")
    parser.add_argument("--keyed", action="store_true", help="an idempotency key a sale")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        with tempfile.TemporaryDirectory(prefix="paygate-interleaved-") as work:
            data_dir = prepare(args.worker.resolve(), int(args.stored), Path(work))
            asyncio.run(worker(data_dir, args.keyed))
    elif args.old and args.new:
        old_n, new_n = (int(n) for n in args.stored.split(","))
        compare(
            args.old.resolve(),
            args.new.resolve(),
            args.rounds,
            args.sales,
            (old_n, new_n),
            args.keyed,
        )
    else:
        parser.error("give the old and the new checkout")


if __name__ == "__main__":
    main()
