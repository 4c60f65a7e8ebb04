"""The terminal, driven like a cashier would drive it (Textual Pilot, 80×24).

Each flow of issue 5: approval, a decline of each class, OTP success, OTP wrong three
times, resend, bank timeout, void with a manager PIN, wrong manager PIN, login lockout,
and the bad input a cashier will type. Card numbers never show in full.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from app_support import (
    OTP_CODE,
    OTP_CODES,
    PANS,
    assert_no_pan,
    build_app,
    drive,
    key_card,
    login,
    on_screen,
    press,
    sale,
    screen_text,
    seeded_runtime,
    typ,
    wait_for,
    widget_text,
)
from support import VISA, charge
from textual import events

import bank_sim.acquirer
from gateway_core.bank_client import BankUnavailable
from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from pos_app.screens.otp import OtpScreen
from pos_app.screens.result import ResultScreen
from pos_app.widgets.card_number import CardNumberField


@pytest.fixture
def make_app(settings: Settings, clock: FixedClock, tmp_path: Path):
    """`make_app(demo=True, settings_=...)`: the app on a seeded runtime."""

    def build(*, settings_: Settings | None = None, **options):
        return build_app(settings_ or settings, clock, tmp_path / "config", **options)

    return build


async def ledger_ok(app) -> bool:
    return (await app.gateway.bank.ledger_check()).ok


# ---------------------------------------------------------------------------- approval
async def test_approval_with_tip_and_reference_prints_the_receipt(make_app) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        await typ(pilot, "1250")  # 10 % tip
        await press(pilot, "t")
        await press(pilot, "r")
        await typ(pilot, "table 7")
        await press(pilot, "enter")
        assert "Total  ₹1,375.00" in screen_text(app)
        await press(pilot, "enter")
        await key_card(pilot, PANS["approve"])
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        payment = app.screen.payment
        assert payment.status == "succeeded"
        assert payment.amount == 1_375_00  # amount + tip, in paise
        receipt = app.screen.receipt
        for line in ("Amount", "₹1,250.00", "Tip 10%", "₹125.00", "TOTAL", "₹1,375.00"):
            assert line in receipt
        for field in ("Paygate Demo Store", "TID TERM0001", "28 Nov 2026", "10:00:00"):
            assert field in receipt
        assert f"Payment    {payment.id}" in receipt
        assert "Auth code" in receipt and payment.auth_code in receipt
        assert payment.rrn in receipt and payment.stan in receipt
        assert "Reference" in receipt and "table 7" in receipt
        assert "Visa credit" in receipt and "4242 42•• •••• 4242" in receipt
        assert "Response 00 Approved" in receipt
        text = screen_text(app)
        assert "APPROVED" in receipt and "╭─╮ ┌─╮ ┌─╮" in text  # large type
        assert_no_pan(text + receipt, PANS["approve"])
        # the card is gone from the terminal once the authorization returned
        assert app.flow.draft.pan is None and app.flow.draft.cvv is None
        assert not app.query(CardNumberField)
        assert await ledger_ok(app)


DECLINES = [
    ("4000 0000 0000 9995", "51", "Insufficient funds"),
    ("4000 0000 0000 0002", "05", "Declined by the bank (do not honor)"),
    ("4000 0000 0000 0127", "N7", "Security code (CVV) does not match"),
    ("4000 0000 0000 0069", "54", "Expiry date does not match the card"),
    ("4000 0000 0000 9979", "43", "Stolen card: keep the card, call the bank"),
]


async def test_a_decline_of_each_class_shows_the_cashier_reason(
    make_app, clock: FixedClock
) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        for pan, code, reason in DECLINES:
            clock.advance(minutes=3)  # 5 declines in 10 minutes pause a terminal (risk)
            await sale(pilot, "200", pan)
            payment = app.screen.payment
            assert (payment.status, payment.response_code) == ("declined", code)
            assert widget_text(app, "#reason") == f"{code} · {reason}"
            assert "DECLINED" in app.screen.receipt
            assert f"Response {code} {reason}" in " ".join(app.screen.receipt.split())
            assert_no_pan(screen_text(app) + app.screen.receipt, pan)
            await press(pilot, "enter")  # a new sale
            await on_screen(pilot, "SaleScreen")
        clock.advance(minutes=3)
        await sale(pilot, "75", DECLINES[0][0])
        await wait_for(pilot, lambda: "a Try again" in screen_text(app))  # footer
        # the same sale again is a new payment: a final answer rotates the key
        key = app.flow.draft.idempotency_key
        await press(pilot, "a")
        await key_card(pilot, PANS["approve"])
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        assert app.screen.payment.status == "succeeded"
        assert app.screen.payment.amount == 75_00
        assert app.flow.draft.idempotency_key != key
        assert len(app.gateway.list_day()) == len(DECLINES) + 2
        assert await ledger_ok(app)


# ---------------------------------------------------------------------------- OTP
async def otp_sale(pilot, amount: str = "15000") -> None:
    await sale(pilot, amount, PANS["otp"], until="OtpScreen")


async def test_otp_success_with_the_code_from_the_phone(make_app) -> None:
    app = make_app(demo=True)
    async with drive(app) as pilot:
        await login(pilot)
        await otp_sale(pilot)
        screen = app.screen
        assert isinstance(screen, OtpScreen)
        sms = (await app.gateway.bank.outbox())[0].text
        code = re.search(r"\b(\d{6})\b", sms)[1]
        await wait_for(pilot, lambda: code in screen_text(app))  # the demo phone shows it
        text = screen_text(app)
        assert "+91 98•• ••00 01" in text  # masked phone
        assert "Expires in 5:00 · 3 tries left" in text
        assert "New code possible in 0:30 (3 left)" in text
        await typ(pilot, code)
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        assert app.screen.payment.status == "succeeded"
        assert "APPROVED" in app.screen.receipt
        assert await ledger_ok(app)


async def test_otp_wrong_three_times_cancels_the_payment(make_app) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        await otp_sale(pilot)
        await typ(pilot, "12a")  # letters are refused, with a note
        assert "The code is 6 digits (0-9)" in screen_text(app)
        await press(pilot, "enter")
        assert "Enter the 6-digit code" in screen_text(app)
        await press(pilot, "backspace", "backspace")
        for left in ("2 tries left", "1 try left"):
            before = app.screen
            await typ(pilot, "000000")
            await press(pilot, "enter")
            await wait_for(
                pilot, lambda b=before: isinstance(app.screen, OtpScreen) and app.screen is not b
            )
            await pilot.pause()
            assert widget_text(app, "#otp-note") == f"Wrong code: {left}"
            assert left in widget_text(app, "#otp-expiry")
        await typ(pilot, "000000")
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        payment = app.screen.payment
        assert payment.status == "canceled"
        assert widget_text(app, "#reason") == "OTP failed: too many wrong codes"
        assert "CANCELED" in app.screen.receipt
        assert await ledger_ok(app)


async def test_resend_waits_for_the_cooldown_then_texts_a_new_code(
    make_app, clock: FixedClock
) -> None:
    app = make_app(demo=True)
    async with drive(app) as pilot:
        await login(pilot)
        await otp_sale(pilot)
        await press(pilot, "ctrl+r")
        await wait_for(pilot, lambda: "Wait 30 s before" in widget_text(app, "#otp-note"))
        clock.advance(seconds=31)
        await pilot.pause(1.1)  # the countdown ticks
        assert widget_text(app, "#otp-resend") == "New code: ^r (3 left)"
        await press(pilot, "ctrl+r")
        await wait_for(pilot, lambda: widget_text(app, "#otp-note") == "A new code was sent")
        await wait_for(pilot, lambda: OTP_CODES[1] in screen_text(app))
        assert "(2 left)" in widget_text(app, "#otp-resend")
        await typ(pilot, OTP_CODES[0])  # the old code stopped working
        await press(pilot, "enter")
        await wait_for(pilot, lambda: "Wrong code: 2 tries left" in screen_text(app))
        await typ(pilot, OTP_CODES[1])
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        assert app.screen.payment.status == "succeeded"


async def test_escape_on_otp_leaves_the_payment_waiting(make_app) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        await otp_sale(pilot)
        payment_id = app.screen.payment.id
        await press(pilot, "escape")
        await on_screen(pilot, "ConfirmScreen")
        await press(pilot, "escape")  # keep waiting
        await on_screen(pilot, "OtpScreen")
        await press(pilot, "escape")
        await on_screen(pilot, "ConfirmScreen")
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")
        assert app.gateway.get(payment_id).status == "requires_action"
        # Today opens it again, where the code can still be entered
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        await wait_for(pilot, lambda: app.screen.payments)
        await press(pilot, "enter")
        await on_screen(pilot, "OtpScreen")
        await typ(pilot, OTP_CODE)
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        assert app.screen.payment.status == "succeeded"


# ---------------------------------------------------------------------------- bank faults
async def test_bank_timeout_shows_progress_then_the_reversal(make_app, settings: Settings) -> None:
    app = make_app(settings_=settings.model_copy(update={"bank_timeout_s": 0.4}))
    app.rt.banks.config.timeout_fault_s = 1.0
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "200", PANS["timeout"])
        payment = app.screen.payment
        assert (payment.status, payment.response_code) == ("declined", "91")
        kinds = [event.kind for event in app.flow.route_log]
        assert kinds[:4] == ["sent", "no_answer", "reversal_sent", "reversed"]
        assert widget_text(app, "#reason") == "91 · Bank unavailable: try again"
        receipt = " ".join(app.screen.receipt.split())
        assert "Reversal: reversed after: the bank did not answer in time" in receipt
        assert "(₹200.00 released)" in receipt
        await pilot.pause(0.8)  # the late answer arrives after its reversal
        assert await ledger_ok(app)


class _HeldIssuer:
    """`asyncio` as the acquirer sees it, whose slow issuer answers only when the test
    says so (`answer`): the screen is looked at while the bank is out, however slowly
    the machine runs."""

    SLOW_S = 123.0  # the slow issuer's delay, told apart from the acquirer's other sleeps

    def __init__(self) -> None:
        self.answer = asyncio.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        if seconds == self.SLOW_S:
            await self.answer.wait()
        else:
            await asyncio.sleep(seconds)


async def test_a_slow_bank_keeps_the_screen_alive_and_escape_cannot_lose_it(
    make_app, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    held = _HeldIssuer()
    monkeypatch.setattr(bank_sim.acquirer, "asyncio", held)
    app.rt.banks.config.slow_fault_s = held.SLOW_S
    async with drive(app) as pilot:
        await login(pilot)
        await typ(pilot, "300")
        await press(pilot, "enter")
        await key_card(pilot, PANS["slow"])
        await press(pilot, "enter")
        await on_screen(pilot, "ProcessingScreen")
        text = screen_text(app)
        assert "Terminal" in text and "Card network" in text and "Issuer" in text
        assert "Waiting for the bank · 0.0 s" in text  # the frozen clock
        await press(pilot, "escape", "ctrl+c", "escape")  # nothing can call it back
        await press(pilot, "ctrl+q")  # asks first, while a payment is out
        assert app.is_running
        assert screen_name_is(app, "ProcessingScreen")
        held.answer.set()
        await on_screen(pilot, "ResultScreen")
        assert app.screen.payment.status == "succeeded"
        assert len(app.gateway.list_day()) == 1
        route = [e.kind for e in app.flow.route_log]
        assert route == ["sent", "answered"]  # a sale is one 0200: authorized and captured


def screen_name_is(app, name: str) -> bool:
    return type(app.screen).__name__ == name


async def test_unknown_outcome_is_never_charged_twice(make_app, settings, monkeypatch) -> None:
    app = make_app(settings_=settings.model_copy(update={"bank_timeout_s": 0.3}))
    app.rt.banks.config.timeout_fault_s = 0.6
    bank = app.gateway.bank._inner

    async def no_reversal(payment_id: str, reason: str):
        raise BankUnavailable("the bank cannot be reached (ConnectError)")

    async with drive(app) as pilot:
        monkeypatch.setattr(bank, "reverse", no_reversal)
        await login(pilot)
        await sale(pilot, "250", PANS["timeout"])
        first = app.screen.payment
        assert first.status == "unknown"
        assert "UNKNOWN" in app.screen.receipt
        key = app.flow.draft.idempotency_key
        await press(pilot, "a")  # the cashier tries the same sale again
        await key_card(pilot, PANS["timeout"])
        await press(pilot, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResultScreen))
        assert app.screen.payment.id == first.id  # the same payment, not a second one
        assert app.flow.draft.idempotency_key == key
        assert len(app.gateway.list_day()) == 1
        monkeypatch.undo()
        await pilot.pause(0.7)
        await press(pilot, "c")  # check again: repair reverses it
        await wait_for(pilot, lambda: app.screen.payment.status == "declined")
        assert app.screen.payment.response_code == "91"
        assert app.flow.draft.idempotency_key != key
        assert await ledger_ok(app)


# ---------------------------------------------------------------------------- void
async def approve_void(pilot, manager: str, pin: str) -> None:
    await press(pilot, "v")
    await on_screen(pilot, "ManagerApprovalScreen")
    await typ(pilot, manager)
    await press(pilot, "enter")
    await typ(pilot, pin)
    await press(pilot, "enter")


async def test_void_a_pre_authorization_with_the_manager_pin(make_app) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        await press(pilot, "a")  # pre-authorization
        assert "Pre-auth, captured later" in screen_text(app)
        await sale(pilot, "999", PANS["approve"])
        assert app.screen.payment.status == "requires_capture"
        assert "AUTHORIZED" in screen_text(app) or "AUTHORIZED" in app.screen.receipt
        await approve_void(pilot, "meera", "4321")
        await on_screen(pilot, "ResultScreen")
        await wait_for(pilot, lambda: app.screen.payment.status == "canceled")
        payment = app.screen.payment
        assert (payment.voided_by, payment.approved_by) == ("asha", "meera")
        assert "VOIDED" in app.screen.receipt
        assert "Voided by asha, approved by meera" in app.screen.receipt
        assert await ledger_ok(app)


async def test_void_of_a_captured_sale_refunds_it_with_the_manager_pin(make_app) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "480", PANS["approve"])
        await approve_void(pilot, "meera", "4321")
        await on_screen(pilot, "ResultScreen")
        await wait_for(pilot, lambda: app.screen.payment.amount_refunded == 480_00)
        assert "REFUNDED" in app.screen.receipt
        assert widget_text(app, "#reason") == "00 · Refunded ₹480.00 (approved by meera)"
        assert " Void " not in screen_text(app).splitlines()[-1]  # nothing left to void
        assert await ledger_ok(app)


async def test_wrong_manager_pin_or_a_cashier_cannot_void(make_app) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "480", PANS["approve"])
        await approve_void(pilot, "meera", "0000")
        await wait_for(
            pilot, lambda: widget_text(app, "#manager-error") == "Wrong PIN: 4 tries left"
        )
        assert type(app.screen).__name__ == "ManagerApprovalScreen"
        await press(pilot, "ctrl+a", "backspace")  # the ID field: clear it
        await press(pilot, "shift+tab")
        modal = app.screen
        modal.query_one("#manager-id").value = ""
        modal.set_focus(modal.query_one("#manager-id"))
        await typ(pilot, "ravi")
        await press(pilot, "enter")
        await typ(pilot, "2222")
        await press(pilot, "enter")
        await wait_for(
            pilot, lambda: "a manager must approve" in widget_text(app, "#manager-error")
        )
        await press(pilot, "escape")
        await on_screen(pilot, "ResultScreen")
        payment = app.gateway.get(app.screen.payment.id)
        assert payment.status == "succeeded" and payment.amount_refunded == 0


# ---------------------------------------------------------------------------- login
async def test_five_wrong_pins_lock_the_cashier_until_a_time(make_app, clock: FixedClock) -> None:
    app = make_app()

    def error() -> str:
        return widget_text(app, "#login-error")

    async with drive(app) as pilot:
        await on_screen(pilot, "LoginScreen")
        await typ(pilot, "asha")
        await press(pilot, "enter")
        for left in (4, 3, 2, 1):
            await typ(pilot, "9999")
            await press(pilot, "enter")
            tries = "1 try" if left == 1 else f"{left} tries"
            await wait_for(pilot, lambda t=tries: error() == f"Wrong PIN: {t} left")
        await typ(pilot, "9999")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: "locked until 10:15" in error())
        unlock = "An admin can unlock now: paygate users unlock asha"
        assert error() == f"Locked: wrong PIN: Asha (cashier) is locked until 10:15.\n{unlock}"
        await typ(pilot, "1111")  # the right PIN does not open a lock
        await press(pilot, "enter")
        await wait_for(
            pilot, lambda: error() == f"Locked: Asha (cashier) is locked until 10:15.\n{unlock}"
        )
        assert screen_name_is(app, "LoginScreen")
        clock.advance(minutes=15)
        await typ(pilot, "1111")
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")
        assert app.user.id == "asha"


async def test_unknown_user_and_log_out(make_app) -> None:
    app = make_app(demo=True)
    async with drive(app) as pilot:
        await on_screen(pilot, "LoginScreen")
        assert "asha 1111" in screen_text(app)  # the demo hint
        await typ(pilot, "nobody")
        await press(pilot, "enter")
        await typ(pilot, "1234")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: widget_text(app, "#login-error") == "No user 'nobody'")
        await press(pilot, "escape")
        await login(pilot, "ravi", "2222")
        assert "ravi (cashier)" in screen_text(app)
        await press(pilot, "ctrl+l")
        await on_screen(pilot, "LoginScreen")
        assert app.user is None


# ---------------------------------------------------------------------------- bad input
async def test_amount_keys_refuse_what_is_not_an_amount(make_app, settings: Settings) -> None:
    app = make_app()

    def note() -> str:
        return widget_text(app, "#amount-note")

    async with drive(app) as pilot:
        await login(pilot)
        await press(pilot, "enter")
        assert note() == "Enter an amount"
        await press(pilot, "x")
        assert note() == 'Amounts take the digits 0-9 and "." (t: tip, r: reference)'
        await typ(pilot, "12.345")
        assert note() == "INR amounts have at most 2 decimals"
        assert app.flow.draft.amount_text == "12.34"
        await press(pilot, ".")
        assert note() == 'An amount has only one "."'
        await press(pilot, "delete")  # + is the 00 key
        await typ(pilot, "10000")
        await press(pilot, "plus")
        assert note() == "The amount cannot be more than ₹1,00,000.00"
        assert app.flow.draft.amount_text == "10000"
        await press(pilot, "0", "t", "t", "t")  # 20 % on ₹1,00,000.00
        assert app.flow.draft.tip == "20"
        assert "Total  ₹1,20,000.00" in screen_text(app)
        await press(pilot, "enter")  # over the maximum with the tip
        assert note() == "The total with the tip cannot be more than ₹1,00,000.00"
        assert screen_name_is(app, "SaleScreen")
        await press(pilot, "t")  # custom tip: typed into its own field
        assert app.flow.draft.tip == "custom" and app.focused.id == "custom-tip"
        await press(pilot, "delete")
        await typ(pilot, "1.5")
        assert app.flow.draft.tip_amount().minor == 150
        await press(pilot, "enter", "escape", "delete")  # back on the amount
        await typ(pilot, "800")
        assert "Amount ₹800.00 + tip ₹1.50" in screen_text(app)
        await press(pilot, "enter")
        await on_screen(pilot, "CardScreen")


async def test_card_entry_masks_groups_and_checks_without_nagging(make_app) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        await typ(pilot, "500")
        await press(pilot, "enter")
        await on_screen(pilot, "CardScreen")
        field = app.screen.query_one(CardNumberField)
        field.post_message(events.Paste("4111-1111-1111-1111"))
        await pilot.pause()
        text = screen_text(app)
        assert "4111 11•• •••• 1111" in text and "VISA" in text
        assert "✓ Visa, 16 digits" in text
        assert_no_pan(text, "4111 1111 1111 1111")
        await press(pilot, "ctrl+u")  # Amex, not finished: no error yet
        await typ(pilot, "37828224631")
        text = screen_text(app)
        assert "AMEX" in text and "Amex: 11 digits" in text
        assert "•••• •4631" in text or "3••• ••••" in text or "••" in text
        await typ(pilot, "0004")  # 15 digits, Luhn fails: now it says so
        assert widget_text(app, "#number-note") == "Card number is not valid - check the digits"
        await press(pilot, "backspace", "5")
        text = screen_text(app)
        assert "3782 82•••• •0005" in text and "✓ Amex, 15 digits" in text
        await press(pilot, "x")
        assert "A card number has only digits" in widget_text(app, "#number-note")
        await press(pilot, "enter")  # expired
        await typ(pilot, "0121")
        await press(pilot, "enter")
        assert widget_text(app, "#expiry-note") == "Card expired 01/21"
        await press(pilot, "end", *["backspace"] * 4)
        await typ(pilot, "1230")
        await press(pilot, "enter")
        await typ(pilot, "123")
        await press(pilot, "enter")
        assert widget_text(app, "#cvv-note") == "Amex cards have a 4-digit security code"
        assert screen_name_is(app, "CardScreen")
        # Escape goes back one step and keeps what was typed
        await press(pilot, "escape")
        await on_screen(pilot, "SaleScreen")
        assert app.flow.draft.amount_text == "500"
        await press(pilot, "enter")
        await on_screen(pilot, "CardScreen")
        assert "3782 82•••• •0005" in screen_text(app)
        assert app.screen.query_one("#card-expiry").value == "12/30"
        await press(pilot, "tab", "tab", "end", "4", "enter")  # a tab selects the field
        await on_screen(pilot, "ResultScreen")
        assert app.screen.payment.status == "succeeded"
        assert_no_pan(screen_text(app) + app.screen.receipt, "3782 822463 10005")


# ---------------------------------------------------------------------------- the rest
async def test_today_receipts_and_the_frame_inspector(make_app) -> None:
    app = make_app()
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "120", PANS["approve"])
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")
        await sale(pilot, "75", "4000 0000 0000 9995")
        await press(pilot, "f3")
        await on_screen(pilot, "InspectorScreen")
        await wait_for(pilot, lambda: "Primary account number" in screen_text(app))
        text = screen_text(app)
        assert "0200 financial request (sale or refund) · Acquirer → Card network" in text
        assert "400000******9995" in text
        assert "CVV=***" in text and "****" in text
        assert_no_pan(text, "4000 0000 0000 9995")
        await press(pilot, "escape", "f2")
        await on_screen(pilot, "TodayScreen")
        await wait_for(pilot, lambda: len(app.screen.payments) == 2)
        text = screen_text(app)
        assert "declined" in text and "approved" in text and "Visa ••4242" in text
        assert "2 payments · 1 approved, net ₹120.00 · 1 declined" in text
        await press(pilot, "down", "enter")  # the older one: the approval
        await on_screen(pilot, "ResultScreen")
        assert app.screen.payment.amount == 120_00 and app.screen.from_today
        await press(pilot, "s")
        path = app.settings.data_dir / "receipts" / f"{app.screen.payment.id}.txt"
        await wait_for(pilot, path.exists)
        saved = path.read_text(encoding="utf-8")
        assert "APPROVED" in saved and "4242 42•• •••• 4242" in saved
        assert_no_pan(saved, PANS["approve"])
        await press(pilot, "p")
        await on_screen(pilot, "ReceiptDialog")
        assert "** DUPLICATE **" in screen_text(app)
        await press(pilot, "escape")
        await on_screen(pilot, "ResultScreen")
        assert "DUPLICATE" in app.screen.receipt
        await press(pilot, "escape")
        await on_screen(pilot, "TodayScreen")
        await press(pilot, "escape")  # back one step: the decline's result
        await on_screen(pilot, "ResultScreen")
        assert app.screen.payment.status == "declined"
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")


async def test_no_screen_and_no_saved_receipt_shows_a_full_card_number(make_app) -> None:
    app = make_app(demo=True)
    pans = [PANS["approve"], PANS["otp"], "4000 0000 0000 9995", "3782 822463 10005"]
    seen: list[str] = []
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "100", pans[0])
        seen += [screen_text(app), app.screen.receipt]
        await press(pilot, "s", "enter")
        await otp_sale(pilot, "12000")
        seen.append(screen_text(app))
        await typ(pilot, OTP_CODE)
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        seen.append(screen_text(app))
        await press(pilot, "s", "enter")
        await sale(pilot, "60", pans[2])
        seen.append(screen_text(app))
        await press(pilot, "enter")
        await sale(pilot, "70", pans[3], cvv="1234")
        seen.append(screen_text(app))
        await press(pilot, "f3")
        await on_screen(pilot, "InspectorScreen")
        await wait_for(pilot, lambda: "Primary account number" in screen_text(app))
        seen.append(screen_text(app))
        await press(pilot, "escape", "f2")
        await on_screen(pilot, "TodayScreen")
        await wait_for(pilot, lambda: len(app.screen.payments) == 4)
        seen.append(screen_text(app))
    receipts = sorted((app.settings.data_dir / "receipts").glob("*.txt"))
    assert len(receipts) == 2
    seen += [p.read_text(encoding="utf-8") for p in receipts]
    everything = "\n".join(seen)
    assert_no_pan(everything, *pans)
    for path in app.settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for pan in pans:
                assert pan.replace(" ", "").encode() not in data, path


# ---------------------------------------------------------------------------- start
async def test_at_start_the_terminal_settles_what_an_earlier_run_left_open(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    """An earlier run left a pre-authorization open; a week later the terminal starts,
    draws its first screen, then voids it and tells the cashier in one note."""
    earlier = seeded_runtime(settings, clock)
    stale = await earlier.gateway.charge(charge(VISA, 50_00, capture="manual"))
    await earlier.aclose()
    clock.advance(days=8)
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await wait_for(pilot, lambda: app.gateway.get(stale.id).status == "canceled")
        notes = [f"{n.title}: {n.message}" for n in app._notifications]
        why = "pre-authorization older than 7 days, voided"
        assert notes == [f"Settled 1 payment(s) left open: {stale.id}: {why}"]
        assert type(app.screen).__name__ == "LoginScreen"
