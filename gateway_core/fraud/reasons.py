"""A feature's value in words, as a payment's reason ("amount 14× this card's usual")."""

from __future__ import annotations

import math
from collections.abc import Callable

from gateway_core.fraud.features import BRANDS, FUNDINGS
from gateway_core.money import Money
from gateway_core.presentation import format_money

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _n(value: float) -> int:
    return round(value)


def _times(value: float) -> str:
    return f"{value:.0f}×" if value >= 3 else f"{value:.1f}×"


def _ratio(v: float, c: str) -> str:
    if math.isnan(v):
        return "no earlier amount for this card to compare"
    return f"amount {_times(v)} this card's usual"


def _z(v: float, c: str) -> str:
    if math.isnan(v):
        return "too few earlier payments with this card to compare"
    return f"amount {v:+.1f} standard deviations from this card's usual"


def _count(what: str, span: str) -> Callable[[float, str], str]:
    def text(v: float, c: str) -> str:
        n = _n(v)
        return f"{n} payment{'s' if n != 1 else ''} {what} in {span}"

    return text


def _sum(what: str, span: str) -> Callable[[float, str], str]:
    return lambda v, c: f"{_money(v, c)} {what} in {span}"


def _money(v: float, currency: str) -> str:
    return format_money(Money(int(v), currency))


def _declines(v: float) -> str:
    n = _n(v)
    return f"{n} decline{'s' if n != 1 else ''}"


def _hour(v: float, c: str) -> str:
    night = " (night)" if v < 6 else ""
    return f"paid at {_n(v):02d}:00–{_n(v):02d}:59{night}"


def _age(v: float, c: str) -> str:
    return "card first seen today" if v < 1 else f"card first seen {v:.0f} days ago"


def _payments(v: float, c: str) -> str:
    n = _n(v)
    if n == 0:
        return "no earlier payment with this card"
    return f"{n} earlier payment{'s' if n != 1 else ''} with this card"


def _code(values: tuple[str, ...], what: str) -> Callable[[float, str], str]:
    return lambda v, c: f"{what} {values[_n(v)] or 'unknown'}"


WORDS: dict[str, Callable[[float, str], str]] = {
    "amount": lambda v, c: f"amount {_money(v, c)}",
    "amount_ratio": _ratio,
    "amount_z": _z,
    "card_count_1h": _count("with this card", "1 h"),
    "card_count_24h": _count("with this card", "24 h"),
    "card_count_7d": _count("with this card", "7 days"),
    "card_sum_1h": _sum("on this card", "1 h"),
    "card_sum_24h": _sum("on this card", "24 h"),
    "card_sum_7d": _sum("on this card", "7 days"),
    "terminal_count_1h": _count("on this terminal", "1 h"),
    "terminal_count_24h": _count("on this terminal", "24 h"),
    "terminal_count_7d": _count("on this terminal", "7 days"),
    "terminal_sum_1h": _sum("on this terminal", "1 h"),
    "terminal_sum_24h": _sum("on this terminal", "24 h"),
    "terminal_sum_7d": _sum("on this terminal", "7 days"),
    "terminal_cards_10m": lambda v, c: f"{_n(v)} cards on this terminal in 10 min",
    "bin_cards_10m": lambda v, c: f"{_n(v)} cards of this BIN in 10 min",
    "hour": _hour,
    "weekday": lambda v, c: f"on a {WEEKDAYS[_n(v) % 7]}",
    "card_age_days": _age,
    "card_payments": _payments,
    "new_terminal": lambda v, c: (
        "first time this card is used on this terminal" if v else "a terminal this card uses"
    ),
    "foreign": lambda v, c: "card issued abroad" if v else "card issued at home",
    "brand": _code(BRANDS, "brand"),
    "funding": _code(FUNDINGS, "funding"),
    "upi": lambda v, c: "paid by UPI" if v else "paid by card",
    "terminal_risk": lambda v, c: f"terminal's chargeback rate {v:.1%}",
    "card_declines_1h": lambda v, c: f"{_declines(v)} of this card in the last hour",
    "terminal_declines_1h": lambda v, c: f"{_declines(v)} on this terminal in the last hour",
}


def in_words(feature: str, value: float, currency: str) -> str:
    """`feature` at `value` as a reason a cashier reads."""
    return WORDS[feature](value, currency)
