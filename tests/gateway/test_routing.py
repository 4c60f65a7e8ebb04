"""Routing rules: the first matching rule names the processors, in order; no match is
the built-in acquirer; processor names are checked when the gateway is built."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway_core.errors import InputError
from gateway_core.routing import check_routing, forced, route
from gateway_core.settings import ProcessorSettings, RouteRule, SettingsError, load_settings
from gateway_core.tenders.card import CardTender
from gateway_core.tenders.routed import RoutedTender

METHODS = ("card", "upi", "netbanking")
BRANDS = ("visa", "mastercard", "rupay", "amex")
NAMES = ("stripe", "razorpay", "paypal", "simulated")

MERCHANTS = ("SHOP1", "SHOP2")

rules_st = st.builds(
    RouteRule,
    merchant=st.none() | st.sampled_from(MERCHANTS),
    method=st.none() | st.sampled_from(METHODS),
    currency=st.none() | st.sampled_from(("INR", "usd", "EUR")),
    min_amount=st.none() | st.integers(0, 10_000),
    max_amount=st.none() | st.integers(0, 10_000),
    brand=st.none() | st.sampled_from((*BRANDS, "VISA")),
    processors=st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True),
)


def takes(
    rule: RouteRule, method: str, currency: str, amount: int, brand: str | None, merchant: str
) -> bool:
    """The rule's meaning, written out on its own."""
    if rule.merchant not in (None, merchant):
        return False
    if rule.method not in (None, method):
        return False
    if rule.currency is not None and rule.currency.upper() != currency.upper():
        return False
    if rule.min_amount is not None and amount < rule.min_amount:
        return False
    if rule.max_amount is not None and amount > rule.max_amount:
        return False
    return rule.brand is None or rule.brand.lower() == (brand or "").lower()


@given(
    rules=st.lists(rules_st, max_size=6),
    method=st.sampled_from(METHODS),
    currency=st.sampled_from(("INR", "USD", "eur")),
    amount=st.integers(1, 12_000),
    brand=st.none() | st.sampled_from(BRANDS),
    merchant=st.sampled_from(MERCHANTS),
)
def test_the_first_rule_that_takes_the_payment_names_its_processors(
    rules: list[RouteRule],
    method: str,
    currency: str,
    amount: int,
    brand: str | None,
    merchant: str,
) -> None:
    chosen = route(rules, method, currency, amount, brand, merchant)
    first = next((r for r in rules if takes(r, method, currency, amount, brand, merchant)), None)
    assert chosen == (first.processors if first else ["simulated"])
    assert chosen  # never nowhere


def test_amount_bounds_are_inclusive_and_brands_ignore_case() -> None:
    rules = [
        RouteRule(method="card", min_amount=100, max_amount=200, brand="Visa", processors=["a"]),
        RouteRule(currency="inr", processors=["b", "c"]),
    ]
    assert route(rules, "card", "INR", 100, "visa") == ["a"]
    assert route(rules, "card", "INR", 200, "VISA") == ["a"]
    assert route(rules, "card", "INR", 201, "visa") == ["b", "c"]
    assert route(rules, "upi", "INR", 150, None) == ["b", "c"]
    assert route(rules, "upi", "USD", 150, None) == ["simulated"]
    assert route([], "card", "INR", 1, "visa") == ["simulated"]


def test_a_rule_for_one_merchant_leaves_the_others_to_the_next() -> None:
    rules = [
        RouteRule(merchant="SHOP2", processors=["razorpay"]),
        RouteRule(method="card", processors=["stripe"]),
    ]
    assert route(rules, "card", "INR", 100, "visa", "SHOP2") == ["razorpay"]
    assert route(rules, "card", "INR", 100, "visa", "SHOP1") == ["stripe"]
    assert route(rules, "upi", "INR", 100, None, "SHOP1") == ["simulated"]


def _settings(tmp_path: Path, **kw: object):
    return load_settings(data_dir=tmp_path / "data", **kw)


@pytest.mark.parametrize(
    ("processors", "routing", "error"),
    [
        ({}, [{"processors": ["adyen"]}], "unknown processor 'adyen': paygate knows simulated, "),
        ({}, [{"processors": ["stripe"]}], "processor 'stripe' has no settings: add "),
        ({"stripe": {}}, [{"processors": ["stripe", "stripe"]}], "routing rule 1 names "),
        ({"adyen": {}}, [], "unknown processor 'adyen'"),
    ],
)
def test_a_processor_name_not_known_or_not_set_up_is_one_config_line(
    tmp_path: Path, processors: dict, routing: list, error: str
) -> None:
    settings = _settings(tmp_path, processors=processors, routing=routing)
    with pytest.raises(SettingsError) as caught:
        check_routing(settings)
    assert str(caught.value).startswith(error)
    assert "\n" not in str(caught.value)


def test_a_runtime_refuses_bad_routing_before_it_makes_anything(tmp_path: Path) -> None:
    from support import open_runtime

    settings = _settings(tmp_path, routing=[{"processors": ["stripe"]}])
    with pytest.raises(InputError, match="has no settings"):
        open_runtime(settings)
    assert not (tmp_path / "data").exists()  # no data dir, no key file


def test_forced_routes_everything_to_one_processor(tmp_path: Path) -> None:
    settings = _settings(tmp_path, processors={"stripe": ProcessorSettings()})
    assert route(forced(settings, "stripe").routing, "upi", "INR", 5, None) == ["stripe"]
    assert route(forced(settings, "simulated").routing, "card", "INR", 5, "visa") == ["simulated"]
    with pytest.raises(SettingsError, match="unknown processor 'nope'"):
        forced(settings, "nope")


def test_without_rules_or_processors_the_tenders_are_the_built_in_ones(tmp_path: Path) -> None:
    """Nothing in between: a payment costs what it did before routing existed."""
    from support import open_runtime

    with open_runtime(_settings(tmp_path)) as rt:
        assert type(rt.gateway.tenders["card"]) is CardTender
    routed = _settings(tmp_path, processors={"stripe": ProcessorSettings()})
    with open_runtime(routed) as rt:
        assert isinstance(rt.gateway.tenders["card"], RoutedTender)
        assert not isinstance(rt.gateway.tenders["cash"], RoutedTender)
