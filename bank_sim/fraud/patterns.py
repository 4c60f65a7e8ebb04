"""Fraud patterns, each a burst of attempts started at a moment of a day.

- card testing: small amounts across fresh cards on one (weak) terminal in minutes;
- BIN attack: many fresh cards of one BIN, numbers close together, on a few terminals;
- account takeover: a known card, at night, on a terminal it never used, many times its
  usual amount;
- stolen abroad: a fresh foreign card, a few large buys within hours;
- velocity: a known card spent again and again within the hour across terminals.

Every attempt is fraud; its chargeback (or the issuer's fraud report, for a decline)
arrives days later.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bank_sim.fraud.population import DOMESTIC, FOREIGN, Bin, Holder, Terminal, last4, token

MAX_AMOUNT = 1_00_000_00  # ₹1,00,000.00


@dataclass(frozen=True)
class Draft:
    """An attempt before it gets its id."""

    at: datetime
    card: str
    bin: Bin | None
    last4: str
    terminal: str
    amount: int
    declined: bool
    pattern: str = ""  # "" legit
    label_days: float = 0.0  # after `at`, for a fraud


@dataclass(frozen=True)
class World:
    """What a pattern may draw from."""

    rng: random.Random
    terminals: list[Terminal]
    holders: list[Holder]  # those active that day

    def terminal(self, *, weak: bool = False) -> Terminal:
        pool = [t for t in self.terminals if t.weak] if weak else self.terminals
        return self.rng.choice(pool or self.terminals)


def _fraud(
    w: World,
    at: datetime,
    card: str,
    bin_: Bin | None,
    tail: str,
    *,
    terminal: str,
    amount: int,
    declined: bool,
    pattern: str,
) -> Draft:
    delay = w.rng.uniform(1, 3) if declined else w.rng.uniform(3, 30)
    return Draft(at, card, bin_, tail, terminal, amount, declined, pattern, delay)


def _amount(value: float) -> int:
    return max(1_00, min(MAX_AMOUNT, int(value)))


def card_testing(w: World, start: datetime) -> list[Draft]:
    rng, term = w.rng, w.terminal(weak=True)
    out, at = [], start
    for _ in range(rng.randint(8, 25)):
        at += timedelta(seconds=rng.uniform(5, 40))
        bin_ = rng.choice(DOMESTIC + FOREIGN)
        amount = rng.randint(1_00, 50_00)
        out.append(
            _fraud(
                w, at, token(rng), bin_, last4(rng),
                terminal=term.id, amount=amount, declined=rng.random() < 0.7,
                pattern="card_testing",
            )
        )  # fmt: skip
    return out


def bin_attack(w: World, start: datetime) -> list[Draft]:
    rng = w.rng
    bin_ = rng.choice(DOMESTIC)
    terms = [w.terminal() for _ in range(rng.randint(1, 3))]
    base = rng.randrange(9_000)
    out, at = [], start
    for i in range(rng.randint(10, 30)):
        at += timedelta(seconds=rng.uniform(10, 50))
        out.append(
            _fraud(
                w, at, token(rng), bin_, f"{base + i * 7:04d}",
                terminal=rng.choice(terms).id, amount=rng.randint(10_00, 500_00),
                declined=rng.random() < 0.8, pattern="bin_attack",
            )
        )  # fmt: skip
    return out


def _known(w: World, *, days_known: int, day: int) -> Holder | None:
    known = [h for h in w.holders if day - h.joins >= days_known]
    return w.rng.choice(known) if known else None


def account_takeover(w: World, start: datetime, day: int) -> list[Draft]:
    rng = w.rng
    holder = _known(w, days_known=14, day=day)
    if holder is None:
        return []
    strange = [t for t in w.terminals if t.id not in holder.terminals] or w.terminals
    term = rng.choice(strange)
    at = start.replace(hour=rng.randrange(0, 5), minute=rng.randrange(60))
    out = []
    for _ in range(rng.randint(1, 3)):
        at += timedelta(minutes=rng.uniform(1, 15))
        amount = _amount(holder.median * rng.uniform(5, 20))
        out.append(
            _fraud(
                w, at, holder.card, holder.bin, holder.last4,
                terminal=term.id, amount=amount, declined=rng.random() < 0.15,
                pattern="account_takeover",
            )
        )  # fmt: skip
    return out


def stolen_abroad(w: World, start: datetime) -> list[Draft]:
    rng = w.rng
    bin_, card, tail = rng.choice(FOREIGN), token(rng), last4(rng)
    out, at = [], start
    for _ in range(rng.randint(2, 5)):
        at += timedelta(minutes=rng.uniform(5, 40))
        out.append(
            _fraud(
                w, at, card, bin_, tail,
                terminal=w.terminal().id, amount=rng.randint(3_000_00, 40_000_00),
                declined=rng.random() < 0.2, pattern="stolen_abroad",
            )
        )  # fmt: skip
    return out


def velocity(w: World, start: datetime, day: int) -> list[Draft]:
    rng = w.rng
    holder = _known(w, days_known=7, day=day)
    if holder is None:
        return []
    terms = [w.terminal() for _ in range(rng.randint(2, 5))]
    out, at = [], start
    for _ in range(rng.randint(5, 12)):
        at += timedelta(minutes=rng.uniform(1, 8))
        out.append(
            _fraud(
                w, at, holder.card, holder.bin, holder.last4,
                terminal=rng.choice(terms).id,
                amount=_amount(holder.median * rng.uniform(1.5, 4)),
                declined=rng.random() < 0.2, pattern="velocity",
            )
        )  # fmt: skip
    return out


Pattern = Callable[[World, datetime, int], list[Draft]]

# name → (bursts a day per 1,000 payers, the pattern)
PATTERNS: dict[str, tuple[float, Pattern]] = {
    "card_testing": (0.15, lambda w, at, day: card_testing(w, at)),
    "bin_attack": (0.08, lambda w, at, day: bin_attack(w, at)),
    "account_takeover": (0.6, account_takeover),
    "stolen_abroad": (0.4, lambda w, at, day: stolen_abroad(w, at)),
    "velocity": (0.3, velocity),
}
