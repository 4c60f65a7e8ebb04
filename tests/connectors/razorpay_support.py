"""The Razorpay tests' fake, connector and charges (test_razorpay.py,
test_razorpay_fake.py): the module's processors' fakes (`fakes_server`), Razorpay's."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from fakes_support import FakesServer
from pydantic import SecretStr

from bank_sim.processors.razorpay.api import RazorpayFake
from gateway_core.cards import load_test_pan
from gateway_core.connectors.razorpay import RazorpayConnector
from gateway_core.ports.connectors import ConnectorCard, ConnectorCharge
from gateway_core.settings import ProcessorSettings

_serial = itertools.count(1)


def card(pan: str, cvv: str | None = "123", month: int = 12, year: int = 2030) -> ConnectorCard:
    return ConnectorCard(
        SecretStr(pan.replace(" ", "")), month, year, SecretStr(cvv) if cvv else None
    )


def charge(*, capture: bool = True, amount: int = 25_00, **source: object) -> ConnectorCharge:
    """A fresh charge (its own payment id and idempotency key); by default a card of the
    load-test range, each charge its own account (no daily limit is ever met)."""
    n = next(_serial)
    if not source:
        source = {"card": card(load_test_pan(500_000 + n))}
    method = "upi" if "vpa" in source or "upi" in source else "card"
    method = "netbanking" if "bank" in source else method
    source.pop("upi", None)
    return ConnectorCharge(
        payment_id=f"pay_r{n:05d}",
        idempotency_key=f"idem-r{n:05d}",
        merchant_id="PAYGATEDEMO0001",
        amount=amount,
        currency="INR",
        capture=capture,
        method=method,
        **source,
    )


@pytest.fixture(scope="module", name="fake")
def fake_fixture(fakes_server: FakesServer) -> RazorpayFake:
    account = fakes_server.fakes["razorpay"]
    assert isinstance(account, RazorpayFake)
    return account


@pytest.fixture(scope="module", name="url")
def url_fixture(fakes_server: FakesServer) -> str:
    return fakes_server.url


def make(url: str, timeout_s: float = 8.0, **settings: object) -> RazorpayConnector:
    """The connector on the fake (no base_url: the fake's test keys and webhook secret)."""
    values = {"timeout_s": timeout_s} | settings
    return RazorpayConnector(ProcessorSettings(**values), f"{url}/razorpay")


@pytest.fixture(name="connector")
async def connector_fixture(url: str) -> AsyncIterator[RazorpayConnector]:
    made = make(url)
    yield made
    await made.close()
