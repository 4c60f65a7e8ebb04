"""Helpers for the simulated net banking banks' tests (and the gateway's): drive a bank's
HTML pages as a browser would (`through_bank`), read the signed result off the 303
(`bank_return`), and the banks on a fixed clock with the merchant boarded at every bank
(`nb_world`).

A plain module, not a conftest: pytest does not rewrite its asserts, so it has none.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx

from bank_sim.app import Banks
from bank_sim.config import BankConfig
from gateway_core.clock import FixedClock
from gateway_core.netbanking_api import (
    TEST_BANKS,
    TEST_PASSWORD,
    NbReturn,
    NbTransaction,
)

IST = timezone(timedelta(hours=5, minutes=30), "IST")
START = datetime(2026, 11, 28, 10, 0, tzinfo=IST)
MERCHANT_ID = "PAYGATEDEMO0001"
MERCHANT_NAME = "Paygate Demo Store"
BASE = "http://banks/netbanking/v1"
RETURN_URL = "http://gateway.test/v1/netbanking/return"
_SESSION = re.compile(r'name="session" value="([^"]+)"')


async def through_bank(
    client: httpx.AsyncClient,
    login_url: str,
    user: str = "demo",
    password: str = TEST_PASSWORD,
    *,
    choice: Literal["confirm", "cancel"] = "confirm",
) -> httpx.Response:
    """A customer at the bank: GET the login page, POST the login (then the confirm) or
    the Cancel button. The bank's last answer: a 303 whose Location is the return URL
    with the signed result (`bank_return`), or the page that stopped the visit (the
    login page again after a wrong password, 503 at the DOWN bank, `noreturn`'s "you may
    close this window"). `client` must not follow redirects (httpx's default)."""
    page = await client.get(login_url)
    if page.status_code != 200:
        return page
    if choice == "cancel":
        return await client.post(f"{login_url}/cancel")
    signed_in = await client.post(f"{login_url}/login", data={"user": user, "password": password})
    session = _SESSION.search(signed_in.text)
    if signed_in.status_code != 200 or session is None:
        return signed_in
    return await client.post(f"{login_url}/confirm", data={"session": session.group(1)})


def bank_return(answer: httpx.Response) -> NbReturn:
    """The signed result in the query string of the bank's 303 `answer`."""
    fields = dict(parse_qsl(urlsplit(answer.headers["location"]).query, keep_blank_values=True))
    return NbReturn.model_validate({k: v for k, v in fields.items() if k in NbReturn.model_fields})


@dataclass
class NbWorld:
    """The banks, their clock and a client on their app, the merchant boarded at every
    bank (`secrets`: bank → the shared secret boarding answered)."""

    banks: Banks
    clock: FixedClock
    client: httpx.AsyncClient
    secrets: dict[str, str] = field(default_factory=dict)
    payments: int = 0

    async def create(self, amount: int = 500_00, bank: str = "DEMOA", **kw: Any) -> NbTransaction:
        """A new transaction for a fresh payment id (unless `kw` names one), expiring in
        10 minutes."""
        r = await self.post_create(amount, bank, **kw)
        assert r.status_code == 200, r.text
        return NbTransaction.model_validate(r.json())

    async def post_create(self, amount: int = 500_00, bank: str = "DEMOA", **kw: Any):
        self.payments += 1
        body = {
            "bank": bank,
            "merchant_id": MERCHANT_ID,
            "payment_id": f"pay_{self.payments:04d}",
            "amount": amount,
            "return_url": RETURN_URL,
            "expires_at": (self.clock.now() + timedelta(minutes=10)).isoformat(),
        }
        return await self.client.post(f"{BASE}/transactions", json=body | kw)

    async def status(self, txn: NbTransaction) -> NbTransaction:
        r = await self.client.get(f"{BASE}/transactions/{txn.bank}/{txn.payment_id}")
        assert r.status_code == 200, r.text
        return NbTransaction.model_validate(r.json())

    async def pay(self, txn: NbTransaction, user: str = "demo", **kw: Any) -> httpx.Response:
        """`through_bank` for `txn`."""
        return await through_bank(self.client, txn.login_url, user, **kw)

    async def ledger(self) -> dict[str, Any]:
        r = await self.client.get(f"{BASE}/ledger/check")
        assert r.status_code == 200, r.text
        return r.json()


def bank_config(data_dir: Path, clock: FixedClock, **overrides: Any) -> BankConfig:
    return BankConfig(data_dir, clock=clock, tz=IST, merchant_id=MERCHANT_ID, **overrides)


@asynccontextmanager
async def nb_world(
    data_dir: Path, clock: FixedClock | None = None, **config: Any
) -> AsyncIterator[NbWorld]:
    """The banks on `data_dir` (`config`: `BankConfig` fields) with the merchant boarded
    at every bank; closed on the way out."""
    clock = clock or FixedClock(START)
    banks = Banks(bank_config(data_dir, clock, **config))
    try:
        transport = httpx.ASGITransport(app=banks.asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://banks") as client:
            world = NbWorld(banks, clock, client)
            for bank in TEST_BANKS:
                merchant = {"merchant_id": MERCHANT_ID, "name": MERCHANT_NAME}
                r = await client.post(f"{BASE}/merchants", params={"bank": bank}, json=merchant)
                assert r.status_code == 200, r.text
                world.secrets[bank] = r.json()["secret"]
            yield world
    finally:
        banks.close()
