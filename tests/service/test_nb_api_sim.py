"""Net banking end to end through the API and the simulated banks' pages: the payment made
over `POST /v1/payments`, the customer at the bank, the bank's 303 followed to
`/v1/netbanking/return`, and the browser sent on to the result page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from nb_sim_support import through_bank
from support import gateway_settings, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.keys import ApiKeys


@dataclass
class Sim:
    api: httpx.AsyncClient  # the terminal's, and the customer's browser on the gateway
    bank: httpx.AsyncClient  # the customer's browser on the banks' pages
    rt: Runtime
    auth: dict[str, str]

    async def pay(self, user: str = "demo", **kw) -> tuple[dict, httpx.Response]:
        """A payment made over the API, then the customer at the bank, then back at the
        gateway's return URL (the path of the bank's 303)."""
        body = {"method": "netbanking", "amount": 500_00, "netbanking": {"bank": "DEMOB"}}
        payment = (await self.api.post("/v1/payments", json=body, headers=self.auth)).json()
        answer = await through_bank(self.bank, payment["next_action"]["url"], user, **kw)
        assert answer.status_code == 303, answer.text
        url = urlsplit(answer.headers["location"])
        return payment, await self.api.get(f"{url.path}?{url.query}")


@pytest.fixture
async def sim(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Sim]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    secret = keys.issue("PAYGATEDEMO0001", "TERM0001", actor="owner")[1]
    await board_merchants(rt.gateway.bank, keys)
    app = create_app(rt, repair_on_start=False)
    banks = httpx.ASGITransport(app=rt.banks.asgi_app())
    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as api,
            httpx.AsyncClient(transport=banks, base_url="http://banks") as bank,
        ):
            yield Sim(api, bank, rt, {"Authorization": f"Bearer {secret}"})
    finally:
        await rt.aclose()


async def test_paid_at_the_bank_and_sent_back_to_the_result_page(sim: Sim) -> None:
    payment, back = await sim.pay()
    assert back.status_code == 303 and back.headers["location"] == f"/checkout/{payment['id']}"
    shown = await sim.api.get(f"/v1/payments/{payment['id']}", headers=sim.auth)
    assert (shown.json()["status"], shown.json()["netbanking"]["bank"]) == ("succeeded", "DEMOB")
    assert shown.json()["next_action"] is None


async def test_insufficient_funds_at_the_bank(sim: Sim) -> None:
    payment, back = await sim.pay("poor")
    assert back.status_code == 303
    shown = (await sim.api.get(f"/v1/payments/{payment['id']}", headers=sim.auth)).json()
    assert (shown["status"], shown["response_code"], shown["decline_code"]) == (
        "declined",
        "51",
        "insufficient_funds",
    )


async def test_the_same_return_twice_is_refused_the_second_time(sim: Sim) -> None:
    payment, back = await sim.pay()
    assert back.status_code == 303
    again = await sim.api.get(back.request.url.raw_path.decode())
    assert again.status_code == 400 and "already has the bank" in again.text
    shown = (await sim.api.get(f"/v1/payments/{payment['id']}", headers=sim.auth)).json()
    assert shown["status"] == "succeeded" and shown["amount_refunded"] == 0
