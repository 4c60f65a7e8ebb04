"""Type-ahead: keys sent in one burst (a scanner, a fast typist, `tmux send-keys` of a
whole string) each go to the field that has the focus once the keys before them have
done their work; none is lost, none lands in another field, a secret never shows.

Every burst here is sent at once, with no pause between keys, on every screen that
takes input: sign in, the sale's amount, tip and reference, the card (number, expiry,
CVV), the OTP, the manager's approval and the console's PIN dialog.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import (
    OTP_CODE,
    PANS,
    build_app,
    burst,
    drive,
    login,
    on_screen,
    wait_for,
    widget_text,
)

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from pos_app.screens.result import ResultScreen
from pos_app.widgets.fields import Field

CARD = PANS["approve"].replace(" ", "")


@pytest.fixture
def app(settings: Settings, clock: FixedClock, tmp_path: Path):
    return build_app(settings, clock, tmp_path / "config", demo=True)


def card_keys(pan: str = CARD) -> list[str]:
    """Card number, Enter, expiry, Enter, CVV, Enter: the card screen in one go."""
    return [*pan, "enter", *"1230", "enter", *"123", "enter"]


async def result(pilot) -> ResultScreen:
    await on_screen(pilot, "ResultScreen")
    screen = pilot.app.screen
    assert isinstance(screen, ResultScreen)
    return screen


async def test_sign_in_and_the_amount_in_one_burst_reach_their_fields(app) -> None:
    async with drive(app) as pilot:
        await on_screen(pilot, "LoginScreen")
        await burst(pilot, *"asha", "enter", *"1111", "enter", *"2500", "enter")
        await on_screen(pilot, "CardScreen")
        assert app.user is not None and app.user.id == "asha"
        assert app.flow.draft.amount_text == "2500"


async def test_a_pin_typed_ahead_never_lands_in_the_id_field(app) -> None:
    async with drive(app) as pilot:
        await on_screen(pilot, "LoginScreen")
        await burst(pilot, *"asha", "enter", *"9999", "enter")
        await wait_for(pilot, lambda: "wrong pin" in widget_text(app, "#login-error").lower())
        assert app.screen.query_one("#login-user", Field).value == "asha"
        assert app.screen.query_one("#login-pin", Field).value == ""
        assert app.user is None


async def test_pilot_press_of_whole_strings_signs_in(app) -> None:
    async with drive(app) as pilot:
        await on_screen(pilot, "LoginScreen")
        await pilot.press(*"asha", "enter", *"1111", "enter")
        await on_screen(pilot, "SaleScreen")
        assert app.user is not None and app.user.id == "asha"


async def test_a_whole_sale_in_one_burst_charges_the_card_as_typed(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, *"2500", "enter", *card_keys())
        screen = await result(pilot)
        payment = screen.payment
        assert payment.status == "succeeded"
        assert payment.amount == 2500_00
        assert payment.card.last4 == CARD[-4:] and payment.card.bin6 == CARD[:6]
        assert payment.card.expiry == "12/30"


async def test_tip_and_reference_typed_ahead_reach_their_fields(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        keys = [*"2500", "r", *"table 7", "enter", *"tttt", *"50", "enter", "enter"]
        await burst(pilot, *keys)
        await on_screen(pilot, "CardScreen")
        draft = app.flow.draft
        assert (draft.amount_text, draft.reference) == ("2500", "table 7")
        assert (draft.tip, draft.tip_text) == ("custom", "50")


async def test_the_otp_typed_in_one_burst_confirms_the_payment(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, *"900", "enter", *card_keys(PANS["otp"].replace(" ", "")))
        await on_screen(pilot, "OtpScreen")
        await burst(pilot, *OTP_CODE, "enter")
        screen = await result(pilot)
        assert screen.payment.status == "succeeded"


async def test_the_manager_approval_typed_ahead_voids_with_the_managers_pin(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, *"300", "enter", *card_keys())
        await result(pilot)
        await burst(pilot, "v", *"meera", "enter", *"4321", "enter")
        await wait_for(pilot, lambda: app.screen.payment.amount_refunded == 300_00)
        refund = app.screen.payment.refunds[0]
        assert refund.approver == "meera"


async def test_the_console_pin_typed_ahead_opens_the_console(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, "f4", *"meera", "enter", *"4321", "enter")
        await on_screen(pilot, "MerchantScreen")
