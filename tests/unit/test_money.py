"""Tests for gateway_core.money: parsing, formatting, arithmetic and the no-float rule."""

from __future__ import annotations

import ast
import inspect
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway_core import money
from gateway_core.currencies import CURRENCIES
from gateway_core.errors import InputError
from gateway_core.money import (
    AmountFormatError,
    AmountTooLarge,
    CurrencyMismatch,
    EmptyAmount,
    InvalidMinorUnits,
    Money,
    MoneyError,
    NegativeAmount,
    TooManyDecimals,
    UnknownCurrency,
    ZeroAmount,
    currency_exponent,
    normalize_currency,
    parse_amount,
    sum_money,
)
from gateway_core.presentation import format_money, format_plain

codes = st.sampled_from(sorted(CURRENCIES))


def money_in(code: str, lo: int = -(10**15), hi: int = 10**15) -> st.SearchStrategy[Money]:
    return st.integers(lo, hi).map(lambda n: Money(n, code))


# --- parsing: accepted inputs ------------------------------------------------------------

ACCEPTED = [
    ("1,250.50", "INR", 125050),
    ("12.5", "INR", 1250),
    ("0.01", "INR", 1),
    ("7", "INR", 700),
    (".5", "INR", 50),
    ("5.", "INR", 500),
    ("  42.10 \t", "INR", 4210),
    ("1,25,000.50", "INR", 12500050),
    ("1,23,45,678", "INR", 1234567800),
    ("1,250,000", "INR", 125000000),
    ("1,250,000", "USD", 125000000),
    ("12,500", "USD", 1250000),
    ("007", "USD", 700),
    ("1,250", "JPY", 1250),
    ("5.", "JPY", 5),
    ("1.250", "KWD", 1250),
    ("0.001", "KWD", 1),
    ("3", "inr", 300),
    ("3", " usd ", 300),
]


@pytest.mark.parametrize(("text", "currency", "minor"), ACCEPTED)
def test_accepted_inputs(text: str, currency: str, minor: int) -> None:
    result = parse_amount(text, currency)
    assert result == Money(minor, normalize_currency(currency))
    assert type(result.minor) is int


def test_zero_allowed_when_asked() -> None:
    assert parse_amount("0.00", "INR", allow_zero=True) == Money(0, "INR")
    assert parse_amount("0", "JPY", allow_zero=True).is_zero


def test_max_minor_is_inclusive() -> None:
    assert parse_amount("1,000.00", "INR", max_minor=100000) == Money(100000, "INR")


# --- parsing: rejected inputs ------------------------------------------------------------

REJECTED = [
    ("", "INR", EmptyAmount),
    ("   ", "INR", EmptyAmount),
    ("\t\n", "INR", EmptyAmount),
    ("12.505", "INR", TooManyDecimals),
    ("12.500", "INR", TooManyDecimals),
    ("1.5", "JPY", TooManyDecimals),
    (".5", "JPY", TooManyDecimals),
    ("1.2345", "KWD", TooManyDecimals),
    ("-5", "INR", NegativeAmount),
    ("−5", "INR", NegativeAmount),
    ("-0.50", "INR", NegativeAmount),
    ("0", "INR", ZeroAmount),
    ("0.00", "INR", ZeroAmount),
    (".0", "USD", ZeroAmount),
    ("١٢٣", "INR", AmountFormatError),
    ("１２", "INR", AmountFormatError),
    ("²", "INR", AmountFormatError),
    ("1e3", "INR", AmountFormatError),
    ("1E3", "INR", AmountFormatError),
    ("nan", "INR", AmountFormatError),
    ("NaN", "INR", AmountFormatError),
    ("inf", "INR", AmountFormatError),
    ("infinity", "INR", AmountFormatError),
    ("-inf", "INR", AmountFormatError),
    ("+5", "INR", AmountFormatError),
    ("5 5", "INR", AmountFormatError),
    ("abc", "INR", AmountFormatError),
    ("12a", "INR", AmountFormatError),
    ("1..2", "INR", AmountFormatError),
    ("1.2.3", "INR", AmountFormatError),
    ("₹5", "INR", AmountFormatError),
    ("$5", "USD", AmountFormatError),
    ("5€", "EUR", AmountFormatError),
    ("12,50", "INR", AmountFormatError),
    ("1,2,3", "INR", AmountFormatError),
    (",5", "INR", AmountFormatError),
    ("5,", "INR", AmountFormatError),
    ("1,,000", "INR", AmountFormatError),
    ("12,34,5678", "INR", AmountFormatError),
    ("1,000.5,0", "INR", AmountFormatError),
    ("0,123", "INR", AmountFormatError),
    ("1_000", "INR", AmountFormatError),
    (".", "INR", AmountFormatError),
    ("-", "INR", AmountFormatError),
    ("--5", "INR", AmountFormatError),
    ("1" * 41, "INR", AmountFormatError),
    ("5", "XYZ", UnknownCurrency),
    ("5", "", UnknownCurrency),
]


