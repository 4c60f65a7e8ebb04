"""The PayPal fake on a loopback port and the charges the PayPal tests send
(test_paypal.py: the connector; test_paypal_fake.py: the fake's own shapes)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from bank_sim.processors.faults import faults_router
from bank_sim.processors.paypal.fake import PaypalFake
from bank_sim.processors.server import LoopbackServer
from gateway_core.clock import FixedClock
from gateway_core.ports.connectors import ConnectorCard, ConnectorCharge
from gateway_core.settings import ProcessorSettings

NOW = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)
SETTINGS = ProcessorSettings(
    api_key=SecretStr("paypal-client-id"),
    api_secret=SecretStr("paypal-client-secret"),
    webhook_secret=SecretStr("WH-TEST-0001"),
    timeout_s=2.0,
)
VISA = "4242424242424242"


@dataclass
class Env:
    """One fake, served."""

    fake: PaypalFake
    url: str  # the provider's root, as the SDK wants it (http://127.0.0.1:PORT/paypal)
    directory: Path


def serve(fake: PaypalFake) -> tuple[LoopbackServer, str]:
    """`fake` with its faults on a loopback port; (server, the provider's root URL)."""
    app = FastAPI()
    app.include_router(fake.router())
    app.include_router(faults_router("/paypal", fake.faults))
    server = LoopbackServer(app)
    return server, f"{server.start()}/paypal"


def running(directory: Path) -> Iterator[Env]:
    """A fake with SETTINGS in `directory`, served until the generator is closed."""
    fake = PaypalFake(directory, FixedClock(NOW), SETTINGS)
    server, url = serve(fake)
    yield Env(fake, url, directory)
    server.stop()


_serial = itertools.count()


def charge(
    pan: str = VISA,
    amount: int = 10_050,
    currency: str = "USD",
    *,
    capture: bool = True,
    cvv: str | None = "123",
    holder: str | None = "Asha Rao",
    key: str | None = None,
) -> ConnectorCharge:
    """A fresh card charge (its own payment id and idempotency key unless `key`)."""
    n = next(_serial)
    card = ConnectorCard(SecretStr(pan), 12, 2030, SecretStr(cvv) if cvv else None, holder)
    return ConnectorCharge(
        payment_id=f"pay_{n}",
        idempotency_key=key or f"idem-{n}",
        merchant_id="m_1",
        amount=amount,
        currency=currency,
        capture=capture,
        card=card,
    )


def orders_of(env: Env, payment_id: str) -> list[dict[str, Any]]:
    """The fake's orders for paygate's payment `payment_id` (its custom_id)."""
    return [o for o in env.fake.store.records("orders") if o["custom_id"] == payment_id]


def bearer(env: Env) -> dict[str, str]:
    """The Authorization header of a token for SETTINGS' client."""
    token = httpx.post(
        f"{env.url}/v1/oauth2/token",
        auth=("paypal-client-id", "paypal-client-secret"),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}
