"""Training and evaluating the fraud model on a labelled history, split in time.

The history is replayed through `FeatureState` (the gateway's own feature code) in
time order. The last `test_days` days are the test; the days before, less a week of
warm-up (no card has a past yet), train. A training attempt counts as fraud only if
its chargeback had arrived by the end of the history (labels come late); the test is
scored against the truth. Today's rules are replayed over the same test days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import lightgbm
import numpy as np
from pydantic import BaseModel

from gateway_core.errors import InputError
from gateway_core.fraud.features import FEATURES, FeatureState
from gateway_core.fraud.history import HistoryRecord
from gateway_core.fraud.metrics import AtCut, at_cut, average_precision
from gateway_core.fraud.model import FraudModel, ModelInfo
from gateway_core.fraud.monitor import band_counts, shares
from gateway_core.fraud.rules_replay import rules_verdicts
from gateway_core.risk_models import ModelSettings, RiskLimits

WARM_UP = timedelta(days=7)
ROUNDS = 40
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.25,
    "num_leaves": 8,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
}


class Split(BaseModel):
    """Train on [train_from, test_from), test on [test_from, end)."""

    train_from: datetime
    test_from: datetime
    end: datetime


class Scores(BaseModel):
    """One scorer's figures on the test days."""

    auprc: float
    cuts: list[AtCut]
    recall_by_pattern: dict[str, float]  # at the first cut


class Evaluation(BaseModel):
    """The model against today's rules on the same test attempts."""

    test_attempts: int
    test_frauds: int
    score_bands: list[float]  # the model's scores by band (`monitor.BANDS`), as shares
    model: Scores
    rules: Scores


def feature_rows(records: Sequence[HistoryRecord], tz: tzinfo | None, home: str) -> np.ndarray:
    """Each record's features against the records before it."""
    state = FeatureState(tz=tz, merchant_country=home)
    rows = np.empty((len(records), len(FEATURES)), dtype=np.float64)
    for i, r in enumerate(records):
        rows[i, :] = state.features(r.attempt)
        state.learn(r.attempt)
        if r.fraud and r.label_at is not None:
            state.label(r.attempt.terminal, r.label_at)
    return rows


def split_of(records: Sequence[HistoryRecord], test_days: int) -> Split:
    first, last = records[0].attempt.at, records[-1].attempt.at
    day0 = first.replace(hour=0, minute=0, second=0, microsecond=0)
    days = (last - day0).days + 1
    if not 1 <= test_days < days - WARM_UP.days:
        raise InputError(
            f"the history has {days} days: test days must leave a week of warm-up "
            "and some days to train on"
        )
    end = day0 + timedelta(days=days)
    return Split(train_from=day0 + WARM_UP, test_from=end - timedelta(days=test_days), end=end)


def train(
    records: Sequence[HistoryRecord],
    data_hash: str,
    *,
    test_days: int,
    version: int,
    thresholds: ModelSettings,
    limits: RiskLimits,
    seed: int = 7,
    now: datetime | None = None,
) -> tuple[FraudModel, Evaluation]:
    """A model trained on the earlier days, and its evaluation on the later ones."""
    split = split_of(records, test_days)
    tz = records[0].attempt.at.tzinfo
    rows = feature_rows(records, tz, limits.merchant_country)
    known_by = records[-1].attempt.at
    ats = [r.attempt.at for r in records]
    train_ix = [i for i, at in enumerate(ats) if split.train_from <= at < split.test_from]
    labels = np.array([_known(records[i], known_by) for i in train_ix], dtype=np.float64)
    if labels.sum() < 5:
        raise InputError("too few frauds on the training days: simulate more days or payers")
    data = lightgbm.Dataset(rows[train_ix], label=labels, feature_name=list(FEATURES))
    booster = lightgbm.train({**PARAMS, "seed": seed}, data, num_boost_round=ROUNDS)
    info = ModelInfo(
        version=version,
        created=now or datetime.now(UTC),
        features=list(FEATURES),
        data_hash=data_hash,
        history={"attempts": len(records), "frauds": sum(r.fraud for r in records)},
        split={k: v.isoformat() for k, v in split.model_dump().items()},
        metrics={},
    )
    model = FraudModel(info, booster)
    evaluation = evaluate(model, records, split, thresholds, limits, rows=rows)
    model.info.metrics = evaluation.model_dump(mode="json")
    model.info.reference = evaluation.score_bands
    return model, evaluation


def evaluate(
    model: FraudModel,
    records: Sequence[HistoryRecord],
    split: Split,
    thresholds: ModelSettings,
    limits: RiskLimits,
    *,
    rows: np.ndarray | None = None,
) -> Evaluation:
    """The model and the rules on the test days of `split`."""
    tz = records[0].attempt.at.tzinfo
    if rows is None:
        rows = feature_rows(records, tz, limits.merchant_country)
    test = [i for i, r in enumerate(records) if split.test_from <= r.attempt.at < split.end]
    if not test:
        raise InputError("the history has no attempts on the model's test days")
    truth = [records[i].fraud for i in test]
    patterns = [records[i].pattern for i in test]
    scores = [round(100 * p) for p in model.probabilities(rows[test])]
    verdicts = rules_verdicts(records, limits, tz)
    rules = [verdicts[i] for i in test]
    step, block = thresholds.step_up_at, thresholds.block_at
    model_flags = [
        [s >= step for s in scores],
        [s >= block for s in scores],
    ]
    rule_flags = [
        [v.action in ("otp", "block") for v in rules],
        [v.action == "block" for v in rules],
    ]
    return Evaluation(
        test_attempts=len(test),
        test_frauds=sum(truth),
        score_bands=[round(s, 4) for s in shares(band_counts(scores))],
        model=Scores(
            auprc=average_precision(truth, scores),
            cuts=[
                at_cut(truth, model_flags[0], f"score >= {step} (OTP or block)"),
                at_cut(truth, model_flags[1], f"score >= {block} (block)"),
            ],
            recall_by_pattern=_by_pattern(patterns, model_flags[0]),
        ),
        rules=Scores(
            auprc=average_precision(truth, [float(v.score) for v in rules]),
            cuts=[
                at_cut(truth, rule_flags[0], "rules: OTP or block"),
                at_cut(truth, rule_flags[1], "rules: block"),
            ],
            recall_by_pattern=_by_pattern(patterns, rule_flags[0]),
        ),
    )


def _known(r: HistoryRecord, by: datetime) -> bool:
    """A fraud whose chargeback had arrived by `by`."""
    return r.fraud and r.label_at is not None and r.label_at <= by


def _by_pattern(patterns: list[str], flags: list[bool]) -> dict[str, float]:
    total = Counter(p for p in patterns if p)
    caught = Counter(p for p, f in zip(patterns, flags, strict=True) if p and f)
    return {p: round(caught[p] / n, 4) for p, n in sorted(total.items())}
