"""What N gateway processes and machines would do: a queueing model fed with measured figures.

Run: .venv/bin/python benchmarks/scaling_model.py [--figures docs/benchmarks.json]
`make bench` runs it on the figures it has just measured and writes its table into
docs/SCALING.md (between markers).

The model is exact Mean Value Analysis of a closed network: C clients, each posting a
sale as soon as its last one is answered (no think time), visiting in turn

- the gateway's CPU: a station of `servers` = processes (one GIL each), at most the
  cores of the machines; demand = CPU ms a sale (measured: process CPU time over the
  sequential sales, the simulated banks' work included, so pessimistic for a gateway
  whose banks are elsewhere) plus, over HTTP, the extra CPU of the service (measured:
  one client through `paygate serve` against the in-process path); on PostgreSQL, the
  gateway processes' own CPU a payment in the `serve --workers` row (measured);
- the commits: a delay, not a queue (group commit: a commit waits for the next sync,
  which covers every commit before it, so commits do not queue behind each other);
  embedded: durable commits a sale x one fdatasync (both measured); PostgreSQL: one
  COMMIT a sale (WAL flush: assumed one fdatasync of this disk);
- PostgreSQL's CPU: `db_cores` servers, demand = its processes' CPU a payment during
  the `serve --workers` row (measured from /proc; `--db-ms`, 1.0 ms, only when that row
  could not run);
- with Citus-style distribution by merchant, `shards` database nodes; sales spread
  over them as merchants do: the largest merchant's share (`--skew`, ASSUMED 0.1) bounds
  what one node takes.

Multi-server stations use Seidmann's approximation (a queue of demand D/c plus a delay
of D(c-1)/c). Assumed too: the load balancer and the network cost nothing, reports and
dashboards read from replicas (they take nothing from the primary), the day's tables are
partitioned so a sale's cost does not grow with history (measured flat from 1k to 100k
in the embedded store).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Station:
    name: str
    demand_ms: float  # per sale
    servers: int = 1  # 0: a pure delay


def mva(stations: list[Station], clients: int) -> tuple[float, str]:
    """Sales/s with `clients` in the network, and the busiest station's name."""
    parts: list[tuple[str, float, bool]] = []  # (name, demand, queues)
    for s in stations:
        if s.servers == 0:
            parts.append((s.name, s.demand_ms, False))
            continue
        parts.append((s.name, s.demand_ms / s.servers, True))
        if s.servers > 1:
            parts.append((s.name, s.demand_ms * (s.servers - 1) / s.servers, False))
    queue = [0.0] * len(parts)
    throughput = 0.0
    for n in range(1, clients + 1):
        times = [
            d * (1 + q) if queues else d for (_n, d, queues), q in zip(parts, queue, strict=True)
        ]
        throughput = n / sum(times)  # per ms
        queue = [throughput * t for t in times]
    busiest = max((p for p in parts if p[2]), key=lambda p: p[1])[0]
    return throughput * 1000, busiest


@dataclass(frozen=True)
class Measured:
    """The inputs a run of `make bench` gives the model."""

    cpu_ms: float  # CPU a sale, in process, one caller
    syncs: float  # durable syncs a sale (gateway + banks)
    fsync_ms: float  # one bare append + fdatasync
    http_ms: float  # extra a sale through `paygate serve` (1 client)
    sequential: float  # measured sales/s, one caller
    concurrent: float  # measured sales/s, 8 callers
    served: dict[int, float]  # clients -> measured payments/s through `paygate serve`
    workers: dict[int, float]  # PostgreSQL workers -> measured payments/s
    clients: int  # of the service rows
    pg_cpu: dict[str, float]  # CPU ms a payment by process role, `serve --workers` on PG

    @classmethod
    def of(cls, figures: dict) -> Measured:
        ours = [r for r in figures["whole_path"] if r["store"] == "ours"]
        first = min(ours, key=lambda r: r["stored"])
        together = [r for r in figures["concurrent_path"] if r["store"] == "ours"]
        served = {r["clients"]: r["per_s"] for r in figures["serve"]}
        one = served.get(1)
        http_ms = max(0.0, 1000 / one - 1000 / first["per_s"]) if one else 0.0
        syncs = figures["syncs_per_sale"]
        return cls(
            cpu_ms=first["cpu_ms"],
            syncs=syncs["total"],
            fsync_ms=syncs["bare_ms"],
            http_ms=http_ms,
            sequential=first["per_s"],
            concurrent=min(r["per_s"] for r in together) if together else 0.0,
            served=served,
            workers={r["workers"]: r["per_s"] for r in figures["serve_postgres"]["rows"]},
            clients=figures["plan"]["clients"],
            pg_cpu=max(figures["serve_postgres"]["rows"], key=lambda r: r["workers"])["cpu_ms"]
            if figures["serve_postgres"]["rows"]
            else {},
        )


