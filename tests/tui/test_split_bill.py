"""A split bill at the terminal: s on the Sale screen makes the total a bill; each
part is keyed (none: the whole balance) and paid by card, UPI or cash; a declined part
stays listed and another tender pays; the bill's receipt lists every tender; x cancels
it, a manager approving the refund of what was taken."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import (
    PANS,
    build_app,
    burst,
    drive,
    flat,
    login,
    on_screen,
    press,
    wait_for,
    widget_text,
)

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings

DECLINED = "4000000000000002"  # 05 do not honor


@pytest.fixture
def app(settings: Settings, clock: FixedClock, tmp_path: Path):
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    return app


def card_keys(pan: str) -> list[str]:
    return [*pan, "enter", *"1230", "enter", *"123", "enter"]


async def split(pilot, amount: str) -> None:
    await pilot.app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
    await burst(pilot, *amount, "s")
    await on_screen(pilot, "SplitScreen")


def bill(app):
    return app.gateway.bills.get_bill(app.screen.bill.id)


async def test_cash_then_a_declined_card_then_a_good_card_pay_the_bill(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await split(pilot, "1000")
        await burst(pilot, *"400", "c", *"500", "enter")  # ₹400 in cash, ₹100 change
        await on_screen(pilot, "ResultScreen")
        await press(pilot, "enter")
        await on_screen(pilot, "SplitScreen")
        assert "Total ₹1,000.00 · paid ₹400.00" in flat(app)
        assert app.screen.query_one("#split-balance").value == "₹600.00"
        await burst(pilot, "enter", *card_keys(DECLINED))
        await on_screen(pilot, "ResultScreen")
        assert "DECLINED" in widget_text(app, "#receipt")
        await press(pilot, "enter")  # back to the bill: the decline listed, ₹600 still due
        await on_screen(pilot, "SplitScreen")
        text = flat(app)
        assert "declined ₹600.00" in text and "choose another tender" in text
        assert bill(app).balance == 60000
        await burst(pilot, "enter", *card_keys(PANS["approve"].replace(" ", "")))
        await on_screen(pilot, "ResultScreen")
        await press(pilot, "enter")
        await on_screen(pilot, "SplitScreen")
        await wait_for(pilot, lambda: app.screen.bill.status == "paid")
        done = bill(app)
        assert done.status == "paid" and done.paid == 100000
        assert [(p.method, p.status) for p in done.parts] == [
            ("cash", "succeeded"),
            ("card", "declined"),
            ("card", "succeeded"),
        ]
        receipt = widget_text(app, "#split-receipt")
        assert max(len(line) for line in receipt.splitlines()) <= 34
        words = " ".join(receipt.split())
        for part in done.parts:
            assert part.payment_id in words
        assert "change ₹100.00" in words and "TOTAL ₹1,000.00" in words
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")
        assert app.flow.bill is None and app.flow.draft.amount_text == ""


async def test_a_part_more_than_the_balance_is_refused_on_the_screen(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await split(pilot, "100")
        await burst(pilot, *"150", "c")
        assert "₹150.00 is more than the ₹100.00 due" in flat(app)
        assert type(app.screen).__name__ == "SplitScreen"


async def test_cancel_a_bill_with_a_part_taken_needs_a_manager(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await split(pilot, "800")
        await burst(pilot, *"300", "enter", *card_keys(PANS["approve"].replace(" ", "")))
        await on_screen(pilot, "ResultScreen")
        await press(pilot, "enter")
        await on_screen(pilot, "SplitScreen")
        await press(pilot, "x")
        await on_screen(pilot, "ConfirmScreen")
        await press(pilot, "enter")
        await on_screen(pilot, "ApprovalDialog")
        assert "refunds the ₹300.00 taken" in app.screen.describe()[1]
        await burst(pilot, *"meera", "enter", *"4321", "enter")
        await on_screen(pilot, "SplitScreen")
        await wait_for(pilot, lambda: app.screen.bill.status == "canceled")
        done = bill(app)
        assert done.status == "canceled" and done.approved_by == "meera"
        assert app.gateway.get(done.parts[0].payment_id).amount_refunded == 30000
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")


async def test_esc_on_a_part_comes_back_to_the_bill(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await split(pilot, "500")
        await burst(pilot, *"200", "c", "escape")
        await on_screen(pilot, "SplitScreen")
        await burst(pilot, "enter", "escape")  # the card screen, then back
        await on_screen(pilot, "SplitScreen")
        assert bill(app).parts == []


async def test_cancel_a_bill_with_nothing_taken_needs_no_manager(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await split(pilot, "300")
        await burst(pilot, "enter", *card_keys(DECLINED))
        await on_screen(pilot, "ResultScreen")
        assert "Enter goes back to the bill" in " ".join(widget_text(app, "#result-next").split())
        await press(pilot, "enter")
        await on_screen(pilot, "SplitScreen")
        await press(pilot, "x")
        await on_screen(pilot, "ConfirmScreen")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.screen.bill.status == "canceled")
        assert type(app.screen).__name__ == "SplitScreen"
        assert bill(app).approved_by is None
        assert "Canceled: what was taken was given back" in flat(app)


async def test_a_cashier_signing_out_leaves_the_bill_behind(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await split(pilot, "300")
        bill_id = app.screen.bill.id
        await press(pilot, "ctrl+l")
        await login(pilot, "ravi", "2222")
        assert app.flow.bill is None
        await burst(pilot, *"50", "c", "e", "enter")
        await on_screen(pilot, "ResultScreen")
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")
        assert app.gateway.bills.get_bill(bill_id).status == "open"


async def test_a_whole_bill_in_one_burst(app) -> None:
    """A fast cashier (or `tmux send-keys`): every key lands on the screen it was meant
    for, the bill opening, the shift's float, each part and its result in between."""
    async with drive(app) as pilot:
        await login(pilot)
        keys = [*"1000", "s", *"400", "c", "4", "ctrl+s", *"500", "enter", "enter"]
        await burst(pilot, *keys, "u", "escape", "enter", "c", "e", "enter", "enter")
        await wait_for(pilot, lambda: getattr(app.screen, "bill", None) is not None)
        await wait_for(pilot, lambda: app.screen.bill.status == "paid")
        parts = [(p.method, p.amount, p.status) for p in app.screen.bill.parts]
        assert parts == [
            ("cash", 40000, "succeeded"),
            ("upi", 60000, "canceled"),
            ("cash", 60000, "succeeded"),
        ]
