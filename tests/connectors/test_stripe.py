"""The Stripe connector, through the official `stripe` SDK, against the Stripe fake:
the shared conformance cases, then Stripe's own (test methods and cards, mapping,
errors, 3-D Secure)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from conformance import *  # noqa: F403  (the shared cases)
from conformance import Kit, Webhook
from conftest import FakesServer
from pydantic import SecretStr

from bank_sim.processors.stripe import StripeFake
from bank_sim.processors.stripe.webhooks import sign
from gateway_core.clock import SystemClock
from gateway_core.connectors.stripe import StripeConnector
from gateway_core.ports.connectors import ConnectorCard, ConnectorCharge
from gateway_core.settings import ProcessorSettings

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=:DeprecationWarning")  # the SDK's
_serial = itertools.count(1)


def charge(
    *, capture: bool = True, amount: int = 25_00, payment_method: str = "pm_card_visa", **extra
) -> ConnectorCharge:
    """A fresh charge (its own payment id and idempotency key)."""
    n = next(_serial)
    return ConnectorCharge(
        payment_id=f"pay_t{n:05d}",
        idempotency_key=f"idem-t{n:05d}",
        merchant_id="PAYGATEDEMO0001",
        amount=amount,
        currency="USD",
        capture=capture,
        payment_method=None if "card" in extra else payment_method,
        **extra,
    )


def card(pan: str, cvv: str | None = "123", month: int = 12, year: int = 2030) -> ConnectorCard:
    return ConnectorCard(SecretStr(pan), month, year, SecretStr(cvv) if cvv else None)


@pytest.fixture
def fake(fakes_server: FakesServer) -> StripeFake:
    stripe_fake = fakes_server.fakes["stripe"]
    assert isinstance(stripe_fake, StripeFake)
    return stripe_fake


@pytest.fixture
async def kit(fakes_server: FakesServer, fake: StripeFake) -> AsyncIterator[Kit]:
    endpoint, secret = fake.add_endpoint()
    clock = SystemClock()

    def connector(timeout_s: float = 8.0) -> StripeConnector:
        settings = ProcessorSettings(webhook_secret=SecretStr(secret), timeout_s=timeout_s)
        return StripeConnector(settings, f"{fakes_server.url}/stripe", clock)

    async def webhook(reference: str) -> Webhook:
        delivery = [d for d in fake.sent(reference) if d.endpoint == endpoint][-1]
        return delivery.headers, delivery.body

    async def bad_webhooks(reference: str) -> list[Webhook]:
        headers, body = await webhook(reference)
        t = int(headers["Stripe-Signature"].split(",")[0][2:])
        v1 = headers["Stripe-Signature"].split("v1=")[1]
        return [
            (headers, body.replace(b'"livemode": false', b'"livemode": true')),  # tampered
            ({"Stripe-Signature": sign(secret, body, t - 301)}, body),  # stale
            ({"Stripe-Signature": f"t={t + 5},v1={v1}"}, body),  # re-timestamped replay
            ({"Stripe-Signature": sign("whsec_other", body, t)}, body),  # another secret
            ({}, body),  # unsigned
        ]

    main = connector()
    yield Kit(
        connector=main,
        faults=fake.faults,
        approving=lambda capture=True, amount=25_00: charge(capture=capture, amount=amount),
        declining=lambda capture=True: charge(
            capture=capture, payment_method="pm_card_chargeDeclinedInsufficientFunds"
        ),
        decline_response_code="51",
        with_timeout=connector,
        payments_for=lambda payment_id: len(fake.intents(payment_id)),
        webhook=webhook,
        bad_webhooks=bad_webhooks,
    )
    await main.close()
