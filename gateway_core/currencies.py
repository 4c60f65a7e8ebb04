"""The currencies paygate takes: minor-unit exponent, symbol, digit grouping, ISO 4217 number."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Literal, NamedTuple


class Currency(NamedTuple):
    """How a currency is written: minor-unit exponent, symbol and digit grouping."""

    exponent: int
    symbol: str
    grouping: Literal["western", "indian"]


CURRENCIES: MappingProxyType[str, Currency] = MappingProxyType(
    {
        "INR": Currency(2, "₹", "indian"),
        "USD": Currency(2, "$", "western"),
        "EUR": Currency(2, "€", "western"),
        "GBP": Currency(2, "£", "western"),
        "JPY": Currency(0, "¥", "western"),
        "KWD": Currency(3, "KWD ", "western"),
        "AED": Currency(2, "AED ", "western"),
        "SGD": Currency(2, "S$", "western"),
    }
)


CURRENCY_NUMERIC: Final[dict[str, str]] = {
    "INR": "356",
    "USD": "840",
    "EUR": "978",
    "GBP": "826",
    "JPY": "392",
    "KWD": "414",
    "AED": "784",
    "SGD": "702",
}
"""ISO 4217 alphabetic code → numeric code (field 49)."""
