"""Money: an int amount in minor units plus an ISO 4217 code. Never a float.

`parse_amount` turns what a cashier types into `Money` (or one readable `MoneyError`);
`gateway_core.presentation` shows it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering
from typing import TypeGuard

from gateway_core.currencies import CURRENCIES
from gateway_core.errors import InputError
from gateway_core.presentation import format_money

MAX_INPUT_CHARS = 40
WIRE_MAX_MINOR = 999_999_999_999  # ISO 8583 field 4: 12 digits of minor units
_MINUS_SIGNS = frozenset("-\u2212\u2010\u2011\u2012\u2013\u2014\ufe63\uff0d")
_NUMBER = re.compile(r"(?P<int>[0-9][0-9,]*)?(?:\.(?P<frac>[0-9]*))?", re.ASCII)
_WESTERN = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+", re.ASCII)
_INDIAN = re.compile(r"[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}", re.ASCII)
_COMMA_HINT = 'use "." for decimals and "," only between digit groups, e.g. 1,250.50'
_EXPONENT = re.compile(r"[0-9.,]*[eE][+-]?[0-9]+", re.ASCII)


class MoneyError(InputError):
    """Base of every money error; the message is one line a cashier can read."""


class UnknownCurrency(MoneyError):
    """The currency code is not in `CURRENCIES`."""


class CurrencyMismatch(MoneyError):
    """Two amounts in different currencies were combined or compared."""


class InvalidMinorUnits(MoneyError):
    """`Money.minor` was not a plain int (floats and bools are refused)."""


class EmptyAmount(MoneyError):
    """Nothing was typed."""


class AmountFormatError(MoneyError):
    """The text is not an amount: letters, signs, exponents, bad commas, ..."""


class TooManyDecimals(MoneyError):
    """More decimals than the currency has; amounts are never rounded."""


class NegativeAmount(MoneyError):
    """A minus sign was typed."""


class ZeroAmount(MoneyError):
    """Zero where a non-zero amount is required."""


class AmountTooLarge(MoneyError):
    """Above the caller's maximum."""


def normalize_currency(code: str) -> str:
    """Return the upper-case code for `code` (case-insensitive, spaces stripped)."""
    norm = code.strip().upper() if isinstance(code, str) else ""
    if norm not in CURRENCIES:
        shown = ascii(code)[:12] if isinstance(code, str) else type(code).__name__
        raise UnknownCurrency(f"unknown currency {shown}; use one of {', '.join(CURRENCIES)}")
    return norm


def currency_exponent(code: str) -> int:
    """Number of decimals of the currency's minor unit (INR 2, JPY 0, KWD 3)."""
    return CURRENCIES[normalize_currency(code)].exponent


@total_ordering
@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: `minor` units (paise, cents, yen) of `currency`. May be negative."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:
            kind = type(self.minor).__name__
            raise InvalidMinorUnits(f"money needs a whole number of minor units, not {kind}")
        object.__setattr__(self, "currency", normalize_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in `currency`."""
        return cls(0, currency)

    @property
    def is_zero(self) -> bool:
        """True when the amount is zero."""
        return self.minor == 0

    def _same(self, other: object, verb: str) -> TypeGuard[Money]:
        """True when `other` is Money; raises `CurrencyMismatch` if its currency differs."""
        if not isinstance(other, Money):
            return False
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot {verb} {self.currency} and {other.currency}")
        return True

    def __add__(self, other: object) -> Money:
        if not self._same(other, "add"):
            return NotImplemented
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: object) -> Money:
        if not self._same(other, "subtract"):
            return NotImplemented
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: object) -> bool:
        if not self._same(other, "compare"):
            return NotImplemented
        return self.minor < other.minor

    def percent(self, basis_points: int) -> Money:
        """`basis_points`/10000 of this amount (1000 = 10%), rounded half away from zero."""
        if type(basis_points) is not int:
            raise TypeError("basis_points must be an int")
        product = self.minor * basis_points
        quotient, remainder = divmod(abs(product), 10_000)
        if 2 * remainder >= 10_000:
            quotient += 1
        return Money(-quotient if product < 0 else quotient, self.currency)

    def __str__(self) -> str:
        return format_money(self)


def sum_money(amounts: Iterable[Money], currency: str) -> Money:
    """Total of `amounts`, all in `currency`; an empty iterable gives zero."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


def _diagnose(text: str) -> str:
    """The most helpful one-line message for text that is not a plain amount."""
    if any(ch.isspace() for ch in text):
        return "remove the spaces inside the amount"
    if text.startswith("+"):
        return "enter the amount without a + sign"
    if _EXPONENT.fullmatch(text):
        return "write the amount in full, without an exponent"
    if any(unicodedata.category(ch) == "Sc" for ch in text):
        return "enter the amount without a currency symbol"
    if "," in text and set(text) <= set("0123456789,."):
        return _COMMA_HINT
    if text.count(".") > 1:
        return 'use only one "." in an amount'
    return 'enter the amount with the digits 0-9 and an optional "." for decimals'


def parse_amount(
    text: str, currency: str, *, max_minor: int | None = None, allow_zero: bool = False
) -> Money:
    """Parse a typed amount such as "1,25,000.50" or "12.5" into `Money`; never rounds.

    Raises a `MoneyError` subclass with one readable line for anything else.
    """
    code = normalize_currency(currency)
    exponent = CURRENCIES[code].exponent
    if not isinstance(text, str):
        raise AmountFormatError("the amount must be text")
    text = text.strip()
    if not text:
        raise EmptyAmount("enter an amount")
    if len(text) > MAX_INPUT_CHARS:
        raise AmountFormatError(f"an amount has at most {MAX_INPUT_CHARS} characters")
    negative = text[0] in _MINUS_SIGNS
    body = text[1:] if negative else text
    if any(ch.isdigit() and not ch.isascii() for ch in body):
        raise AmountFormatError("use the digits 0-9")
    match = _NUMBER.fullmatch(body)
    if match is None or (not match["int"] and not match["frac"]):
        raise AmountFormatError(_diagnose(body) if body else "enter an amount after the sign")
    whole, frac = match["int"] or "0", match["frac"] or ""
    if "," in whole and (
        whole.startswith("0") or not (_WESTERN.fullmatch(whole) or _INDIAN.fullmatch(whole))
    ):
        raise AmountFormatError(_COMMA_HINT)
    if len(frac) > exponent:
        limit = f"at most {exponent} decimals" if exponent else "no decimals"
        raise TooManyDecimals(f"{code} amounts have {limit}")
    if negative:
        raise NegativeAmount("the amount cannot be negative")
    minor = int(whole.replace(",", "")) * 10**exponent + int(frac.ljust(exponent, "0") or "0")
    if minor == 0 and not allow_zero:
        raise ZeroAmount("enter an amount above zero")
    if max_minor is not None and minor > max_minor:
        limit_text = format_money(Money(max_minor, code))
        raise AmountTooLarge(f"the amount cannot be more than {limit_text}")
    return Money(minor, code)
