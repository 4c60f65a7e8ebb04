"""The tenders a gateway takes by default, one per method, each on the gateway's client
for its processor (asked for on every call: a client may be swapped or wrapped)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Protocol

from gateway_core.clock import Clock
from gateway_core.payments import Payment
from gateway_core.ports import NetbankingBanks, Processor, Tender, UpiPsp
from gateway_core.settings import Settings
from gateway_core.shifts import Shifts
from gateway_core.tenders.card import CardTender
from gateway_core.tenders.cash import CashTender
from gateway_core.tenders.link import LinkTender
from gateway_core.tenders.netbanking import NetbankingTender
from gateway_core.tenders.processors import Processors
from gateway_core.tenders.routed import routed
from gateway_core.tenders.upi import UpiTender
from gateway_core.vault import Vault


class Clients(Protocol):
    """What the default tenders reach through the gateway."""

    @property
    def bank(self) -> Processor: ...
    @property
    def upi(self) -> UpiPsp | None: ...
    @property
    def netbanking(self) -> NetbankingBanks | None: ...
    @property
    def shifts(self) -> Shifts: ...
    @property
    def get(self) -> Callable[[str], Payment]: ...
    @property
    def list_day(self) -> Callable[[date], list[Payment]]: ...
    @property
    def cancel(self) -> Callable[[str], Awaitable[Payment]]: ...


def default_tenders(
    gateway: Clients, vault: Vault, settings: Settings, clock: Clock
) -> dict[str, Tender]:
    """Card on the acquirer (`bank`), UPI on the payee PSP (`upi`), net banking on the
    banks (`netbanking`), cash in the shifts' drawers, payment links following their
    attempts through the gateway."""
    return {
        "card": CardTender(vault, lambda: gateway.bank),
        "upi": UpiTender(vault, lambda: gateway.upi, settings, clock),
        "netbanking": NetbankingTender(vault, lambda: gateway.netbanking, settings, clock),
        "cash": CashTender(gateway.shifts, settings),
        "link": LinkTender(settings, clock, gateway.get, gateway.list_day, gateway.cancel),
    }


ROUTED = ("card", "upi", "netbanking")  # the methods a real processor may take


def routed_tenders(
    tenders: Mapping[str, Tender], settings: Settings, processors: Processors
) -> dict[str, Tender]:
    """The card, UPI and net banking tenders behind the routing rules (`tenders.routed`),
    when the settings have rules or processors; else `tenders` as they are (nothing in
    between: a payment costs what it did)."""
    if not settings.routing and not settings.processors:
        return dict(tenders)
    return {
        method: routed(tender, settings.routing, processors) if method in ROUTED else tender
        for method, tender in tenders.items()
    }
