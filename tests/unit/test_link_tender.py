"""The payment link tender through the gateway and the simulated banks: a link is
pending with its checkout page; attempts (card, UPI) are recorded and a succeeded one
pays the link (paid_by; the attempt holds the money); a declined one leaves it pending;
expiry and cancel end it and cancel its pending attempts; a link is never refunded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from support import MANAGER, VISA, actions, card_input, open_runtime

from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest
from gateway_core.links import pay_link
from gateway_core.payments import CashInput, NotAllowed, UpiInput
from gateway_core.ports import Polled
from gateway_core.runtime import Runtime
from gateway_core.settings import CheckoutSettings, Settings
from gateway_core.upi_api import TEST_PIN

DECLINED = card_for("4000 0000 0000 0002")


@pytest.fixture
async def rt(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    checkout = CheckoutSettings(public_url="https://pay.example.in/")
    runtime = open_runtime(settings.model_copy(update={"checkout": checkout}), clock=clock)
    try:
        yield runtime
    finally:
        await runtime.aclose()


def link(amount: int = 500_00, currency: str = "INR", **kw) -> ChargeRequest:
    return ChargeRequest(amount=amount, currency=currency, method="link", **kw)


async def test_a_link_is_pending_with_its_checkout_page(rt: Runtime, clock: FixedClock) -> None:
    payment = await rt.gateway.charge(link(return_url="https://shop.example/done"))
    detail = payment.link
    assert (payment.status, payment.method, payment.amount_captured) == ("pending", "link", 0)
    assert detail.url == f"https://pay.example.in/checkout/{payment.id}"
    assert detail.expires_at == clock.now() + timedelta(seconds=900)
    assert (detail.methods, detail.attempts, detail.paid_by) == (
        ["netbanking", "upi", "card"],
        [],
        None,
    )
    assert detail.return_url == "https://shop.example/done"
    action = payment.next_action
    assert (action.type, action.url) == ("redirect", detail.url)
    assert rt.payment(payment.id) == payment
    assert actions(rt, payment.id) == ["payment.created", "payment.pending"]
    assert isinstance(rt.gateway.tenders["link"], Polled)


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"cash": CashInput(tendered=500_00)}, "takes no card, UPI, bank or cash"),
        ({"capture": "manual"}, "no manual capture"),
        ({"return_url": "javascript:alert(1)"}, r"absolute http\(s\) address"),
        ({"link_id": "pay_20261128_0000000000"}, "cannot be a try at another link"),
    ],
)
async def test_a_bad_link_request_is_refused_and_nothing_stored(
    rt: Runtime, kw: dict, error: str
) -> None:
    with pytest.raises(InputError, match=error):
        await rt.gateway.charge(link(**kw))
    assert rt.gateway.list_day() == []


async def test_a_link_in_another_currency_offers_the_card_only(rt: Runtime) -> None:
    payment = await rt.gateway.charge(link(amount=20_00, currency="USD"))
    assert payment.link.methods == ["card"]
    with pytest.raises(InputError, match="not paid by upi"):
        await pay_link(rt.gateway, payment.id, "upi", UpiInput())


async def test_a_card_attempt_pays_the_link(rt: Runtime) -> None:
    payment = await rt.gateway.charge(link())
    declined = await pay_link(rt.gateway, payment.id, "card", card_input(DECLINED))
    assert (declined.status, declined.link_id) == ("declined", payment.id)
    still = rt.gateway.get(payment.id)
    assert (still.status, still.link.attempts) == ("pending", [declined.id])
    paid = await pay_link(rt.gateway, payment.id, "card", card_input(VISA))
    assert (paid.status, paid.amount_captured, paid.link_id) == ("succeeded", 500_00, payment.id)
    done = rt.gateway.get(payment.id)
    assert (done.status, done.amount_captured) == ("succeeded", 0)
    assert (done.link.paid_by, done.link.attempts) == (paid.id, [declined.id, paid.id])
    assert actions(rt, payment.id)[-1] == "payment.succeeded"
    with pytest.raises(NotAllowed, match="is paid already: it takes no payment"):
        await pay_link(rt.gateway, payment.id, "card", card_input(VISA))
    with pytest.raises(NotAllowed, match=f"refund {paid.id}, the payment that paid this link"):
        await rt.gateway.refund(payment.id, approval=MANAGER)
    refunded = await rt.gateway.refund(paid.id, approval=MANAGER)
    assert refunded.amount_refunded == 500_00


async def test_a_upi_attempt_paid_later_pays_the_link_at_the_next_poll(rt: Runtime) -> None:
    payment = await rt.gateway.charge(link())
    attempt = await pay_link(rt.gateway, payment.id, "upi", UpiInput())
    assert attempt.status == "pending"
    assert await rt.gateway.poll() == []  # nobody paid yet
    await rt.payer.pay("success@payer", TEST_PIN, link=attempt.upi.link)
    notes = await rt.gateway.poll()
    assert f"{payment.id}: succeeded" in notes
    assert rt.gateway.get(payment.id).link.paid_by == attempt.id


async def test_a_new_attempt_cancels_the_pending_one(rt: Runtime) -> None:
    payment = await rt.gateway.charge(link())
    first = await pay_link(rt.gateway, payment.id, "upi", UpiInput())
    paid = await pay_link(rt.gateway, payment.id, "card", card_input(VISA))
    assert rt.gateway.get(first.id).status == "canceled"
    assert rt.gateway.get(payment.id).link.paid_by == paid.id


async def test_an_expired_link_cancels_its_pending_attempts(rt: Runtime, clock: FixedClock) -> None:
    payment = await rt.gateway.charge(link())
    clock.advance(seconds=800)
    attempt = await pay_link(rt.gateway, payment.id, "upi", UpiInput())
    clock.advance(seconds=99)
    assert payment.id not in " ".join(await rt.gateway.poll())
    clock.advance(seconds=1)
    assert f"{payment.id}: expired" in await rt.gateway.poll()
    expired = rt.gateway.get(payment.id)
    assert (expired.status, expired.response_code, expired.link.attempts) == (
        "expired",
        "EX",
        [attempt.id],
    )
    assert rt.gateway.get(attempt.id).status == "canceled"
    with pytest.raises(NotAllowed, match="is expired"):
        await pay_link(rt.gateway, payment.id, "card", card_input(VISA))


async def test_canceling_a_link_cancels_its_pending_attempts(rt: Runtime) -> None:
    payment = await rt.gateway.charge(link())
    attempt = await pay_link(rt.gateway, payment.id, "upi", UpiInput())
    canceled = await rt.gateway.cancel(payment.id, operator="asha")
    assert (canceled.status, canceled.link.attempts) == ("canceled", [attempt.id])
    assert rt.gateway.get(attempt.id).status == "canceled"
    assert actions(rt, payment.id)[-1] == "payment.canceled"


async def test_an_attempt_made_but_not_recorded_is_found_by_repair(rt: Runtime) -> None:
    payment = await rt.gateway.charge(link())
    card = card_input(VISA)
    attempt = await rt.gateway.charge(
        ChargeRequest(amount=500_00, currency="INR", card=card, link_id=payment.id)
    )  # the process stopped before the link was told
    assert await rt.gateway.repair() == [f"{payment.id}: succeeded"]
    assert rt.gateway.get(payment.id).link.paid_by == attempt.id
