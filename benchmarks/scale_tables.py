"""The tables of issue 19's figures in `make bench`'s section: concurrent callers,
fdatasyncs per sale, and the gateway as a service (embedded, then PostgreSQL)."""

from __future__ import annotations


def scale_tables(figures: dict) -> list[str]:
    return [*concurrent_table(figures), *syncs_table(figures), *serve_table(figures)]


def concurrent_table(figures: dict) -> list[str]:
    """8 callers at once in one process, beside one caller at the same size."""
    alone = {(r["store"], r["stored"]): r["per_s"] for r in figures["whole_path"]}
    lines = [
        "",
        "### The same with 8 concurrent callers in one process (asyncio tasks)",
        "",
        "Sales/s = sales ÷ the wall time of all of them; p50/p99 are of the single sales.",
        "",
        "| store | payments already in the day | sales timed | sales/s | p50 ms | p99 ms "
        "| CPU ms a sale | one caller, same size | 8 callers / one |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in figures["concurrent_path"]:
        one = alone.get((r["store"], r["stored"]))
        ratio = "—" if not one else f"{r['per_s'] / one:.2f}×"
        lines.append(
            f"| {r['store']} | {r['stored']:,} | {r['charges']} | {r['per_s']:,} "
            f"| {r['p50_ms']} | {r['p99_ms']} | {r['cpu_ms']} | {one:,} | {ratio} |"
        )
    by = {(r["store"], r["stored"]): r["per_s"] for r in figures["concurrent_path"]}
    pairs = [
        f"{size:,}: {per_s / by[('sqlite', size)]:.2f}×"
        for (store, size), per_s in sorted(by.items(), key=lambda kv: kv[0][1])
        if store == "ours" and ("sqlite", size) in by
    ]
    lines += ["", f"ours / SQLite with 8 callers: {', '.join(pairs) or '—'}."]
    return lines


def syncs_table(figures: dict) -> list[str]:
    s = figures["syncs_per_sale"]
    return [
        "",
        "### fdatasyncs per sale (one caller, counted)",
        "",
        f"Every `os.fdatasync`/`os.fsync` call during {s['sales'] + 3} sequential sales at "
        f"{s['stored']:,} payments in the day, by whose file it was.",
        "",
        "| gateway | banks | total | one bare 1 KB append + fdatasync, same disk |",
        "|---:|---:|---:|---:|",
        f"| {s['gateway']} | {s['banks']} | {s['total']} | {s['bare_ms']} ms |",
    ]


def serve_table(figures: dict) -> list[str]:
    """`paygate serve` rows, then the PostgreSQL rows or why there are none."""
    pg = figures["serve_postgres"]
    lines = [
        "",
        "### The gateway as a service: `paygate serve` on loopback, N HTTP clients",
        "",
        "Each client posts sales one after another on its own load-test card; payments/s "
        "= payments ÷ wall time.",
        "",
        "| store | workers | clients | payments | payments/s | p50 ms | p99 ms | failed "
        "| CPU ms a payment, by process |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in [*figures["serve"], *pg["rows"]]:
        cpu = ", ".join(f"{role} {ms}" for role, ms in r.get("cpu_ms", {}).items()) or "—"
        lines.append(
            f"| {r['backend']} | {r['workers']} | {r['clients']} | {r['payments']} "
            f"| {r['per_s']:,} | {r['p50_ms']} | {r['p99_ms']} | {r['failed']} | {cpu} |"
        )
    lines.append("")
    if pg["not_available"]:
        lines.append(f"`serve --workers 2` on PostgreSQL: not available: {pg['not_available']}.")
    ratio = workers_ratio(figures)
    if ratio is not None:
        n = figures["plan"]["clients"]
        lines.append(
            f"`serve --workers 2` / `--workers 1` on PostgreSQL, {n} clients: {ratio:.2f}×."
        )
    return lines


def workers_ratio(figures: dict) -> float | None:
    by = {r["workers"]: r["per_s"] for r in figures["serve_postgres"]["rows"]}
    return by[2] / by[1] if 1 in by and 2 in by else None
