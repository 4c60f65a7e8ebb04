"""Who pays where: terminals, BINs and cardholders (and UPI payers) with their habits.

Everything is drawn from one `random.Random`, so a seed gives the same population.
A cardholder's card is a token id, a BIN-6 and a last 4: no card number is ever made.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

MERCHANT_COUNTRY = "IN"


@dataclass(frozen=True)
class Bin:
    """An issuer's BIN-6: its funding and country."""

    bin6: str
    funding: str
    country: str


DOMESTIC = (
    Bin("421323", "debit", "IN"),
    Bin("438628", "credit", "IN"),
    Bin("459150", "prepaid", "IN"),
    Bin("512345", "debit", "IN"),
    Bin("524193", "credit", "IN"),
    Bin("652150", "debit", "IN"),
    Bin("607000", "debit", "IN"),
)
FOREIGN = (
    Bin("414720", "credit", "US"),
    Bin("545454", "credit", "GB"),
    Bin("378282", "credit", "US"),
    Bin("353011", "credit", "JP"),
    Bin("492181", "debit", "AE"),
)
BINS = {b.bin6: b for b in DOMESTIC + FOREIGN}


def country_of(bin6: str) -> str | None:
    """The issuing country of a simulated BIN (the rules' BIN table in a replay)."""
    known = BINS.get(bin6)
    return known.country if known else None


@dataclass(frozen=True)
class Terminal:
    """A terminal: its id, how busy it is, its usual ticket scale, whether fraudsters
    favour it (a weak merchant: card testers find it)."""

    id: str
    weight: float
    scale: float
    weak: bool


@dataclass
class Holder:
    """A cardholder or UPI payer and their habits."""

    card: str  # token id
    bin: Bin | None  # None: a UPI payer
    last4: str
    median: int  # usual amount, minor units
    spread: float  # lognormal sigma of their amounts
    hour: float  # when they usually pay
    rate: float  # payments a day
    terminals: list[str]
    joins: int  # the day they start paying
    leaves: int  # the day after their last


def token(rng: random.Random) -> str:
    """A token id: 12 hex digits, never a run of 13 digits."""
    return f"tok_{rng.getrandbits(48):012x}"


def last4(rng: random.Random) -> str:
    return f"{rng.randrange(10_000):04d}"


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def make_terminals(rng: random.Random, count: int) -> list[Terminal]:
    return [
        Terminal(
            id=f"TERM{i + 1:04d}",
            weight=rng.paretovariate(1.5),
            scale=lognormal(rng, 1.0, 0.5),
            weak=rng.random() < 0.2,
        )
        for i in range(count)
    ]


def make_holders(
    rng: random.Random, count: int, terminals: list[Terminal], days: int
) -> list[Holder]:
    """`count` payers: half from day 0, the others joining later; a third of them
    passers-by (a day or three of paying, then gone), 3% on foreign cards (visitors, for
    some days), a quarter paying by UPI. A shop sees new cards every day."""
    weights = [t.weight for t in terminals]
    holders = []
    for _ in range(count):
        kind = rng.random()
        joins = 0 if rng.random() < 0.5 else rng.randrange(days)
        leaves = days
        rate = min(3.0, rng.expovariate(1 / 0.4))
        if rng.random() < 0.33:  # a passer-by
            joins, rate = rng.randrange(days), rng.uniform(0.5, 1.5)
            leaves = min(days, joins + rng.randint(1, 3))
        if kind < 0.03:
            bin_ = rng.choice(FOREIGN)
            leaves = min(days, joins + rng.randint(3, 20))
        elif kind < 0.28:
            bin_ = None
        else:
            bin_ = rng.choice(DOMESTIC)
        favourites = rng.choices(terminals, weights, k=rng.randint(2, 4))
        median = lognormal(rng, 600_00, 0.8) * favourites[0].scale
        holders.append(
            Holder(
                card=token(rng),
                bin=bin_,
                last4=last4(rng) if bin_ else "",
                median=max(1_00, int(median)),
                spread=rng.uniform(0.3, 0.7),
                hour=min(22.0, max(8.0, rng.gauss(14.0, 3.0))),
                rate=rate,
                terminals=sorted({t.id for t in favourites}),
                joins=joins,
                leaves=leaves,
            )
        )
    return holders
