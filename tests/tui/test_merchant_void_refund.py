"""Voiding a captured sale from the console is the refund of what is left of it, as on
the terminal: the dialog says so before the PIN ("Void: full refund"), the refund is
made, and a sale with nothing left to refund is refused before any PIN."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive, on_screen, press, wait_for, widget_text
from console_support import approve, console, open_payment, small_day, stored

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings


async def test_void_of_a_captured_sale_offers_and_makes_its_refund(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    p = await small_day(app, clock)
    async with drive(app) as pilot:
        await pilot.resize_terminal(120, 40)
        await console(pilot)
        for name, left in (("sale", "₹1,250.00"), ("refunded", "₹500.00")):  # whole, partly
            await open_payment(pilot, p[name])
            detail = app.screen
            await press(pilot, "v")
            await on_screen(pilot, "ActionApproval")
            dialog = app.screen.query_one("#manager")
            assert dialog.border_title == "Void: full refund - manager approval"
            text = widget_text(app, ".dialog-text")
            assert f"is already captured: voiding it refunds {left} to the card" in text
            assert "hold goes back" not in text
            await approve(pilot)
            await wait_for(
                pilot, lambda detail=detail: app.screen is detail and widget_text(app, "#pay-note")
            )
            assert widget_text(app, "#pay-note") == f"Refunded {left} (approved by meera)"
            done = stored(app, p[name])
            assert (done.status, done.refundable) == ("succeeded", 0)
            assert done.status_word == "refunded"
            # Nothing is left: said at once, no PIN asked.
            await press(pilot, "v")
            await wait_for(pilot, lambda: "fully refunded" in widget_text(app, "#pay-note"))
            assert app.screen is detail
            assert widget_text(app, "#pay-note") == (
                f"Payment {p[name].id} is already fully refunded"
            )
            await press(pilot, "escape")
            await on_screen(pilot, "MerchantScreen")