@dataclass(frozen=True)
class Step:
    """One step of docs/SCALING.md: its stations, its clients, what was measured of it."""

    name: str
    stations: list[Station]
    clients: int
    measured: float | None = None
    shards: int = 1  # database nodes, distributed by merchant
    node_cores: int = 8


def steps(m: Measured, db_ms: float, cores: int) -> list[Step]:
    embedded = Station("fdatasync", m.syncs * m.fsync_ms, 0)
    commit = Station("COMMIT (WAL flush)", m.fsync_ms, 0)
    served = m.cpu_ms + m.http_ms
    on_pg = m.pg_cpu.get("gateway", served)  # a gateway process's CPU a payment on PG

    def fleet(name: str, processes: int, clients: int, shards: int, node_cores: int) -> Step:
        db = Station("PostgreSQL CPU", db_ms, node_cores * shards)
        gateway = Station("gateway CPU", on_pg, processes)
        return Step(name, [gateway, commit, db], clients, None, shards, node_cores)

    if m.pg_cpu:  # everything measured on this machine shares its cores
        one_machine = [
            Station("CPU (gateway, banks, PostgreSQL, clients)", sum(m.pg_cpu.values()), cores),
            Station("the simulated banks' one process", m.pg_cpu.get("banks", 0.0)),
            commit,
        ]
    else:
        one_machine = [Station("CPU (gateway + PostgreSQL)", served + db_ms, cores), commit]
    return [
        Step("one process, embedded, 1 caller", [Station("gateway CPU", m.cpu_ms), embedded],
             1, m.sequential),
        Step("the same, 8 callers (group commit)", [Station("gateway CPU", m.cpu_ms), embedded],
             8, m.concurrent),
        Step(f"`paygate serve`, embedded, {m.clients} HTTP clients",
             [Station("gateway CPU", served), embedded], m.clients, m.served.get(m.clients)),
        Step(f"`serve --workers 2` and PostgreSQL on one {cores}-core machine",
             one_machine, m.clients, m.workers.get(2)),
        fleet("4 machines x 2 processes, one PostgreSQL primary (8 cores)", 8, 64, 1, 8),
        fleet("16 machines x 2, one primary (16 cores)", 32, 256, 1, 16),
        fleet("16 machines x 2, distributed by merchant: 4 nodes x 8 cores", 32, 256, 4, 8),
        fleet("64 machines x 2, 16 nodes x 8 cores", 128, 1024, 16, 8),
    ]  # fmt: skip


def predict(step: Step, db_ms: float, skew: float) -> tuple[float, str]:
    """Sales/s and the busiest station; distributed, the largest merchant's node caps it."""
    per_s, busiest = mva(step.stations, step.clients)
    if step.shards > 1:
        node = step.node_cores * 1000 / db_ms  # sales/s one node's CPU takes
        if node / skew < per_s:
            return node / skew, f"the largest merchant's node ({skew:.0%} of sales)"
    return per_s, busiest


def model_table(figures: dict, db_ms: float = 1.0, skew: float = 0.1) -> list[str]:
    """The model's table as Markdown lines, with its inputs."""
    m = Measured.of(figures)
    cores = figures["machine"]["cores"] or 2
    if "postgresql" in m.pg_cpu:
        db_ms = m.pg_cpu["postgresql"]
        split = ", ".join(f"{role} {ms:.2f}" for role, ms in m.pg_cpu.items())
        pg = f"; CPU ms a payment with `serve --workers` on PostgreSQL: {split}"
        assumed = ""
    else:
        pg, assumed = "", f" {db_ms:g} ms of PostgreSQL CPU a sale,"
    lines = [
        f"Inputs measured in that run: {m.cpu_ms:.2f} ms of CPU a sale in process, "
        f"{m.syncs:g} durable syncs a sale, {m.fsync_ms:.3f} ms a bare fdatasync, "
        f"{m.http_ms:.2f} ms more a sale through `paygate serve`{pg}. Assumed:{assumed} the "
        f"largest merchant {skew:.0%} of the sales, the banks outside the fleet (their "
        "latency 0), clients elsewhere, no cost for the load balancer and the network.",
        "",
        "| step | clients | predicted sales/s | busiest station | measured, same run |",
        "|---|---:|---:|---|---:|",
    ]
    for step in steps(m, db_ms, cores):
        per_s, busiest = predict(step, db_ms, skew)
        measured = "—" if step.measured is None else f"{step.measured:,}"
        lines.append(f"| {step.name} | {step.clients:,} | {per_s:,.0f} | {busiest} | {measured} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, default=ROOT / "docs" / "benchmarks.json")
    parser.add_argument("--db-ms", type=float, default=1.0, help="PostgreSQL CPU ms a sale")
    parser.add_argument("--skew", type=float, default=0.1, help="the largest merchant's share")
    args = parser.parse_args()
    figures = json.loads(args.figures.read_text(encoding="utf-8"))
    print("\n".join(model_table(figures, args.db_ms, args.skew)))


if __name__ == "__main__":
    main()
