"""`make bench` in quick mode produces every figure (never checks a time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench.py"


def test_quick_bench_writes_every_figure(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(BENCH), "--quick", "--out", str(tmp_path)], check=True)
    figures = json.loads((tmp_path / "benchmarks.json").read_text(encoding="utf-8"))
    stores = {(r["store"], r["stored"]) for r in figures["whole_path"]}
    assert {"ours", "sqlite", "stock_tinydb"} == {store for store, _ in stores}
    assert all(r["per_s"] > 0 and r["p99_ms"] >= r["p50_ms"] for r in figures["whole_path"])
    sizes = list(figures["plan"]["sizes"])
    together = figures["concurrent_path"]  # 8 callers at once, ours and SQLite, each size
    assert [(r["store"], r["stored"]) for r in together] == [
        (store, size) for store in ("ours", "sqlite") for size in sizes
    ]
    assert all(r["per_s"] > 0 and r["p99_ms"] >= r["p50_ms"] for r in together)
    assert all(r["cpu_ms"] > 0 for r in [*figures["whole_path"], *together])
    syncs = figures["syncs_per_sale"]  # counted, gateway + banks
    assert syncs["total"] == syncs["gateway"] + syncs["banks"] > 0 and syncs["bare_ms"] > 0
    served = figures["serve"]  # `paygate serve`, 1 client (the baseline) and 8 (2 quick)
    assert [r["clients"] for r in served] == [1, figures["plan"]["clients"]]
    assert all(r["per_s"] > 0 and r["failed"] == 0 for r in served)
    pg = figures["serve_postgres"]  # --workers 1 and 2 on PostgreSQL, or why not
    assert [r["workers"] for r in pg["rows"]] == [1, 2] or pg["not_available"]
    assert figures["profile"]["lines"] or figures["profile"]["not_available"]
    fraud = figures["fraud_scoring"]  # issue 20: rules alone, rules + model
    assert fraud["rules_and_model"]["p99_us"] >= fraud["rules_and_model"]["p50_us"] > 0
    upi = figures["upi_path"]  # create + pay + status, at each size of ours
    assert [r["stored"] for r in upi] == list(figures["plan"]["sizes"])
    assert all(r["per_s"] > 0 and r["p99_ms"] >= r["p50_ms"] for r in upi)
    assert {r["store"] for r in figures["inserts"]} == {"ours", "sqlite", "stock_tinydb"}
    held = figures["held_day"]
    assert held["payments"] == held["x_report_count"] == figures["plan"]["day_size"]
    assert figures["held_day_first"]["x_report_count"] == held["payments"]  # totals rebuilt
    assert held["days"] == figures["plan"]["history_days"] + 1
    for key in ("store_open_s", "runtime_ready_s", "x_report_s", "max_rss_mb"):
        assert held[key] > 0, key
    assert set(figures["first_frame_s"]) == {"empty", "held_day"}
    assert figures["console"]["rows"] == min(200, held["payments"])  # the first page
    assert figures["console"]["console_s"] > 0 and figures["console"]["transactions_s"] > 0
    demo = figures["demo"]
    assert demo["payments"] > 0 and demo["seeding_s"] > 0 and demo["first_start_s"] > 0
    for key in ("cpu", "cores", "ram_gib", "python", "date", "load_start", "load_end"):
        assert figures["machine"][key], key
    doc = (tmp_path / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "<!-- figures:start -->" in doc and "ours / SQLite" in doc and "UPI path" in doc
    for line in (
        "8 concurrent callers",
        "fdatasyncs per sale",
        "`paygate serve`",
        "Profile",
        "Fraud model scoring",
        "fraud scoring (rules + model) < 1 ms p99",
    ):
        assert line in doc, line
    assert "`serve --workers 2` on PostgreSQL" in doc  # its figure, or "not available: why"
    scaling = (tmp_path / "SCALING.md").read_text(encoding="utf-8")
    assert "<!-- figures:start -->" in scaling and "What the model predicts" in scaling
    assert "64 machines x 2" in scaling  # the model's last step


def test_the_interleaved_comparison_runs_two_checkouts_in_turn() -> None:
    """The same checkout on both sides: every line is there (the figures are not checked)."""
    root = BENCH.parents[1]
    out = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "interleaved.py"), str(root), str(root),
         "--rounds", "2", "--sales", "3"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    lines = out.splitlines()
    assert lines[0] == "2 rounds of 3 sales on each side, interleaved"
    assert [ln.split()[0] for ln in lines[1:]] == ["CPU", "wall"]
    assert all("new higher in" in ln and ln.endswith("of 2") for ln in lines[1:])
