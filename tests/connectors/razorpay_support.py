"""The Razorpay tests' fake, connector and charges (test_razorpay.py,
test_razorpay_fake.py): one fake for the module, on a loopback port."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bank_sim.processors.faults import faults_router
from bank_sim.processors.razorpay import RazorpayFake
from bank_sim.processors.server import LoopbackServer
from gateway_core.cards import load_test_pan
from gateway_core.clock import SystemClock
from gateway_core.connectors.razorpay import RazorpayConnector
from gateway_core.ports.connectors import ConnectorCard, ConnectorCharge
from gateway_core.settings import ProcessorSettings

WEBHOOK_SECRET = "rzp-webhook-test-secret"
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
def fake_fixture(tmp_path_factory: pytest.TempPathFactory) -> RazorpayFake:
    account = RazorpayFake(tmp_path_factory.mktemp("razorpay"), SystemClock())
    account.webhooks.register(None, WEBHOOK_SECRET)
    return account


@pytest.fixture(scope="module", name="url")
def url_fixture(fake: RazorpayFake) -> Iterator[str]:
    app = FastAPI()
    app.include_router(fake.router())
    app.include_router(faults_router("/razorpay", fake.faults))
    server = LoopbackServer(app)
    try:
        yield server.start()
    finally:
        server.stop()


def make(url: str, timeout_s: float = 8.0, **settings: object) -> RazorpayConnector:
    """The connector on the fake (its test keys: the settings name none)."""
    values = {"webhook_secret": SecretStr(WEBHOOK_SECRET), "timeout_s": timeout_s} | settings
    return RazorpayConnector(ProcessorSettings(**values), f"{url}/razorpay")


@pytest.fixture(name="connector")
async def connector_fixture(url: str) -> AsyncIterator[RazorpayConnector]:
    made = make(url)
    yield made
    await made.close()
