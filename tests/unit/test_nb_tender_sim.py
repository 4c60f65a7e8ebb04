"""The net banking tender through the simulated banks (the embedded banks' `/netbanking/v1`
and their pages, driven as a browser would by `nb_sim_support.through_bank`): each test
login's outcome, the lost redirect found by a status check, the DOWN bank expiring, a
late debit refunded, refunds, and the net banking books balanced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from nb_sim_support import bank_return, through_bank
from support import MANAGER, actions, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.payments import NetbankingInput, Payment
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.tenders.link import SANDBOX_URL


@dataclass
class World:
    rt: Runtime
    gw: Gateway
    browser: httpx.AsyncClient  # the customer's, on the banks' pages
    clock: FixedClock

    async def charge(self, amount: int = 500_00, bank: str = "DEMOA") -> Payment:
        req = ChargeRequest(
            amount=amount,
            currency="INR",
            method="netbanking",
            netbanking=NetbankingInput(bank=bank),
        )
        return await self.gw.charge(req)

    async def at_bank(self, payment: Payment, user: str = "demo", **kw) -> httpx.Response:
        return await through_bank(self.browser, payment.netbanking.login_url, user, **kw)

    async def back(self, payment: Payment, answer: httpx.Response) -> Payment:
        """The browser follows the bank's 303 to the gateway's return URL."""
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(f"{SANDBOX_URL}/v1/netbanking/return?")
        return await self.gw.returned(payment.id, bank_return(answer))

    async def balanced(self) -> None:
        check = await self.gw.netbanking.ledger_check()
        assert check.ok, check.problems


@pytest.fixture
async def world(settings: Settings, clock: FixedClock) -> AsyncIterator[World]:
    rt = open_runtime(settings, clock=clock)
    gw = rt.gateway
    transport = httpx.ASGITransport(app=rt.banks.asgi_app())
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://banks") as browser:
            yield World(rt, gw, browser, clock)
    finally:
        await rt.aclose()


async def test_demo_pays_through_the_banks_pages(world: World) -> None:
    payment = await world.charge()
    assert payment.status == "pending"
    assert payment.next_action.url == payment.netbanking.login_url
    assert payment.netbanking.login_url.startswith("http://banks/nb/DEMOA/pay/")
    paid = await world.back(payment, await world.at_bank(payment))
    assert (paid.status, paid.response_code, paid.amount_captured) == ("succeeded", "00", 500_00)
    assert paid.rrn == paid.netbanking.bank_ref and paid.netbanking.account.startswith("XXXX")
    assert actions(world.rt, payment.id)[-2:] == ["netbanking.return", "payment.succeeded"]
    await world.balanced()


@pytest.mark.parametrize(
    ("user", "amount", "status", "code"),
    [
        ("poor", 500_00, "declined", "51"),
        ("limit", 50_000_01, "declined", "61"),
    ],
)
async def test_each_test_login_failure_declines_with_its_code(
    world: World, user: str, amount: int, status: str, code: str
) -> None:
    payment = await world.charge(amount)
    ended = await world.back(payment, await world.at_bank(payment, user))
    assert (ended.status, ended.response_code) == (status, code)
    await world.balanced()


async def test_the_customer_cancels_at_the_bank(world: World) -> None:
    payment = await world.charge()
    canceled = await world.back(payment, await world.at_bank(payment, choice="cancel"))
    assert (canceled.status, canceled.response_code) == ("canceled", "CX")


async def test_three_wrong_passwords_lock_the_account_and_decline(world: World) -> None:
    payment = await world.charge()
    for _ in range(2):
        again = await world.at_bank(payment, password="wrong")
        assert again.status_code == 401 and "Wrong login or password" in again.text
    locked = await world.back(payment, await world.at_bank(payment, password="wrong"))
    assert (locked.status, locked.response_code) == ("declined", "75")


async def test_a_debit_whose_redirect_never_comes_is_found_by_the_check(world: World) -> None:
    payment = await world.charge()
    page = await world.at_bank(payment, "noreturn")
    assert page.status_code == 200 and "location" not in page.headers
    assert world.gw.get(payment.id).status == "pending"
    world.clock.advance(seconds=60)
    assert await world.gw.poll() == [f"{payment.id}: succeeded"]
    paid = world.gw.get(payment.id)
    assert paid.netbanking.bank_ref and paid.netbanking.checks == 1
    await world.balanced()


async def test_a_bank_that_is_down_expires_the_payment(world: World) -> None:
    payment = await world.charge(bank="DOWN")
    assert (await world.browser.get(payment.netbanking.login_url)).status_code == 503
    world.clock.advance(seconds=60)
    world.clock.advance(seconds=540)
    assert await world.gw.poll() == []  # checks 1 and 2: the bank still waits
    assert world.gw.get(payment.id).netbanking.checks == 2
    world.clock.advance(seconds=60)
    assert await world.gw.poll() == [f"{payment.id}: expired"]
    expired = world.gw.get(payment.id)
    assert (expired.status, expired.response_code) == ("expired", "EX")


async def test_cancel_after_the_customer_paid_is_a_success(world: World) -> None:
    payment = await world.charge()
    assert (await world.at_bank(payment)).status_code == 303  # the browser is not back yet
    assert (await world.gw.cancel(payment.id)).status == "succeeded"  # the bank says so


async def test_a_debit_after_the_cashier_canceled_is_refunded(world: World) -> None:
    payment = await world.charge()
    assert (await world.gw.cancel(payment.id)).status == "canceled"
    late = await world.back(payment, await world.at_bank(payment))  # debited all the same
    assert (late.status, late.netbanking.late_refund) == ("canceled", f"re_{payment.id[4:]}_late")
    assert actions(world.rt, payment.id)[-1] == "netbanking.late_debit_refunded"
    txn = await world.gw.netbanking.status("DEMOA", payment.id)
    assert (txn.state, txn.refunded) == ("REFUNDED", 500_00)
    await world.balanced()


async def test_refunds_partial_and_several_at_the_bank(world: World) -> None:
    payment = await world.charge(1_000_00)
    await world.back(payment, await world.at_bank(payment))
    await world.gw.refund(payment.id, 300_00, approval=MANAGER)
    done = await world.gw.refund(payment.id, 200_00, approval=MANAGER)
    assert done.amount_refunded == 500_00 and [r.amount for r in done.refunds] == [300_00, 200_00]
    assert all(r.rrn for r in done.refunds)
    txn = await world.gw.netbanking.status("DEMOA", payment.id)
    assert txn.refunded == 500_00
    await world.balanced()
