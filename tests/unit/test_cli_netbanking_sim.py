"""`paygate charge --method netbanking` on the embedded simulated banks of a data dir: the
customer pays at the bank's pages (where `paygate sandbox` serves them), comes back
through the gateway's return, and `paygate status` then shows the payment approved with
the bank's reference."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from nb_sim_support import bank_return, through_bank
from support import open_runtime

from gateway_core.clock import SystemClock
from gateway_core.service.app import create_app
from gateway_core.settings import load_settings
from gateway_core.tenders.link import SANDBOX_URL


async def _pay_at_the_bank(data: Path, payment_id: str, login_url: str, user: str) -> None:
    rt = open_runtime(load_settings(data_dir=data), clock=SystemClock())
    try:
        gateway = rt.gateway
        app = create_app(rt, repair_on_start=False, poll_every_s=None)  # the sandbox's
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as browser:
            answer = await through_bank(browser, login_url, user)
        await gateway.returned(payment_id, bank_return(answer))
    finally:
        await rt.aclose()


def test_charge_pay_at_the_bank_then_status(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    charged = cli("charge", "--method", "netbanking", "--bank", "DEMOC", "--amount", "1,250.50",
                  "--json", "--data-dir", data)  # fmt: skip
    assert charged.code == 0, charged.err
    payment = json.loads(charged.out)
    assert payment["status"] == "pending" and payment["amount"] == 1_250_50
    url = payment["next_action"]["url"]
    assert url.startswith(f"{SANDBOX_URL}/sim/nb/DEMOC/pay/")
    asyncio.run(_pay_at_the_bank(data, payment["id"], url, "demo"))
    status = cli("status", payment["id"], "--data-dir", data)
    assert status.code == 0, status.err
    first = status.out.splitlines()[0]
    assert first.startswith("APPROVED  ₹1,250.50  Net banking Coastal Demo Bank XXXX")
    assert "bank ref " in status.out and "netbanking DEMOC" in status.out


def test_insufficient_funds_shows_declined_51(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    charged = cli("charge", "--method", "netbanking", "--bank", "DEMOA", "--amount", "500",
                  "--json", "--data-dir", data)  # fmt: skip
    payment = json.loads(charged.out)
    asyncio.run(_pay_at_the_bank(data, payment["id"], payment["next_action"]["url"], "poor"))
    status = cli("status", payment["id"], "--data-dir", data)
    assert status.out.splitlines()[0] == (
        "DECLINED 51  Insufficient funds in the customer's account"
    )
