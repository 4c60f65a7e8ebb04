"""Watching the fraud model: a day's score distribution and decisions, and drift.

The distribution is the share of scored payments in five bands of score; drift is its
population stability index (PSI) against the model's reference (the bands' shares on its
test days, saved in the model file). A PSI of 0.2 or more is the usual "moved" signal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

BANDS = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))
DECISIONS = ("allow", "review", "otp", "block")


def band_counts(scores: Iterable[int]) -> list[int]:
    """How many of `scores` fall in each band."""
    counts = [0] * len(BANDS)
    for score in scores:
        counts[min(score // 20, len(BANDS) - 1)] += 1
    return counts


def shares(counts: Sequence[int]) -> list[float]:
    """Counts as shares of their total (all zero for none)."""
    total = sum(counts)
    return [n / total if total else 0.0 for n in counts]


def psi(actual: Sequence[float], expected: Sequence[float]) -> float:
    """Population stability index of `actual` against `expected` band shares."""
    floor = 1e-4
    return sum(
        (max(a, floor) - max(e, floor)) * math.log(max(a, floor) / max(e, floor))
        for a, e in zip(actual, expected, strict=True)
    )


@dataclass
class ScoreWatch:
    """A day of model scores: how many, their bands, the model's decisions, the drift."""

    scored: int
    bands: list[int]
    decisions: dict[str, int] = field(default_factory=dict)
    drift: float | None = None  # PSI against the reference; None without one
    drifted: bool = False


def watch_day(
    day: date, payments: Iterable[dict[str, Any]], reference: Sequence[float], limit: float
) -> ScoreWatch | None:
    """The model's `day` over stored payment records (those taken that day); None when
    none was scored."""
    prefix = f"pay_{day:%Y%m%d}_"
    scores: list[int] = []
    decisions = dict.fromkeys(DECISIONS, 0)
    for record in payments:
        if not record["id"].startswith(prefix):
            continue
        model = (record.get("risk") or {}).get("model")
        if model:
            scores.append(int(model["score"]))
            decisions[model["action"]] = decisions.get(model["action"], 0) + 1
    if not scores:
        return None
    counts = band_counts(scores)
    drift = psi(shares(counts), reference) if reference else None
    return ScoreWatch(
        scored=len(scores),
        bands=counts,
        decisions=decisions,
        drift=drift,
        drifted=drift is not None and drift >= limit,
    )
