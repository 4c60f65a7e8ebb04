"""A UPI sale at the terminal, end to end through the embedded banks: u on the Sale
screen makes the QR, the demo's phone pays it (keys in one burst, as a fast typist or
`tmux send-keys` sends them), a decline shows its NPCI code's words, Esc cancels, and a
QR nobody pays expires once the clock passes its deadline."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import (
    build_app,
    burst,
    decode,
    drive,
    flat,
    login,
    on_screen,
    press,
    raster,
    typ,
    wait_for,
    widget_text,
)

from gateway_core.clock import FixedClock
from gateway_core.payments import ChargeRequest
from gateway_core.settings import Settings
from gateway_core.upi_api import TEST_PIN, UPI_CODES
from gateway_core.upi_link import mask_vpa, parse_link
from pos_app.screens.phone import PhonePanel
from pos_app.widgets.fields import Field
from pos_app.widgets.qr import QrCode

PAYERS = ("success@payer", "insufficient@payer")  # the first two of the phone's list
SLOW = 6  # slow@payer's place in the list


@pytest.fixture
def app(settings: Settings, clock: FixedClock, tmp_path: Path):
    return build_app(settings, clock, tmp_path / "config", demo=True)


async def show_qr(pilot, amount: str) -> None:
    """From the Sale screen: the amount, u, and the QR on screen."""
    await typ(pilot, amount)
    await press(pilot, "u")
    await on_screen(pilot, "UpiScreen")
    await wait_for(pilot, lambda: pilot.app.screen.query_one(QrCode).link)


def paid_keys(payer: str, pin: str = TEST_PIN) -> list[str]:
    """The phone's keys: open it, the payer (↓ from the first), Enter, the PIN, Enter."""
    return ["p", *["down"] * PAYERS.index(payer), "enter", *pin, "enter"]


async def test_paid_on_the_phone_in_one_burst_shows_the_receipt_with_the_rrn(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, "2", "5", "0", "u", *paid_keys("success@payer"))
        await on_screen(pilot, "ResultScreen")
        payment = app.gateway.get(app.flow.last_payment_id)
        assert payment.method == "upi" and payment.status == "succeeded"
        assert payment.amount == 25000 and payment.rrn
        receipt = widget_text(app, "#receipt")
        assert max(len(line) for line in receipt.splitlines()) <= 34  # a till roll's width
        assert f"RRN {payment.rrn}" in " ".join(receipt.split())
        assert mask_vpa("success@payer") in receipt and "success@payer" not in receipt
        assert "APPROVED" in flat(app)


async def test_insufficient_funds_is_declined_with_the_code_in_words(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, "9", "9", "u", *paid_keys("insufficient@payer"))
        await on_screen(pilot, "ResultScreen")
        payment = app.gateway.get(app.flow.last_payment_id)
        assert (payment.status, payment.response_code) == ("declined", "Z9")
        words = UPI_CODES["Z9"].text
        assert f"Z9 · {words}" in " ".join(widget_text(app, "#reason").split())
        assert "DECLINED" in flat(app)
        await press(pilot, "a")  # back to the sale, the amount kept: card or UPI again
        await on_screen(pilot, "SaleScreen")
        assert app.flow.draft.amount_text == "99"


async def test_a_slow_bank_leaves_it_pending_until_the_switch_completes_it(
    app, clock: FixedClock
) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await show_qr(pilot, "180")
        await burst(pilot, "p", *["down"] * SLOW, "enter", *TEST_PIN, "enter")
        await wait_for(pilot, lambda: "Phone: Pending" in flat(app))
        assert not app.screen.query_one(PhonePanel).display  # put away: the status shows
        assert app.screen.payment.status == "pending" and "Waiting" in flat(app)
        clock.advance(seconds=31)  # the switch completes it 30 s later
        await on_screen(pilot, "ResultScreen", timeout=15)
        payment = app.gateway.get(app.flow.last_payment_id)
        assert payment.status == "succeeded" and payment.upi.payer_vpa == "slow@payer"


