"""A labelled payment history, the same bytes for the same seed and sizes.

Each day every active payer pays a Poisson number of times at their usual terminals,
hours and amounts, now and then elsewhere, at night or much more (a few declines, more
for unusually large amounts); fraud bursts of
each pattern (`patterns.PATTERNS`) start at their rates, scaled by the population.
The days run from `START` in India's time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bank_sim.fraud.patterns import PATTERNS, Draft, World
from bank_sim.fraud.population import Holder, Terminal, make_holders, make_terminals
from gateway_core.fraud.features import Attempt
from gateway_core.fraud.history import HistoryRecord

IST = timezone(timedelta(hours=5, minutes=30))
START = datetime(2026, 1, 5, tzinfo=IST)  # a Monday
CURRENCY = "INR"


@dataclass(frozen=True)
class Sizes:
    """How much history: days, payers and terminals."""

    days: int = 90
    payers: int = 3_000
    terminals: int = 40


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method (means here are small)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _legit(rng: random.Random, h: Holder, day: datetime, terminals: list[Terminal]) -> list[Draft]:
    out = []
    for _ in range(_poisson(rng, h.rate)):
        hour = h.hour + rng.gauss(0, 2.0)
        if rng.random() < 0.01:  # now and then late at night
            hour = rng.uniform(0, 5)
        at = day + timedelta(hours=min(23.99, max(0.0, hour)))
        median = h.median * (rng.uniform(5, 15) if rng.random() < 0.02 else 1)  # a big buy
        amount = max(1_00, min(1_00_000_00, int(median * math.exp(rng.gauss(0, h.spread)))))
        unusual = amount > 5 * h.median
        declined = rng.random() < (0.12 if unusual else 0.02)
        term = rng.choice(h.terminals) if rng.random() < 0.9 else rng.choice(terminals).id
        out.append(Draft(at, h.card, h.bin, h.last4, term, amount, declined))
    return out


def simulate(seed: int, sizes: Sizes = Sizes()) -> list[HistoryRecord]:
    """The history of `sizes.days` days, oldest first."""
    if sizes.days < 1 or sizes.payers < 10 or sizes.terminals < 2:
        raise ValueError("a history needs a day, 10 payers and 2 terminals")
    rng = random.Random(seed)
    terminals = make_terminals(rng, sizes.terminals)
    holders = make_holders(rng, sizes.payers, terminals, sizes.days)
    drafts: list[Draft] = []
    for day in range(sizes.days):
        midnight = START + timedelta(days=day)
        active = [h for h in holders if h.joins <= day < h.leaves]
        for h in active:
            drafts += _legit(rng, h, midnight, terminals)
        world = World(rng, terminals, active)
        for rate, pattern in PATTERNS.values():
            for _ in range(_poisson(rng, rate * sizes.payers / 1000)):
                start = midnight + timedelta(seconds=rng.uniform(0, 86_400))
                drafts += pattern(world, start, day)
    end = START + timedelta(days=sizes.days)
    drafts = sorted((d for d in drafts if d.at < end), key=lambda d: d.at)
    return [_record(i, d) for i, d in enumerate(drafts)]


def _record(i: int, d: Draft) -> HistoryRecord:
    b = d.bin
    at = d.at.replace(microsecond=0)
    attempt = Attempt(
        at=at,
        card=d.card,
        terminal=d.terminal,
        amount=d.amount,
        bin6=b.bin6 if b else "",
        funding=b.funding if b else "",
        country=b.country if b else "IN",
        declined=d.declined,
    )
    fraud = bool(d.pattern)
    return HistoryRecord(
        id=f"sim_{i:07d}",
        attempt=attempt,
        last4=d.last4,
        currency=CURRENCY,
        fraud=fraud,
        pattern=d.pattern,
        label_at=at + timedelta(seconds=int(d.label_days * 86_400)) if fraud else None,
    )
