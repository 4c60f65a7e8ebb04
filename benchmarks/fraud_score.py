"""The fraud model's line of `make bench`: what scoring one payment costs.

`fraud_scoring(quick)` simulates a history, trains a model on it, and replays the last
attempts through the risk engine twice, in turn: with the rules alone (the baseline, as
every payment pays today) and with the model attached (features + one `pred_contrib`
call + reasons in words). It also times the features and the model call apart. Figures
in microseconds; each assess is timed alone, in wall time (`perf_counter_ns`) and in the
thread's CPU time (`thread_time_ns`: what a loaded machine's preemption does not add).

Run alone: .venv/bin/python benchmarks/fraud_score.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime
from typing import Any

from bank_sim.fraud.simulate import Sizes, simulate
from gateway_core.fraud.features import FeatureState
from gateway_core.fraud.history import HistoryRecord
from gateway_core.fraud.hook import FraudHook
from gateway_core.fraud.rules_replay import MemoryRiskState, context_of
from gateway_core.fraud.training import train
from gateway_core.risk import RiskEngine
from gateway_core.risk_models import ModelSettings, RiskLimits


class _Clock:
    def __init__(self, records: list[HistoryRecord]) -> None:
        self.at = records[0].attempt.at

    def now(self) -> datetime:
        return self.at


def _figures(times_ns: list[int]) -> dict[str, float]:
    us = sorted(t / 1000 for t in times_ns)
    return {
        "p50_us": round(statistics.median(us), 1),
        "p99_us": round(us[min(len(us) - 1, int(len(us) * 0.99))], 1),
        "mean_us": round(statistics.fmean(us), 1),
    }


def fraud_scoring(quick: bool = False) -> dict[str, Any]:
    """Per-payment cost of the rules alone and of rules + model, in the same run."""
    sizes = Sizes(days=28, payers=800, terminals=12) if quick else Sizes(45, 4_000, 25)
    records = simulate(7, sizes)
    model, _ = train(
        records, "bench", test_days=7, version=1, thresholds=ModelSettings(), limits=RiskLimits()
    )
    tz = records[0].attempt.at.tzinfo
    timed = min(len(records) // 3, 500 if quick else 5_000)
    warm, tail = records[:-timed], records[-timed:]
    countries = {r.attempt.bin6: r.attempt.country for r in records if r.attempt.bin6}
    results: dict[str, list[int]] = {"rules": [], "rules_and_model": []}
    cpus: dict[str, list[int]] = {name: [] for name in results}
    engines = {}
    for name in results:
        clock = _Clock(records)
        engine = RiskEngine(MemoryRiskState(), RiskLimits.relaxed(), clock, tz)
        if name == "rules_and_model":
            hook = FraudHook(
                model, ModelSettings(), tz=tz, merchant_country="IN", country_of=countries.get
            )
            engine.attach(hook)
        for r in warm:
            clock.at = r.attempt.at
            engine.record(context_of(r), "declined" if r.attempt.declined else "approved")
        engines[name] = (engine, clock)
    for r in tail:  # in turn: the same moment of the machine for both
        ctx = context_of(r)
        for name, (engine, clock) in engines.items():
            clock.at = r.attempt.at
            start, cpu = time.perf_counter_ns(), time.thread_time_ns()
            engine.assess(ctx)
            results[name].append(time.perf_counter_ns() - start)
            cpus[name].append(time.thread_time_ns() - cpu)
            engine.record(ctx, "declined" if r.attempt.declined else "approved")
    state, feats, calls = FeatureState(tz=tz, merchant_country="IN"), [], []
    for r in warm:
        state.learn(r.attempt)
    for r in tail:
        start = time.perf_counter_ns()
        row = state.features(r.attempt)
        middle = time.perf_counter_ns()
        model.explain(row, r.currency)
        feats.append(middle - start)
        calls.append(time.perf_counter_ns() - middle)
        state.learn(r.attempt)
    return {
        "payments": timed,
        "history": len(warm),
        "rules": _figures(results["rules"]),
        "rules_and_model": _figures(results["rules_and_model"]),
        "rules_cpu": _figures(cpus["rules"]),
        "rules_and_model_cpu": _figures(cpus["rules_and_model"]),
        "features": _figures(feats),
        "model_call": _figures(calls),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(fraud_scoring(parser.parse_args().quick), indent=2))
