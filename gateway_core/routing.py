"""Which processors a payment goes to: the first `[[routing]]` rule that matches its
merchant, method, currency, amount and card brand names them, in order; with no match, the
built-in acquirer ("simulated"). The names are checked once, when the gateway is built.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway_core.connectors import CONNECTORS
from gateway_core.settings import RouteRule, Settings, SettingsError

SIMULATED = "simulated"  # the built-in acquirer (and UPI / net banking simulators)
BUILT_IN = [SIMULATED]


def matches(
    rule: RouteRule,
    method: str,
    currency: str,
    amount: int,
    brand: str | None,
    merchant: str | None = None,
) -> bool:
    """Whether `rule` takes this payment (an unset field takes anything)."""
    return (
        (rule.merchant is None or rule.merchant == merchant)
        and (rule.method is None or rule.method == method)
        and (rule.currency is None or rule.currency.upper() == currency.upper())
        and (rule.min_amount is None or amount >= rule.min_amount)
        and (rule.max_amount is None or amount <= rule.max_amount)
        and (rule.brand is None or (brand or "").lower() == rule.brand.lower())
    )


def route(
    rules: Sequence[RouteRule],
    method: str,
    currency: str,
    amount: int,
    brand: str | None,
    merchant: str | None = None,
) -> list[str]:
    """The processors to try, in order: the first matching rule's, else ["simulated"]."""
    for rule in rules:
        if matches(rule, method, currency, amount, brand, merchant):
            return list(rule.processors)
    return list(BUILT_IN)


def check_processor(settings: Settings, name: str) -> None:
    """`SettingsError` (one line) unless `name` is the built-in acquirer or a processor
    paygate knows that has its `[processors.NAME]` settings."""
    if name == SIMULATED:
        return
    if name not in CONNECTORS:
        known = ", ".join([SIMULATED, *sorted(CONNECTORS)])
        raise SettingsError(f"unknown processor {name!r}: paygate knows {known}")
    if name not in settings.processors:
        raise SettingsError(
            f"processor {name!r} has no settings: add [processors.{name}] to the config file"
        )


def check_routing(settings: Settings) -> None:
    """Every processor named by the routing rules checked (`check_processor`); a rule
    that names one twice is refused too (each processor is tried once per payment)."""
    for number, rule in enumerate(settings.routing, 1):
        for name in rule.processors:
            check_processor(settings, name)
        if len(set(rule.processors)) != len(rule.processors):
            raise SettingsError(f"routing rule {number} names a processor twice")
    for name in settings.processors:
        if name not in CONNECTORS:
            check_processor(settings, name)


def forced(settings: Settings, name: str) -> Settings:
    """`settings` with every payment routed to `name` alone (no failover): what
    `paygate charge --processor NAME` runs with. `SettingsError` for a name not known."""
    check_processor(settings, name)
    return settings.model_copy(update={"routing": [RouteRule(processors=[name])]})