@pytest.mark.parametrize(("text", "currency", "error"), REJECTED)
def test_rejected_inputs(text: str, currency: str, error: type[MoneyError]) -> None:
    with pytest.raises(error) as info:
        parse_amount(text, currency)
    assert type(info.value) is error
    assert_one_line(info.value)


def assert_one_line(exc: MoneyError) -> None:
    assert isinstance(exc, InputError) and isinstance(exc, ValueError)
    assert exc.exit_code == 2
    assert exc.message == str(exc)
    assert exc.message and "\n" not in exc.message and "\r" not in exc.message
    assert "Traceback" not in exc.message


def test_error_messages() -> None:
    with pytest.raises(TooManyDecimals, match=r"^INR amounts have at most 2 decimals$"):
        parse_amount("12.505", "INR")
    with pytest.raises(TooManyDecimals, match="JPY amounts have no decimals"):
        parse_amount("1.5", "JPY")
    with pytest.raises(EmptyAmount, match=r"^enter an amount$"):
        parse_amount(" ", "INR")
    with pytest.raises(AmountFormatError, match=r"0-9"):
        parse_amount("١٢٣", "INR")
    with pytest.raises(AmountFormatError, match=r'"\."'):
        parse_amount("12,50", "INR")


@pytest.mark.parametrize("code", sorted(CURRENCIES))
def test_too_large_shows_formatted_max(code: str) -> None:
    limit = Money(10**7 + 12, code)
    with pytest.raises(AmountTooLarge) as info:
        parse_amount(format_plain(limit + Money(1, code)), code, max_minor=limit.minor)
    assert format_money(limit) in info.value.message
    assert_one_line(info.value)


def test_absurdly_long_input_is_rejected_quickly() -> None:
    with pytest.raises(AmountFormatError):
        parse_amount("9" * 1_000_000, "INR")


# --- parsing: fuzz -----------------------------------------------------------------------


def check_total(text: object, code: str, **kwargs: object) -> Money | None:
    """parse_amount returns a non-negative int Money or raises a one-line MoneyError."""
    try:
        result = parse_amount(text, code, **kwargs)  # type: ignore[arg-type]
    except MoneyError as exc:
        assert_one_line(exc)
        return None
    assert isinstance(result, Money) and type(result.minor) is int
    assert result.minor >= 0 and result.currency == code
    return result


@given(st.text(), codes, st.booleans())
def test_fuzz_any_text(text: str, code: str, allow_zero: bool) -> None:
    check_total(text, code, allow_zero=allow_zero)


GRAMMAR = st.text(alphabet="0123456789,. -+−eE\t", max_size=24)


@given(GRAMMAR, codes, st.booleans(), st.none() | st.integers(0, 10**12))
def test_fuzz_grammar(text: str, code: str, allow_zero: bool, max_minor: int | None) -> None:
    result = check_total(text, code, allow_zero=allow_zero, max_minor=max_minor)
    if result is not None:
        assert allow_zero or result.minor > 0
        assert max_minor is None or result.minor <= max_minor
        # Agrees with an exact decimal reading of the same text.
        exact = Decimal(text.strip().replace(",", "")) * 10 ** currency_exponent(code)
        assert exact == result.minor


