"""`make bench`: speed and memory of paygate, with its baselines measured in the same run.

Run: .venv/bin/python benchmarks/bench.py [--quick] [--out DIR]
Prints a table and writes DIR/BENCHMARKS.md (the figures section, between markers; the
analysis around it is kept) and DIR/benchmarks.json. DIR defaults to docs/.

What is measured (docs/BENCHMARKS.md says how to read it):
- the whole authorization path (`Gateway.charge` over the embedded banks, zero bank
  latency, relaxed risk limits, cards of the load-test range) while the day already
  holds N payments: on ours, on SQLite (WAL, synchronous=FULL) and on stock TinyDB, each
  in its own data dir; one caller, then 8 concurrent callers (asyncio tasks) in the
  same process (ours and SQLite); the fdatasyncs of a sale, gateway and banks, counted;
- `paygate serve` with 1 and 8 HTTP clients, and `serve --workers 1|2` on PostgreSQL
  with 8 (`serve_lines`; 2 clients in --quick);
- on ours, right after the card sales at each N, UPI payments: create (QR) + pay
  (success@payer, the payer app) + status (`Gateway.refresh`), `upi_path`;
- the store alone: durable inserts/s, and the open time of a day of `day_size` payments
  beside `history_days` more days of history;
- the X report of that day and the peak resident memory of a process holding it;
- the terminal: process start to the first screen drawn (pseudo-terminal), and the
  merchant console on the held day (`screens`);
- the demo: its first-start history seeded alone, and `paygate --demo` on an empty data
  dir to the first screen (history included);
- the profile of a sale: `profile_path.py`'s output, as it prints it;
- the fraud model's scoring of one payment, rules alone against rules + model
  (`fraud_score.py`; issue 20's target: < 1 ms p99).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import serve_lines
from bench_report import table, write
from fraud_score import fraud_scoring
from pydantic import SecretStr
from screens import child_json, console_views, first_frame
from sqlite_store import SqliteDataStore
from stock_store import StockDataStore
from syncs import counted_syncs, fsync_probe
from upi_path import timed_upi

import bank_sim.app as banks_app
import gateway_core.runtime as runtime_module
from bank_sim.demo import seed_demo_history
from bank_sim.embedded import simulated_banks
from bank_sim.testcards import CVV, EXPIRY
from gateway_core.cards import CardInput, load_test_pan
from gateway_core.clock import FixedClock, business_day
from gateway_core.gateway import ChargeRequest
from gateway_core.keys import Keyring
from gateway_core.risk_models import RiskLimits
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, load_settings
from gateway_core.settlement import LOOKBACK_DAYS
from gateway_core.store import DataStore
from gateway_core.store.journal import collector_paused
from gateway_core.store.repos import TinyAuditRepository
from paygate_cli.terminal import DEMO_DAYS, DEMO_PER_DAY

ROOT = Path(__file__).resolve().parent.parent
IST = timezone(timedelta(hours=5, minutes=30), "IST")
START = datetime(2026, 11, 28, 10, 0, tzinfo=IST)
CALLERS = 8  # concurrent callers in one process
WARM = 20  # sales before the timed ones, after the first (which opens the day)
PANS = tuple(load_test_pan(n) for n in range(CALLERS))  # one load-test card each
BACKENDS: dict[str, type[DataStore]] = {
    "ours": DataStore,
    "sqlite": SqliteDataStore,
    "stock_tinydb": StockDataStore,
}


@dataclass(frozen=True)
class Plan:
    """Sizes of one run."""

    sizes: tuple[int, ...]  # payments already in the day, ours and SQLite
    stock_sizes: tuple[int, ...]  # the same for stock TinyDB (it slows down fast)
    charges: int  # timed charges per size
    stock_charges: int
    inserts: int  # store alone: durable inserts timed
    day_size: int  # the day held by the open / X report / memory process
    history_days: int  # days of `day_size` payments beside it
    frames: int  # first-frame runs
    demo: tuple[int, int]  # (days, payments a day) of the seeding timed alone
    demo_runs: int  # runs of the seeding alone and of the demo's first start
    served: int  # payments per `paygate serve` row
    clients: int  # HTTP clients of the service rows (besides the 1-client baseline)
    synced: int  # sequential sales whose fdatasyncs are counted
    profile: tuple[int, int]  # profile_path.py's --stored and --sales


FULL = Plan(
    (1_000, 10_000, 100_000),
    (300, 1_000, 3_000),
    300,
    5,
    2_000,
    100_000,
    10,
    5,
    (DEMO_DAYS, DEMO_PER_DAY),
    3,
    300,
    8,
    100,
    (1_000, 200),
)
QUICK = Plan((100, 300), (100, 300), 16, 3, 100, 300, 2, 1, (2, 10), 1, 16, 2, 5, (100, 10))


# -- a day of payments, cheaply --------------------------------------------------------------
def settings_for(data_dir: Path) -> Settings:
    return load_settings(data_dir=data_dir, timezone="Asia/Kolkata", risk=RiskLimits.relaxed())


def request(pan: str = PANS[0]) -> ChargeRequest:
    """A ₹1.00 sale on a card of the load-test range (Visa, no daily count), keyed in."""
    card = CardInput(pan=SecretStr(pan), expiry=EXPIRY, cvv=SecretStr(CVV))
    return ChargeRequest(amount=1_00, currency="INR", card=card)


@contextlib.contextmanager
def backend(store_class: type[DataStore]) -> Iterator[None]:
    """Runtime and the banks open `store_class` instead of the DataStore."""
    with (
        mock.patch.object(runtime_module, "DataStore", store_class),
        mock.patch.object(banks_app, "DataStore", store_class),
    ):
        yield


def template(work: Path) -> tuple[dict, list[dict]]:
    """One real sale's stored payment and its audit events, to copy from."""
    clock = FixedClock(START)
    with Runtime.open(settings_for(work), clock=clock, banks=simulated_banks) as rt:
        payment = asyncio.run(_one_sale(rt))
        day = rt.store.day(business_day(clock, rt.settings.tz))
        stored = next(dict(d) for d in day.table("payments") if d["id"] == payment)
        events = [dict(d) for d in day.table("audit") if d["subject"] == payment]
    return stored, events


