"""The fraud model's features: one code path for training and for payment time.

`FeatureState` is fed attempts in time order (`learn`) and asked for the features of the
next one (`features`): training replays a simulated history through it, the gateway feeds
it the stored risk events on open and every attempt after. What it keeps is bounded:
windows of at most seven days (each capped), the last cards and terminals only (least
recently used ones are forgotten), a few numbers per card.

Counts and sums include the attempt being scored. Chargeback labels count towards a
terminal's risk only once they have arrived (`label` schedules one at its arrival time).
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import TypeVar

from gateway_core.cards import detect_brand

V = TypeVar("V")
HOUR, DAY = 3600.0, 86400.0
MAX_CARDS = 200_000  # cards remembered (least recently used forgotten first)
MAX_TERMINALS = 20_000
MAX_BINS = 20_000
CARD_WINDOW_CAP = 2_000  # attempts kept per card window
TERMINAL_WINDOW_CAP = 50_000  # ... per terminal window
RECENT_TERMINALS = 8  # terminals a card was used at lately
TERMINAL_PRIOR = 20  # attempts of smoothing in a terminal's chargeback rate

BRANDS = (
    "",
    "visa",
    "mastercard",
    "rupay",
    "amex",
    "discover",
    "jcb",
    "diners",
    "unionpay",
    "maestro",
    "upi",
)
FUNDINGS = ("", "debit", "credit", "prepaid")

FEATURES: tuple[str, ...] = (
    "amount",
    "amount_ratio",
    "amount_z",
    "card_count_1h",
    "card_count_24h",
    "card_count_7d",
    "card_sum_1h",
    "card_sum_24h",
    "card_sum_7d",
    "terminal_count_1h",
    "terminal_count_24h",
    "terminal_count_7d",
    "terminal_sum_1h",
    "terminal_sum_24h",
    "terminal_sum_7d",
    "terminal_cards_10m",
    "bin_cards_10m",
    "hour",
    "weekday",
    "card_age_days",
    "card_payments",
    "new_terminal",
    "foreign",
    "brand",
    "funding",
    "upi",
    "terminal_risk",
    "card_declines_1h",
    "terminal_declines_1h",
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One payment attempt as the features see it (no card number: a fingerprint)."""

    at: datetime
    card: str  # the payer's fingerprint or token id
    terminal: str
    amount: int  # minor units
    bin6: str = ""  # "" for a UPI payer
    funding: str = ""  # debit, credit, prepaid; "" unknown
    country: str = ""  # the issuer's; "" unknown
    declined: bool = False  # what the bank answered (learnt after it)


class _Window:
    """Attempts within `span` seconds: their count and amount (and declines)."""

    __slots__ = ("cap", "count", "items", "span", "total")

    def __init__(self, span: float, cap: int) -> None:
        self.span, self.cap = span, cap
        self.items: deque[tuple[float, int]] = deque()
        self.count = self.total = 0

    def add(self, ts: float, amount: int) -> None:
        self.items.append((ts, amount))
        self.count += 1
        self.total += amount
        if self.count > self.cap:
            self._drop()

    def _drop(self) -> None:
        amount = self.items.popleft()[1]
        self.count -= 1
        self.total -= amount

    def at(self, now: float) -> tuple[int, int]:
        """Count and sum of the attempts in the window ending at `now`."""
        items, edge = self.items, now - self.span
        while items and items[0][0] <= edge:
            self._drop()
        return self.count, self.total


class _Distinct:
    """Distinct keys seen within `span` seconds."""

    __slots__ = ("items", "seen", "span")

    def __init__(self, span: float) -> None:
        self.span = span
        self.items: deque[tuple[float, str]] = deque()
        self.seen: dict[str, int] = {}

    def add(self, ts: float, key: str) -> None:
        self.items.append((ts, key))
        self.seen[key] = self.seen.get(key, 0) + 1

    def at(self, now: float, key: str) -> int:
        """How many keys, `key` included, in the window ending at `now`."""
        items, seen, edge = self.items, self.seen, now - self.span
        while items and items[0][0] <= edge:
            old = items.popleft()[1]
            if seen[old] == 1:
                del seen[old]
            else:
                seen[old] -= 1
        return len(seen) + (key not in seen)


class _Card:
    __slots__ = ("declines", "first", "n", "recent", "sq", "sum", "windows")

    def __init__(self, ts: float) -> None:
        self.first = ts
        self.n = self.sum = self.sq = 0
        self.windows = tuple(_Window(s, CARD_WINDOW_CAP) for s in (HOUR, DAY, 7 * DAY))
        self.declines = _Window(HOUR, CARD_WINDOW_CAP)
        self.recent: list[str] = []


class _Terminal:
    __slots__ = ("cards", "declines", "frauds", "seen", "windows")

    def __init__(self) -> None:
        self.windows = tuple(_Window(s, TERMINAL_WINDOW_CAP) for s in (HOUR, DAY, 7 * DAY))
        self.declines = _Window(HOUR, TERMINAL_WINDOW_CAP)
        self.cards = _Distinct(600.0)
        self.seen = self.frauds = 0


