"""UPI in the merchant console: the payments waiting for their payer listed with their
next status check, a UPI payment's timeline with its checks and callbacks, and UPI as
its own line of the day's figures."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive, press, wait_for
from console_support import console, open_payment, rendered, tab

from gateway_core.clock import FixedClock
from gateway_core.payments import ChargeRequest, Payment, UpiInput
from gateway_core.settings import Settings
from gateway_core.upi_api import TEST_PIN
from gateway_core.upi_link import mask_vpa
from pos_app.app import PaygateApp


async def upi_payment(app: PaygateApp, amount: int) -> Payment:
    request = ChargeRequest(
        amount=amount,
        currency="INR",
        method="upi",
        upi=UpiInput(flow="qr"),
        terminal_id="TERM0001",
        operator="asha",
    )
    return await app.rt.gateway.charge(request)


async def test_pending_payments_with_their_next_check_and_a_timeline(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        gateway = app.rt.gateway
        waiting = await upi_payment(app, 45000)
        paid = await upi_payment(app, 12000)
        await app.rt.payer.pay("success@payer", TEST_PIN, link=paid.upi.link)
        clock.advance(seconds=settings.upi.first_check_s + 1)
        waiting = await gateway.refresh(waiting.id)  # the first status check: still pending
        paid = await gateway.refresh(paid.id)  # its callback
        assert (waiting.status, waiting.upi.checks, paid.status) == ("pending", 1, "succeeded")

        await console(pilot)
        text = rendered(app.screen.query_one("#pending-upi"))
        assert "Waiting for the payer (1)" in text and waiting.id in text and paid.id not in text
        due = waiting.upi.next_check_at.astimezone(settings.tz).strftime("%H:%M:%S")
        assert due in text
        assert "UPI" in rendered(app.screen.query_one("#brand-split"))

        await open_payment(pilot, waiting)
        detail = rendered(app.screen.query_one("#pay-summary"))
        assert f"1 made · next {due}" in detail
        timeline = rendered(app.screen.query_one("#pay-timeline"))
        assert "upi.status_check" in timeline
        await press(pilot, "escape")

        await open_payment(pilot, paid)
        timeline = rendered(app.screen.query_one("#pay-timeline"))
        assert "upi.callback" in timeline
        assert mask_vpa("success@payer") in rendered(app.screen.query_one("#pay-summary"))
        assert "No ISO 8583 frames" in rendered(app.screen.query_one("#pay-frames"))
        await press(pilot, "escape")
        await tab(pilot, "settlement")
        await wait_for(pilot, lambda: "UPI" in rendered(app.screen.query_one("#report-text")))