async def _one_sale(rt: Runtime) -> str:
    try:
        payment = await rt.gateway.charge(request())
        assert payment.status == "succeeded", payment.message
        return payment.id
    finally:
        await rt.gateway.bank.close()


def fill_day(store: DataStore, day: date, count: int, model: tuple[dict, list[dict]]) -> None:
    """Add payments (and their audit events, head kept in step) to `day` until it holds
    `count`, written through the store in batches: set-up, not what is measured. The
    copied events are shaped like real ones but not chained (nothing verifies them).
    The data dir gets its key first, as a new one does (a key is never made later)."""
    Keyring.open(store.data_dir / "keys" / "keyring.json", create=True)
    with collector_paused():
        _fill(store, day, count, model)


def _fill(store: DataStore, day: date, count: int, model: tuple[dict, list[dict]]) -> None:
    payment, events = model
    db = store.day(day)
    payments, audit = db.table("payments"), db.table("audit")
    have, seq = len(payments), max((d["seq"] for d in audit), default=0)
    for start in range(have, count, 2_000):
        batch = range(start, min(count, start + 2_000))
        ids = [f"pay_{day:%Y%m%d}_{i:010x}" for i in batch]
        payments.insert_multiple(
            dict(payment, id=pid, amount=1_00 + i) for i, pid in enumerate(ids)
        )
        copies = []
        for pid in ids:
            for event in events:
                seq += 1
                copies.append(dict(event, subject=pid, seq=seq))
        audit.insert_multiple(copies)
        TinyAuditRepository(store).set_head({"seq": seq, "mac": copies[-1]["mac"]})


# -- the whole authorization path -------------------------------------------------------------
async def timed_charges(
    rt: Runtime, count: int, pan: str = PANS[0], *, warm: int = 3
) -> list[float]:
    """Seconds per `Gateway.charge`, one after another, each a full sale that must
    succeed (`warm` more first, to warm up: imports, caches, the card's account opened)."""
    gw = rt.gateway
    for _ in range(warm):
        await gw.charge(request(pan))
    return [await _timed_sale(rt, pan) for _ in range(count)]