@given(st.from_regex(r"\A[0-9]{0,12}(\.[0-9]{0,4})?\Z"), codes)
def test_plain_numbers_match_decimal(text: str, code: str) -> None:
    exponent = currency_exponent(code)
    frac = text.partition(".")[2]
    if text.strip(".") == "" or len(frac) > exponent:
        return
    expected = Decimal(text) * 10**exponent
    assert parse_amount(text, code, allow_zero=True).minor == expected


# --- formatting --------------------------------------------------------------------------

FORMATTED = [
    (Money(12500050, "INR"), "₹1,25,000.50", "1,25,000.50", "125000.50"),
    (Money(1234567800, "INR"), "₹1,23,45,678.00", "1,23,45,678.00", "12345678.00"),
    (Money(99999, "INR"), "₹999.99", "999.99", "999.99"),
    (Money(-1250, "INR"), "-₹12.50", "-12.50", "-12.50"),
    (Money(125050, "USD"), "$1,250.50", "1,250.50", "1250.50"),
    (Money(125000000, "EUR"), "€1,250,000.00", "1,250,000.00", "1250000.00"),
    (Money(5, "GBP"), "£0.05", "0.05", "0.05"),
    (Money(1250, "JPY"), "¥1,250", "1,250", "1250"),
    (Money(1250, "KWD"), "KWD 1.250", "1.250", "1.250"),
    (Money(100, "AED"), "AED 1.00", "1.00", "1.00"),
    (Money(0, "SGD"), "S$0.00", "0.00", "0.00"),
]


@pytest.mark.parametrize(("m", "shown", "bare", "plain"), FORMATTED)
def test_format_examples(m: Money, shown: str, bare: str, plain: str) -> None:
    assert format_money(m) == shown == str(m)
    assert format_money(m, symbol=False) == bare
    assert format_plain(m) == plain


@given(codes.flatmap(lambda c: money_in(c, 0)))
def test_round_trip(m: Money) -> None:
    assert parse_amount(format_money(m, symbol=False), m.currency, allow_zero=True) == m
    assert parse_amount(format_plain(m), m.currency, allow_zero=True) == m


@given(codes.flatmap(money_in))
def test_plain_format_is_exact_decimal(m: Money) -> None:
    assert Decimal(format_plain(m)) * 10 ** currency_exponent(m.currency) == m.minor


# --- currencies --------------------------------------------------------------------------


def test_currency_table() -> None:
    assert {"INR", "USD", "EUR", "GBP", "JPY", "KWD", "AED", "SGD"} <= set(CURRENCIES)
    assert [currency_exponent(c) for c in ("INR", "JPY", "KWD")] == [2, 0, 3]
    assert normalize_currency(" inr ") == "INR"
    with pytest.raises(UnknownCurrency):
        normalize_currency("XXX")
    with pytest.raises(TypeError):
        CURRENCIES["XXX"] = CURRENCIES["INR"]  # type: ignore[index]


# --- Money and arithmetic ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [1.0, True, False, Decimal(1), "100", None, Fraction(1)])
def test_money_rejects_non_int_minor(bad: object) -> None:
    with pytest.raises(InvalidMinorUnits) as info:
        Money(bad, "INR")  # type: ignore[arg-type]
    assert_one_line(info.value)


def test_money_currency_is_normalized_or_rejected() -> None:
    assert Money(100, "inr") == Money(100, "INR")
    assert Money(100, "inr").currency == "INR"
    with pytest.raises(UnknownCurrency):
        Money(100, "rupees")


def test_money_is_frozen_and_hashable() -> None:
    m = Money(100, "INR")
    with pytest.raises(AttributeError):
        m.minor = 5  # type: ignore[misc]
    assert len({m, Money(100, "INR"), Money(100, "USD")}) == 2


def test_mixing_currencies_raises() -> None:
    inr, usd = Money(100, "INR"), Money(100, "USD")
    with pytest.raises(CurrencyMismatch, match=r"^cannot add INR and USD$"):
        inr + usd
    with pytest.raises(CurrencyMismatch):
        inr - usd
    for compare in (
        lambda: inr < usd,
        lambda: inr <= usd,
        lambda: inr > usd,
        lambda: inr >= usd,
    ):
        with pytest.raises(CurrencyMismatch):
            compare()
    with pytest.raises(CurrencyMismatch):
        sum_money([inr, usd], "INR")
    assert inr != usd


