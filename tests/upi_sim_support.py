"""Helpers for the simulated UPI network's tests: the banks on a fixed clock, an HTTP
client on their app, a boarded merchant, and the calls a payee and a payer make.

A plain module, not a conftest: pytest does not rewrite its asserts, so it has none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from bank_sim.app import Banks
from bank_sim.config import BankConfig
from gateway_core.clock import FixedClock
from gateway_core.upi_api import TEST_PIN, UpiCallback, UpiTransaction
from gateway_core.upi_link import PaymentLink

IST = timezone(timedelta(hours=5, minutes=30), "IST")
START = datetime(2026, 11, 28, 10, 0, tzinfo=IST)
MERCHANT_ID = "PAYGATEDEMO0001"
PAYEE_VPA = "demostore@pgbank"
PAYEE_NAME = "Demo Store"
SECRET = "ab" * 32
BASE = "http://banks/upi/v1"


@dataclass
class UpiWorld:
    """The banks, their clock and a client on their app, the merchant boarded."""

    banks: Banks
    clock: FixedClock
    client: httpx.AsyncClient
    refs: int = 0

    async def create(
        self, amount: int = 250_00, flow: str = "qr", payer_vpa: str | None = None, **kw: Any
    ) -> UpiTransaction:
        """A new transaction (a fresh reference unless `kw` names one), expiring in 5 min."""
        self.refs += 1
        body = {
            "merchant_id": MERCHANT_ID,
            "reference": f"pay_{self.refs:04d}",
            "amount": amount,
            "flow": flow,
            "expires_at": (self.clock.now() + timedelta(minutes=5)).isoformat(),
        }
        body |= {"payer_vpa": payer_vpa} if payer_vpa else {}
        r = await self.client.post(f"{BASE}/transactions", json=body | kw)
        assert r.status_code == 200, r.text
        return UpiTransaction.model_validate(r.json())

    async def pay(
        self, txn: UpiTransaction, vpa: str, pin: str = TEST_PIN, *, amount: int | None = None
    ) -> httpx.Response:
        """The payer pays `txn` (its link, or the collect request) with `vpa` and `pin`."""
        body: dict[str, Any] = {"vpa": vpa, "pin": pin}
        if txn.flow == "collect":
            body["request_id"] = txn.txn_id
        else:
            body["link"] = link_of(txn, amount)
        return await self.client.post(f"{BASE}/payer/pay", json=body)

    async def status(self, txn_id: str) -> UpiTransaction:
        r = await self.client.get(f"{BASE}/transactions/{txn_id}")
        assert r.status_code == 200, r.text
        return UpiTransaction.model_validate(r.json())

    async def callbacks(self) -> list[UpiCallback]:
        r = await self.client.get(f"{BASE}/callbacks", params={"merchant_id": MERCHANT_ID})
        assert r.status_code == 200, r.text
        return [UpiCallback.model_validate(cb) for cb in r.json()]

    async def ack(self, callbacks: list[UpiCallback]) -> int:
        body = {"merchant_id": MERCHANT_ID, "ids": [cb.id for cb in callbacks]}
        r = await self.client.post(f"{BASE}/callbacks/ack", json=body)
        assert r.status_code == 200, r.text
        return r.json()["acknowledged"]

    async def ledger_ok(self) -> dict[str, Any]:
        r = await self.client.get(f"{BASE}/ledger/check")
        assert r.status_code == 200, r.text
        return r.json()


def link_of(txn: UpiTransaction, amount: int | None = None) -> str:
    """The QR / intent link the gateway makes for `txn`."""
    flow = "intent" if txn.flow == "intent" else "qr"
    return PaymentLink(
        PAYEE_VPA, PAYEE_NAME, amount or txn.amount, txn.reference, txn.note, flow=flow
    ).link()


def bank_config(data_dir: Path, clock: FixedClock, **overrides: Any) -> BankConfig:
    return BankConfig(data_dir, clock=clock, tz=IST, merchant_id=MERCHANT_ID, **overrides)


@asynccontextmanager
async def upi_world(
    data_dir: Path, clock: FixedClock | None = None, **config: Any
) -> AsyncIterator[UpiWorld]:
    """The banks on `data_dir` (`config`: `BankConfig` fields) with the merchant boarded;
    closed on the way out."""
    clock = clock or FixedClock(START)
    banks = Banks(bank_config(data_dir, clock, **config))
    try:
        transport = httpx.ASGITransport(app=banks.asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://banks") as client:
            merchant = {
                "merchant_id": MERCHANT_ID,
                "vpa": PAYEE_VPA,
                "name": PAYEE_NAME,
                "mcc": "5411",
                "callback_secret": SECRET,
            }
            r = await client.post(f"{BASE}/merchants", json=merchant)
            assert r.status_code == 200, r.text
            yield UpiWorld(banks, clock, client)
    finally:
        banks.close()