async def _timed_sale(rt: Runtime, pan: str) -> float:
    start = time.perf_counter()
    payment = await rt.gateway.charge(request(pan))
    seconds = time.perf_counter() - start
    if payment.status != "succeeded":
        raise RuntimeError(f"a timed sale did not succeed: {payment.message}")
    return seconds


async def concurrent_charges(rt: Runtime, count: int) -> tuple[float, list[float]]:
    """`count` sales by CALLERS asyncio tasks at once, each on its own card: (wall
    seconds, each sale's seconds)."""
    await asyncio.gather(*(rt.gateway.charge(request(pan)) for pan in PANS))  # warm-up
    shares = [count // CALLERS + (i < count % CALLERS) for i in range(CALLERS)]

    async def caller(pan: str, share: int) -> list[float]:
        return [await _timed_sale(rt, pan) for _ in range(share)]

    start = time.perf_counter()
    done = await asyncio.gather(*(caller(p, n) for p, n in zip(PANS, shares, strict=True)))
    return time.perf_counter() - start, [t for times in done for t in times]


async def _path_at(data_dir: Path, count: int, name: str, plan: Plan | None) -> dict:
    """At one day size: sequential sales, then (ours and SQLite) concurrent ones; with
    `plan` (ours, the first size), UPI payments and the fdatasyncs of sequential sales."""
    rt = Runtime.open(settings_for(data_dir), clock=FixedClock(START), banks=simulated_banks)
    out: dict = {}
    try:
        cpu = time.process_time()
        await rt.gateway.charge(request())  # reads the day's tables, builds its id index
        out["first_ms"] = (time.process_time() - cpu) * 1000
        await timed_charges(rt, 0, warm=WARM)
        cpu = time.process_time()
        out["cards"] = await timed_charges(rt, count, warm=0)
        out["cpu_ms"] = (time.process_time() - cpu) / count * 1000
        if name != "stock_tinydb":
            cpu = time.process_time()
            out["concurrent"] = await concurrent_charges(rt, count)
            out["concurrent_cpu_ms"] = (time.process_time() - cpu) / (count + CALLERS) * 1000
        if name == "ours":
            out["upi"] = await timed_upi(rt, min(count, 100))
        if plan is not None:
            with counted_syncs(data_dir) as syncs:
                await timed_charges(rt, plan.synced)
            out["syncs"] = {k: round(v / (plan.synced + 3), 2) for k, v in syncs.items()}
        return out
    finally:
        await rt.aclose()


def whole_path(name: str, plan: Plan, model, work: Path, figures: dict) -> None:
    """Sales/s and latency at each day size, one data dir growing through the sizes,
    into `figures`: whole_path, concurrent_path, upi_path, syncs_per_sale."""
    store_class = BACKENDS[name]
    data_dir = work / f"path-{name}"
    stock = name == "stock_tinydb"
    sizes, charges = (plan.stock_sizes, plan.stock_charges) if stock else (plan.sizes, plan.charges)
    with backend(store_class):
        for size in sizes:
            with store_class(data_dir) as store:
                fill_day(store, START.date(), size, model)
            first = plan if name == "ours" and size == sizes[0] else None
            out = asyncio.run(_path_at(data_dir, charges, name, first))
            row = dict(
                _timed_row(name, size, out["cards"]),
                cpu_ms=round(out["cpu_ms"], 2),
                first_cpu_ms=round(out["first_ms"], 1),
            )
            rows = [("whole_path", "whole path", row)]
            if "concurrent" in out:
                wall, times = out["concurrent"]
                row = dict(
                    _timed_row(name, size, times),
                    per_s=round(len(times) / wall, 1),
                    cpu_ms=round(out["concurrent_cpu_ms"], 2),
                )
                rows.append(("concurrent_path", f"{CALLERS} callers", row))
            if "upi" in out:
                rows.append(("upi_path", "UPI path", _timed_row(name, size, out["upi"])))
            for key, label, row in rows:
                figures.setdefault(key, []).append(row)
                print(f"  {label:<12} {name:>12} at {size:>7,}: {row['per_s']:>8} /s", flush=True)
            if "syncs" in out:
                figures["syncs_per_sale"] = dict(
                    out["syncs"], stored=size, sales=plan.synced, bare_ms=fsync_probe(data_dir)
                )


def _timed_row(store: str, size: int, times: list[float]) -> dict:
    return {
        "store": store,
        "stored": size,
        "charges": len(times),
        "per_s": round(len(times) / sum(times), 1),
        "p50_ms": round(statistics.median(times) * 1000, 2),
        "p99_ms": round(_percentile(times, 0.99) * 1000, 2),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- the store alone -------------------------------------------------------------------------
def durable_inserts(name: str, count: int, model, work: Path) -> dict:
    """Payments inserted one call each (each durable when it returns) into an empty day."""
    payment, _ = model
    with BACKENDS[name](work / f"inserts-{name}") as store:
        table = store.day(START.date()).table("payments")
        start = time.perf_counter()
        for i in range(count):
            table.insert(dict(payment, id=f"pay_20261128_{i:010x}"))
        seconds = time.perf_counter() - start
    return {"store": name, "inserts": count, "per_s": round(count / seconds, 1)}


def history_dir(plan: Plan, model, work: Path) -> Path:
    """Today with `day_size` payments, and `history_days` earlier days as big, before the
    X report's look-back (as in real life, nothing reads them). One history day is
    written through the store; the others are copies of its files under other dates."""
    data_dir = work / "history"
    first = START.date() - timedelta(days=LOOKBACK_DAYS + 1)
    for day in (START.date(), first):
        with DataStore(data_dir) as store:  # one day at a time: memory stays one day's
            fill_day(store, day, plan.day_size, model)
    days = data_dir / "db" / "days"
    for back in range(1, plan.history_days):
        copy = first - timedelta(days=back)
        shutil.copyfile(days / f"{first}.snapshot.json", days / f"{copy}.snapshot.json")
    return data_dir


CHILD_HOLD = """
import sys, time
sys.path.insert(0, sys.argv[2])
import bench
from gateway_core.runtime import Runtime
from gateway_core.settlement import Settlement
from gateway_core.store import DataStore
data_dir = bench.Path(sys.argv[1])
t0 = time.perf_counter()
store = DataStore(data_dir)
payments = len(store.day(bench.START.date()).table("payments"))
store_open = time.perf_counter() - t0
events = len(store.day(bench.START.date()).table("audit"))
whole_day = time.perf_counter() - t0
store.close()
t0 = time.perf_counter()
settings = bench.settings_for(data_dir)
rt = Runtime.open(settings, clock=bench.FixedClock(bench.START), banks=bench.simulated_banks)
rt.gateway.get(next(iter(rt.store.day(bench.START.date()).table("payments")))["id"])
ready = time.perf_counter() - t0
t0 = time.perf_counter()
report = Settlement(rt.records, settings, clock=rt.clock).x_report(bench.START.date())
x_report = time.perf_counter() - t0
rss = bench.peak_rss_mb()
print(bench.json.dumps({"payments": payments, "days": len(rt.store.days()),
    "store_open_s": store_open, "whole_day_s": whole_day, "events": events,
    "runtime_ready_s": ready, "x_report_s": x_report,
    "x_report_count": report.total().count, "max_rss_mb": rss}))
rt.close()
"""


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM, not `ru_maxrss`, which Linux carries
    over from the parent across fork and exec (a child of this benchmark, whose parent
    has held a 100k day, would report the parent's size)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # no /proc (macOS): bytes
    return peak / (2**20 if sys.platform == "darwin" else 1024)


def held_day(data_dir: Path) -> dict:
    """Open a day in a fresh process: open times, X report, peak resident memory."""
    return child_json([sys.executable, "-c", CHILD_HOLD, str(data_dir), str(Path(__file__).parent)])


# -- the demo ---------------------------------------------------------------------------------
def demo_start(plan: Plan, work: Path) -> dict:
    """The demo's history seeded alone into an empty data dir (`plan.demo`, up to 19:30
    of its last day), and `paygate --demo` on an empty data dir to the sign-in screen,
    the first-start history (DEMO_DAYS x DEMO_PER_DAY until now) included; medians."""
    days, per_day = plan.demo
    now = START.replace(hour=19, minute=30)
    seeding, payments = [], 0
    for run in range(plan.demo_runs):
        settings = settings_for(work / f"demo-seed-{run}")
        started = time.perf_counter()
        payments = seed_demo_history(settings, days=days, per_day=per_day, now=now).payments
        seeding.append(time.perf_counter() - started)
    first = []
    for run in range(plan.demo_runs):
        data_dir = work / f"demo-start-{run}"
        command = [sys.executable, "-m", "paygate_cli.main", "--demo", "--data-dir", str(data_dir)]
        first.append(first_frame(data_dir, work / "config", command))
    return {
        "days": days,
        "per_day": per_day,
        "payments": payments,
        "seeding_s": statistics.median(seeding),
        "first_start_s": statistics.median(first),
    }


# -- the profile of a sale -----------------------------------------------------------------------
def profile(stored: int, sales: int) -> dict:
    """profile_path.py's output as it prints it (or why there is none)."""
    argv = ["--stored", str(stored), "--sales", str(sales)]
    script = Path(__file__).parent / "profile_path.py"
    done = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"argv": argv, "lines": [], "not_available": f"exit {done.returncode}: {last}"}
    return {"argv": argv, "lines": done.stdout.strip().splitlines(), "not_available": None}


# -- the machine and the report ------------------------------------------------------------------
def machine() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": os.getloadavg(),
    }


def run(plan: Plan, work: Path) -> dict:
    """Every figure of one run."""
    figures: dict = {"machine": machine(), "plan": asdict(plan)}
    model = template(work / "template")
    figures["record_bytes"] = len(json.dumps(model[0]))
    print("whole authorization path", flush=True)
    for name in BACKENDS:
        whole_path(name, plan, model, work, figures)
    print("the service", flush=True)
    figures["serve"] = serve_lines.embedded(plan.served, (1, plan.clients))
    figures["serve_postgres"] = serve_lines.postgres(plan.served, work, plan.clients)
    print("store alone", flush=True)
    figures["inserts"] = [
        durable_inserts("ours", plan.inserts, model, work),
        durable_inserts("sqlite", plan.inserts, model, work),
        durable_inserts("stock_tinydb", max(10, plan.inserts // 20), model, work),
    ]
    data_dir = history_dir(plan, model, work)
    # The day's payments were copied in around its running totals: the first open
    # rebuilds them from the day (a full scan, the baseline), the second reads them.
    figures["held_day_first"] = held_day(data_dir)
    figures["held_day"] = held_day(data_dir)
    print("terminal", flush=True)
    config_dir = work / "config"
    empty = work / "empty"
    figures["first_frame_s"] = {
        "empty": statistics.median(first_frame(empty, config_dir) for _ in range(plan.frames)),
        "held_day": statistics.median(
            first_frame(data_dir, config_dir) for _ in range(plan.frames)
        ),
    }
    figures["console"] = console_views(data_dir, config_dir)
    print("demo", flush=True)
    figures["demo"] = demo_start(plan, work)
    print("profile of a sale", flush=True)
    figures["profile"] = profile(*plan.profile)
    print("fraud model scoring", flush=True)
    figures["fraud_scoring"] = fraud_scoring(quick=plan == QUICK)
    figures["machine"]["load_end"] = os.getloadavg()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds, not minutes")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="default: docs/")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="paygate-bench-") as tmp:
        os.environ["PAYGATE_CONFIG"] = str(Path(tmp) / "none.toml")
        Path(os.environ["PAYGATE_CONFIG"]).write_text("", encoding="utf-8")
        figures = run(QUICK if args.quick else FULL, Path(tmp))
    figures["quick"] = args.quick
    write(figures, args.out)
    print(table(figures))


if __name__ == "__main__":
    main()