async def test_the_pin_is_masked_and_never_kept(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await show_qr(pilot, "120")
        await press(pilot, "p", "enter")
        await typ(pilot, "9876")
        pin = app.screen.query_one("#phone-pin", Field)
        assert pin.password and "9876" not in flat(app)
        await press(pilot, "escape")  # closes the phone; the PIN stays unsent
        assert not app.screen.query_one(PhonePanel).display
        assert app.screen.payment.status == "pending"
        assert "9876" not in repr(PhonePanel.Pay("success@payer", "9876"))


async def test_esc_cancels_and_the_switch_is_told(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await show_qr(pilot, "310")
        payment_id = app.screen.payment.id
        await press(pilot, "escape")
        await on_screen(pilot, "ResultScreen")
        assert app.gateway.get(payment_id).status == "canceled"
        assert "CANCELED" in flat(app)


async def test_a_qr_nobody_pays_expires(app, clock: FixedClock, settings: Settings) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await show_qr(pilot, "75")
        screen = app.screen
        payment = screen.payment
        assert "expires in 5:00" in flat(app)
        clock.advance(seconds=settings.upi.link_expiry_s - 20)
        await wait_for(pilot, lambda: "expires in 0:20" in flat(app))
        clock.advance(seconds=21)
        await on_screen(pilot, "ResultScreen", timeout=15)
        assert app.gateway.get(payment.id).status == "expired"
        assert "EXPIRED" in flat(app)


async def test_the_qr_carries_the_payment_and_the_phone_its_payers(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await show_qr(pilot, "250")
        payment = app.screen.payment
        qr = app.screen.query_one(QrCode)
        assert decode(raster(qr)) == [payment.upi.link]  # as drawn, by a real decoder
        link = parse_link(qr.link)
        assert (link.amount, link.reference) == (25000, payment.id)
        assert link.payee_name == app.settings.merchant_name
        await press(pilot, "p")
        phone = app.screen.query_one(PhonePanel)
        await wait_for(pilot, lambda: phone.payers)  # loaded by a worker
        assert [p.vpa for p in phone.payers[:2]] == list(PAYERS)
        await wait_for(pilot, lambda: "Pay Paygate Demo Store ₹250.00" in flat(app))


async def test_no_phone_outside_the_demo(settings: Settings, clock: FixedClock, tmp_path) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        await show_qr(pilot, "40")
        assert not app.screen.query(PhonePanel)
        await press(pilot, "p")
        assert "customer's phone" not in flat(app)


async def test_a_pre_authorization_is_not_taken_by_upi(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await typ(pilot, "500")
        await press(pilot, "a", "u")
        assert type(app.screen).__name__ == "SaleScreen"
        assert "UPI has no pre-authorization" in widget_text(app, "#amount-note")


async def test_a_pending_payment_opened_from_today_shows_its_qr_again(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await show_qr(pilot, "60")
        qr_screen, payment = app.screen, app.screen.payment
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        assert "pending" in flat(app) and "UPI" in flat(app)
        await press(pilot, "enter")  # back to the QR still up underneath, not a second one
        await wait_for(pilot, lambda: app.screen is qr_screen)
        assert app.screen.query_one(QrCode).link == payment.upi.link
        await press(pilot, "escape")
        await on_screen(pilot, "ResultScreen")
        assert app.gateway.get(payment.id).status == "canceled"


async def test_a_pending_payment_of_an_earlier_run_opens_on_its_qr(app) -> None:
    async with drive(app) as pilot:
        request = ChargeRequest(
            amount=8800, currency="INR", method="upi", terminal_id=app.settings.terminal_id
        )
        payment = await app.gateway.charge(request)
        await login(pilot)
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        await press(pilot, "enter")
        await on_screen(pilot, "UpiScreen")
        assert app.screen.query_one(QrCode).link == payment.upi.link
        assert "Waiting for the payer" in flat(app)
