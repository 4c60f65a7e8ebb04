"""A payment link at the terminal: n on the Sale screen makes a `link` payment and
shows its checkout page as a QR with a countdown; the terminal waits like the UPI
screen until the customer pays on their phone (the result), Esc cancels it, and a link
nobody pays expires once the clock passes its deadline."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import (
    PANS,
    SIZE,
    build_app,
    burst,
    compare_app,
    decode,
    drive,
    flat,
    login,
    on_screen,
    press,
    raster,
    wait_for,
)
from pydantic import SecretStr

from gateway_core import links
from gateway_core.cards import CardInput
from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from pos_app.widgets.qr import QrCode


@pytest.fixture
def app(settings: Settings, clock: FixedClock, tmp_path: Path):
    return build_app(settings, clock, tmp_path / "config", demo=True)


async def link_up(pilot, amount: str = "250") -> None:
    await login(pilot)
    await burst(pilot, *amount, "n")
    await on_screen(pilot, "LinkScreen")
    await wait_for(pilot, lambda: pilot.app.screen.query_one(QrCode).link)


async def pay_link(app, payment_id: str, pan: str = PANS["approve"]) -> None:
    """The customer pays the link by card on the checkout page."""
    card = CardInput(pan=SecretStr(pan), expiry="12/30", cvv=SecretStr("123"))
    await links.pay_link(app.gateway, payment_id, "card", card)


async def test_the_qr_opens_the_checkout_page_and_the_result_follows(app) -> None:
    async with drive(app) as pilot:
        await link_up(pilot)
        payment = app.screen.payment
        assert payment.method == "link" and payment.status == "pending"
        assert decode(raster(app.screen.query_one(QrCode))) == [payment.link.url]
        text = flat(app)
        assert "Link expires in 15:00" in text and "Waiting for the customer" in text
        assert payment.link.url in text.replace(" ", "")
        assert "customer's phone" not in text  # no demo phone: the customer's own opens it
        await pay_link(app, payment.id)
        await on_screen(pilot, "ResultScreen")
        assert "APPROVED" in flat(app)


async def test_a_declined_try_leaves_the_link_waiting_for_another(app) -> None:
    async with drive(app) as pilot:
        await link_up(pilot)
        payment = app.screen.payment
        await pay_link(app, payment.id, "4000 0000 0000 0002")  # 05 do not honor
        await wait_for(pilot, lambda: "(1 try so far)" in flat(app))
        assert type(app.screen).__name__ == "LinkScreen"
        await pay_link(app, payment.id)
        await on_screen(pilot, "ResultScreen")
        paid = app.gateway.get(payment.id)
        assert paid.status == "succeeded" and paid.link.paid_by == paid.link.attempts[-1]


async def test_esc_cancels_the_link(app) -> None:
    async with drive(app) as pilot:
        await link_up(pilot)
        payment_id = app.screen.payment.id
        await press(pilot, "escape")
        await on_screen(pilot, "ResultScreen")
        assert app.gateway.get(payment_id).status == "canceled"


async def test_a_link_nobody_pays_expires(app, clock: FixedClock) -> None:
    async with drive(app) as pilot:
        await link_up(pilot)
        payment_id = app.screen.payment.id
        clock.advance(seconds=880)
        await wait_for(pilot, lambda: "Link expires in 0:20" in flat(app))
        clock.advance(seconds=21)
        await on_screen(pilot, "ResultScreen", timeout=15)
        assert app.gateway.get(payment_id).status == "expired"


async def test_a_pre_authorization_is_not_a_link(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, *"500", "a", "n")
        assert type(app.screen).__name__ == "SaleScreen"
        assert "A payment link has no pre-authorization" in flat(app)


def test_link_screen(snap_compare, settings: Settings, clock: FixedClock, tmp_path) -> None:
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    assert compare_app(snap_compare, app, link_up, SIZE)


async def test_a_pending_link_opened_from_today_shows_its_qr_again(app) -> None:
    async with drive(app) as pilot:
        await link_up(pilot, "60")
        link_screen, payment = app.screen, app.screen.payment
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        await press(pilot, "enter")  # back to the QR still up underneath, not a second one
        await wait_for(pilot, lambda: app.screen is link_screen)
        assert app.screen.query_one(QrCode).link == payment.link.url