def _lru(table: OrderedDict[str, V], key: str, make: Callable[[], V] | None, cap: int) -> V | None:
    """`table[key]` made fresh to the end; None when absent and `make` is None."""
    value = table.get(key)
    if value is None:
        if make is None:
            return None
        value = table[key] = make()
        if len(table) > cap:
            table.popitem(last=False)
    else:
        table.move_to_end(key)
    return value


class FeatureState:
    """What the features need to know of the past, fed in time order."""

    def __init__(self, *, tz: tzinfo | None, merchant_country: str) -> None:
        self._tz = tz
        self._home = merchant_country
        self._cards: OrderedDict[str, _Card] = OrderedDict()
        self._terminals: OrderedDict[str, _Terminal] = OrderedDict()
        self._bins: OrderedDict[str, _Distinct] = OrderedDict()
        self._labels: list[tuple[float, str]] = []  # (arrives at, terminal): a heap

    def features(self, a: Attempt) -> list[float]:
        """The features of `a` (in `FEATURES` order) against what was learnt before it."""
        ts = a.at.timestamp()
        self._arrive(ts)
        card = self._cards.get(a.card)
        term = self._terminals.get(a.terminal)
        bins = self._bins.get(a.bin6) if a.bin6 else None
        nan = math.nan
        if card is not None and card.n:
            mean = card.sum / card.n
            var = card.sq / card.n - mean * mean
            ratio = a.amount / mean if mean > 0 else nan
            z = (a.amount - mean) / math.sqrt(max(var, 1.0)) if card.n >= 3 else nan
            c = [w.at(ts) for w in card.windows]
            age, payments = (ts - card.first) / DAY, card.n
            new_terminal = float(a.terminal not in card.recent)
            card_declines = card.declines.at(ts)[0]
        else:
            ratio = z = nan
            c = [(0, 0)] * 3
            age, payments, new_terminal, card_declines = 0.0, 0, 1.0, 0
        if term is not None:
            t = [w.at(ts) for w in term.windows]
            cards_10m = term.cards.at(ts, a.card)
            risk = term.frauds / (term.seen + TERMINAL_PRIOR)
            term_declines = term.declines.at(ts)[0]
        else:
            t, cards_10m, risk, term_declines = [(0, 0)] * 3, 1, 0.0, 0
        local = a.at.astimezone(self._tz)
        return [
            float(a.amount),
            ratio,
            z,
            *(float(n + 1) for n, _ in c),
            *(float(s + a.amount) for _, s in c),
            *(float(n + 1) for n, _ in t),
            *(float(s + a.amount) for _, s in t),
            float(cards_10m),
            float(bins.at(ts, a.card) if bins is not None else (1 if a.bin6 else 0)),
            float(local.hour),
            float(local.weekday()),
            age,
            float(payments),
            new_terminal,
            float(bool(a.country) and a.country != self._home),
            float(_code(BRANDS, brand_of(a))),
            float(_code(FUNDINGS, a.funding)),
            float(not a.bin6),
            risk,
            float(card_declines),
            float(term_declines),
        ]

    def learn(self, a: Attempt) -> None:
        """Remember `a` (after its outcome is known)."""
        ts = a.at.timestamp()
        self._arrive(ts)
        card = _lru(self._cards, a.card, None, MAX_CARDS) or self._new_card(a.card, ts)
        card.n += 1
        card.sum += a.amount
        card.sq += a.amount * a.amount
        for w in card.windows:
            w.add(ts, a.amount)
        if a.terminal in card.recent:
            card.recent.remove(a.terminal)
        card.recent = [a.terminal, *card.recent[: RECENT_TERMINALS - 1]]
        term = _lru(self._terminals, a.terminal, _Terminal, MAX_TERMINALS)
        assert term is not None  # made when absent
        term.seen += 1
        for w in term.windows:
            w.add(ts, a.amount)
        term.cards.add(ts, a.card)
        if a.declined:
            card.declines.add(ts, 1)
            term.declines.add(ts, 1)
        if a.bin6:
            bins = _lru(self._bins, a.bin6, _Ten, MAX_BINS)
            assert bins is not None
            bins.add(ts, a.card)

    def label(self, terminal: str, arrives: datetime) -> None:
        """A chargeback on `terminal` that becomes known at `arrives`."""
        heapq.heappush(self._labels, (arrives.timestamp(), terminal))

    def _new_card(self, key: str, ts: float) -> _Card:
        card = self._cards[key] = _Card(ts)
        if len(self._cards) > MAX_CARDS:
            self._cards.popitem(last=False)
        return card

    def _arrive(self, ts: float) -> None:
        labels = self._labels
        while labels and labels[0][0] <= ts:
            term = self._terminals.get(heapq.heappop(labels)[1])
            if term is not None:
                term.frauds += 1


class _Ten(_Distinct):
    """Distinct cards of one BIN in ten minutes."""

    def __init__(self) -> None:
        super().__init__(600.0)


def brand_of(a: Attempt) -> str:
    """The card's brand from its BIN-6 (`upi` for a UPI payer, "" unknown)."""
    return _brand(a.bin6)


@lru_cache(maxsize=4096)
def _brand(bin6: str) -> str:
    if not bin6:
        return "upi"
    brand = detect_brand(bin6)
    return brand.id if brand else ""


def _code(values: tuple[str, ...], value: str) -> int:
    return values.index(value) if value in values else 0