@pytest.mark.parametrize("other", [1, 1.5, 0, Decimal(1)])
def test_mixing_with_numbers_is_a_type_error(other: object) -> None:
    m = Money(100, "INR")
    with pytest.raises(TypeError):
        m + other  # type: ignore[operator]
    with pytest.raises(TypeError):
        other + m  # type: ignore[operator]
    with pytest.raises(TypeError):
        m - other  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = m < other  # type: ignore[operator]


def test_helpers() -> None:
    assert Money.zero("jpy") == Money(0, "JPY") and Money.zero("JPY").is_zero
    assert not Money(1, "JPY").is_zero
    assert sum_money([], "INR") == Money(0, "INR")
    assert sum_money((Money(n, "INR") for n in (1, 2, -5)), "INR") == Money(-2, "INR")
    assert -Money(5, "INR") == Money(-5, "INR")
    assert sorted([Money(3, "INR"), Money(-1, "INR")]) == [Money(-1, "INR"), Money(3, "INR")]
    assert Money(1, "INR") <= Money(1, "INR") < Money(2, "INR")
    assert Money(2, "INR") >= Money(2, "INR") > Money(1, "INR")


@given(codes.flatmap(lambda c: st.tuples(money_in(c), money_in(c), money_in(c))))
def test_arithmetic(ms: tuple[Money, Money, Money]) -> None:
    a, b, c = ms
    assert (a + b) - b == a
    assert (a + b) + c == a + (b + c) == sum_money([a, b, c], a.currency)
    assert a + b == b + a
    negated = -a
    assert -negated == a and a - a == Money.zero(a.currency)


@given(codes, codes, st.integers(), st.integers())
def test_arithmetic_mixing_currencies(c1: str, c2: str, x: int, y: int) -> None:
    if c1 == c2:
        return
    with pytest.raises(CurrencyMismatch):
        Money(x, c1) + Money(y, c2)


def round_half_away(value: Fraction) -> int:
    magnitude = abs(value)
    rounded = int(magnitude + Fraction(1, 2))  # floor of |x| + 1/2
    return rounded if value >= 0 else -rounded


@given(codes.flatmap(money_in), st.integers(-(10**6), 10**6))
def test_percent_matches_exact_rounding(m: Money, bps: int) -> None:
    result = m.percent(bps)
    assert type(result.minor) is int and result.currency == m.currency
    assert result.minor == round_half_away(Fraction(m.minor * bps, 10_000))


@pytest.mark.parametrize(
    ("minor", "bps", "expected"),
    [(10000, 1000, 1000), (5, 1000, 1), (4, 1000, 0), (-5, 1000, -1), (15, 3333, 5), (1, 0, 0)],
)
def test_percent_examples(minor: int, bps: int, expected: int) -> None:
    assert Money(minor, "INR").percent(bps) == Money(expected, "INR")


def test_percent_rejects_non_int() -> None:
    with pytest.raises(TypeError):
        Money(100, "INR").percent(10.0)  # type: ignore[arg-type]


# --- no floats in the module -------------------------------------------------------------


def float_usages(source: str) -> list[str]:
    """Float literals, `float` references and true division `/` in source code."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, float | complex):
            found.append(f"line {node.lineno}: float literal {node.value!r}")
        elif isinstance(node, ast.Name) and node.id == "float":
            found.append(f"line {node.lineno}: reference to float")
        elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Div):
            found.append(f"line {node.lineno}: true division")
        elif isinstance(node, ast.Attribute) and node.attr in {"fromhex", "__truediv__"}:
            found.append(f"line {node.lineno}: {node.attr}")
    return found


def test_money_module_uses_no_float() -> None:
    source = inspect.getsource(money)
    assert float_usages(source) == []
    assert "float(" not in source


@pytest.mark.parametrize(
    "snippet",
    ["x = 0.5", "x = float(y)", "x = a / b", "x /= 2", "x = 1e3", "x = isinstance(y, float)"],
)
def test_float_detector_catches(snippet: str) -> None:
    assert float_usages(snippet)
