"""What `make bench` prints and writes: the figures as Markdown (ratios, targets) into
docs/BENCHMARKS.md between its markers, and docs/benchmarks.json."""

from __future__ import annotations

import json
from pathlib import Path

from bench_targets import targets
from scale_tables import scale_tables
from scaling_model import model_table

NOT_DURABLE = {"stock_tinydb": " (not durable: no fsync, rewrites in place)"}
MARK_START, MARK_END = "<!-- figures:start -->", "<!-- figures:end -->"


def ratios(figures: dict, key: str = "whole_path") -> list[dict]:
    """ours / SQLite and ours / stock TinyDB at every size both measured."""
    by = {(r["store"], r["stored"]): r["per_s"] for r in figures.get(key, [])}
    out = []
    for (store, size), per_s in sorted(by.items(), key=lambda kv: kv[0][1]):
        if store != "ours":
            continue
        out.append(
            {
                "stored": size,
                "ours_over_sqlite": _ratio(per_s, by.get(("sqlite", size))),
                "ours_over_stock": _ratio(per_s, by.get(("stock_tinydb", size))),
            }
        )
    return out


def _ratio(ours: float, other: float | None) -> float | None:
    return None if other is None else round(ours / other, 2)


def table(figures: dict) -> str:
    """The figures as Markdown."""
    m = figures["machine"]
    lines = [
        f"Run {m['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, "
        f"Python {m['python']} ({m['os']}). Load average (1, 5, 15 min) at the start "
        f"{_load(m['load_start'])}, at the end {_load(m['load_end'])}.",
        "",
        "### Whole authorization path (sales/s and latency per `Gateway.charge`)",
        "",
        "One caller, one sale after another, on a card of the load-test range. The first "
        "sale after the data dir is opened reads the day's tables and builds its id index: "
        "its CPU is apart, outside the timed sales and their CPU a sale.",
        "",
        "| store | payments already in the day | sales timed | sales/s | p50 ms | p99 ms "
        "| CPU ms a sale | CPU ms of the first sale |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in figures["whole_path"]:
        lines.append(
            f"| {r['store']} | {r['stored']:,} | {r['charges']} | {r['per_s']:,} "
            f"| {r['p50_ms']} | {r['p99_ms']} | {r['cpu_ms']} | {r.get('first_cpu_ms', '—')} |"
        )
    lines += [
        "",
        "| payments in the day | ours / SQLite | ours / stock TinyDB |",
        "|---:|---:|---:|",
    ]
    for r in ratios(figures):
        lines.append(
            f"| {r['stored']:,} | {_x(r['ours_over_sqlite'])} | {_x(r['ours_over_stock'])} |"
        )
    lines += scale_tables(figures)
    lines += upi_table(figures)
    held, demo = figures["held_day"], figures["demo"]
    lines += [
        "",
        "### Store alone, reports, memory, terminal",
        "",
        "| figure | value |",
        "|---|---:|",
    ]
    for r in figures["inserts"]:
        lines.append(
            f"| inserts/s one call each, {r['store']}{NOT_DURABLE.get(r['store'], '')} "
            f"({r['inserts']} payments) | {r['per_s']:,} |"
        )
    lines += [
        f"| store open: today ({held['payments']:,} payments) beside "
        f"{held['days'] - 1} days of history | {held['store_open_s']:.3f} s |",
        f"| the same with the day's {held.get('events', 0):,} audit events read too | "
        f"{held.get('whole_day_s', 0):.3f} s |",
        f"| runtime ready (keys, vault, audit, banks, gateway) on it | "
        f"{held['runtime_ready_s']:.3f} s |",
        f"| X report of that day ({held['x_report_count']:,} payments), first open: its "
        f"running totals rebuilt from the day | {figures['held_day_first']['x_report_s']:.3f} s |",
        f"| X report of that day, next open (from its running totals, if kept) | "
        f"{held['x_report_s']:.3f} s |",
        f"| peak resident memory of that process (VmHWM) | {held['max_rss_mb']:.0f} MB |",
        f"| terminal, process start to first screen, empty data dir | "
        f"{figures['first_frame_s']['empty']:.2f} s |",
        f"| terminal, process start to first screen, on that day | "
        f"{figures['first_frame_s']['held_day']:.2f} s |",
        f"| merchant console on that day: F4 to the dashboard filled (after the PIN) | "
        f"{figures['console']['console_s']:.2f} s |",
        f"| then the transaction view's first page ({figures['console']['rows']} rows) | "
        f"{figures['console']['transactions_s']:.2f} s |",
        f"| demo history seeded alone: {demo['days']} days of {demo['per_day']} payments "
        f"({demo['payments']} made) | {demo['seeding_s']:.2f} s |",
        f"| `paygate --demo`, empty data dir, to the first screen (history seeded first) | "
        f"{demo['first_start_s']:.2f} s |",
        f"| one stored payment record (JSON) | {figures['record_bytes']:,} bytes |",
        "",
        "### Targets (reported, not asserted)",
        "",
        "| target | this run | met |",
        "|---|---:|---|",
    ]
    lines += [f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in targets(figures)]
    lines += fraud_section(figures)
    lines += profile_section(figures)
    return "\n".join(lines)


def fraud_section(figures: dict) -> list[str]:
    """`fraud_score.py`'s figures: one payment's risk assessment, rules alone (the
    baseline) and rules + model, timed in turn; the model's parts apart."""
    f = figures.get("fraud_scoring")
    if not f:
        return []
    lines = [
        "",
        "### Fraud model scoring (one payment's risk assessment)",
        "",
        f"{f['payments']:,} payments replayed after {f['history']:,} of simulated history, "
        "each assessed by the rules alone and by the rules with the model attached, in turn; "
        "each assess timed alone, wall and the thread's CPU, in µs.",
        "",
        "| what | p50 µs | p99 µs | mean µs |",
        "|---|---:|---:|---:|",
    ]
    for key, label in (
        ("rules", "rules alone (the baseline), wall"),
        ("rules_and_model", "rules + model, wall"),
        ("rules_cpu", "rules alone, CPU"),
        ("rules_and_model_cpu", "rules + model, CPU"),
        ("features", "the model's features"),
        ("model_call", "the model's call (score and reasons)"),
    ):
        row = f[key]
        lines.append(f"| {label} | {row['p50_us']} | {row['p99_us']} | {row['mean_us']} |")
    return lines


def profile_section(figures: dict) -> list[str]:
    """profile_path.py's output: its table as it is, its other lines as a list."""
    run = figures["profile"]
    lines = [
        "",
        f"### Profile of a sale (`benchmarks/profile_path.py {' '.join(run['argv'])}`)",
        "",
    ]
    if run["not_available"]:
        return [*lines, f"not available: {run['not_available']}"]
    table_started = False
    for line in run["lines"]:
        if line.startswith("|"):
            if not table_started:
                lines.append("")
            table_started = True
            lines.append(line)
        elif line.strip():
            if table_started:
                lines.append("")
            table_started = False
            lines.append(f"- {line.strip()}")
    return lines


def upi_table(figures: dict) -> list[str]:
    """The UPI line: payments/s of create (QR) + pay + status, beside the card sales of
    the same run at the same size."""
    cards = {(r["store"], r["stored"]): r["per_s"] for r in figures["whole_path"]}
    lines = [
        "",
        "### UPI path (payments/s: create a QR + pay with success@payer + status)",
        "",
        "| store | payments already in the day | UPI payments timed | payments/s | p50 ms "
        "| p99 ms | card sales/s, same size |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in figures.get("upi_path", []):
        card = cards.get((r["store"], r["stored"]))
        lines.append(
            f"| {r['store']} | {r['stored']:,} | {r['charges']} | {r['per_s']:,} "
            f"| {r['p50_ms']} | {r['p99_ms']} | {'—' if card is None else f'{card:,}'} |"
        )
    return lines


def _load(values) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value}×"


def scaling_section(figures: dict) -> str:
    """docs/SCALING.md's measured part: issue 19's figures, the profile, the model."""
    m = figures["machine"]
    lines = [
        f"Measured by `make bench`{' --quick' if figures.get('quick') else ''} on {m['date']} "
        f"({m['cores']} cores, load average at the start {_load(m['load_start'])}; the "
        "machine is shared: figures of one run compare, runs do not).",
        "",
        "| figure | this run | target met |",
        "|---|---:|---|",
    ]
    lines += [f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in targets(figures)]
    lines += profile_section(figures)
    lines += ["", "### What the model predicts from these figures", "", *model_table(figures)]
    return "\n".join(lines)


def _replace_section(doc: Path, section: str, title: str) -> None:
    """Write `section` between the markers of `doc` (made with `title` if missing)."""
    section = f"{MARK_START}\n{section}\n{MARK_END}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + section + rest.split(MARK_END, 1)[1]
    else:
        text = f"# {title}\n\n`make bench` wrote this.\n\n{section}\n"
    doc.write_text(text, encoding="utf-8")


def write(figures: dict, out: Path) -> None:
    """benchmarks.json, and the figures sections of BENCHMARKS.md and SCALING.md (the
    rest of each is kept)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    _replace_section(out / "BENCHMARKS.md", table(figures), "Benchmarks")
    _replace_section(out / "SCALING.md", scaling_section(figures), "Scaling")
