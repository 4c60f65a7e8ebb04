"""The fraud scoring bench (`benchmarks/fraud_score.py`) produces every figure (never
checks a time)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "fraud_score.py"


def test_the_quick_fraud_bench_gives_every_figure() -> None:
    spec = importlib.util.spec_from_file_location("fraud_score", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.fraud_scoring(quick=True)
    assert figures["payments"] == 500 and figures["history"] > 0
    for part in ("rules", "rules_and_model", "rules_cpu", "rules_and_model_cpu", "features"):
        assert figures[part]["p99_us"] >= figures[part]["p50_us"] > 0, part
    assert figures["model_call"]["p50_us"] > 0
