"""Shared set-up for the merchant console's tests (test_merchant_*.py): a small day of
payments taken through the real gateway, a large one written straight into the store,
and pilot steps that open the console and its tabs."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta

from app_support import login, on_screen, press, typ, wait_for, widget_text
from rich.console import Console
from support import MANAGER, charge, latest_otp, load_snapshot, save_snapshot
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TabbedContent

from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.payments import Payment
from gateway_core.settings import Settings
from pos_app.app import PaygateApp

VISA = card_for("4242 4242 4242 4242")
MASTERCARD = card_for("5555 5555 5555 4444")
DECLINE_51 = card_for("4000 0000 0000 9995")
OTP_CARD = card_for("4000 0000 0000 3220")


async def small_day(app: PaygateApp, clock: FixedClock) -> dict[str, Payment]:
    """A morning of the shop, by name: a sale, a pre-authorization, a refunded sale,
    a voided authorization, a decline and an OTP sale (ids count up from 1)."""
    gw = app.rt.gateway
    done: dict[str, Payment] = {}

    async def take(name: str, card, amount: int, **kw) -> Payment:
        clock.advance(minutes=17)
        done[name] = await gw.charge(
            charge(card, amount, terminal_id="TERM0001", operator="asha", **kw)
        )
        return done[name]

    await take("sale", VISA, 1_250_00, tip=125_00)
    await take("preauth", MASTERCARD, 2_400_00, capture="manual")
    refunded = await take("refunded", MASTERCARD, 800_00)
    await take("voided", VISA, 300_00, capture="manual")
    await take("declined", DECLINE_51, 420_00)
    otp = await take("otp", OTP_CARD, 6_000_00)
    clock.advance(minutes=2)
    done["otp"] = await gw.confirm_otp(otp.id, await latest_otp(gw), operator="asha")
    clock.advance(minutes=5)
    await gw.refund(refunded.id, 300_00, operator="asha", approval=MANAGER)
    await gw.void(done["voided"].id, operator="asha", approval=MANAGER)
    clock.advance(minutes=5)
    return done


def large_day(settings: Settings, template: Payment, count: int) -> None:
    """`count` payments of the template's day written straight into the day's snapshot
    (the data dir closed; no bank, no audit): copies of `template` with their own ids,
    times, amounts, last-4 and statuses. Seconds, where authorizing them would be hours."""
    day = template.created_at.astimezone(settings.tz).date()
    path = settings.data_dir / "db" / "days" / f"{day.isoformat()}.snapshot.json"
    snap = load_snapshot(path)
    payments = snap["tables"]["payments"]
    record = template.model_dump(  # the fields a stored payment cannot do without
        mode="json",
        include={"currency", "card", "merchant_id", "terminal_id", "operator", "funding"},
    )
    start = template.created_at - timedelta(hours=1)
    statuses = itertools.cycle(["succeeded"] * 8 + ["declined", "canceled"])
    first = max(int(k) for k in payments) + 1
    for n in range(count):
        status = next(statuses)
        amount = 100_00 + (n * 37) % 9_000_00
        at = (start + timedelta(seconds=n % 36_000 // 10)).isoformat()
        payments[str(first + n)] = {
            **record,
            "id": f"pay_{day:%Y%m%d}_{n + 1_000_000:010d}",
            "status": status,
            "amount": amount,
            "amount_captured": amount if status == "succeeded" else 0,
            "response_code": "51" if status == "declined" else "00",
            "voided_by": "asha" if status == "canceled" else None,
            "card": {**record["card"], "last4": f"{n % 10_000:04d}"},
            "created_at": at,
            "updated_at": at,
        }
    save_snapshot(path, snap)


async def open_console(pilot: Pilot, user: str = "meera", pin: str = "4321") -> None:
    """From the sale screen: F4, the manager's ID and PIN, and the console."""
    await press(pilot, "f4")
    await on_screen(pilot, "ConsoleApproval")
    await typ(pilot, user)
    await press(pilot, "enter")
    await typ(pilot, pin)
    await press(pilot, "enter")


async def console(pilot: Pilot) -> None:
    """Sign in as a cashier and open the console as the demo manager; wait for the day."""
    await login(pilot)
    await open_console(pilot)
    await on_screen(pilot, "MerchantScreen")
    await wait_for(pilot, lambda: pilot.app.screen.data is not None)


async def tab(pilot: Pilot, name: str) -> None:
    """Switch the console to a tab by its number key; let it be laid out and fill."""
    number = ["dashboard", "transactions", "settlement", "audit", "risk"].index(name) + 1
    await press(pilot, str(number))
    tabs = pilot.app.screen.query_one(TabbedContent)
    await wait_for(pilot, lambda: tabs.active == name)
    pane = tabs.get_pane(name)
    await wait_for(pilot, lambda: pane.size.width > 0)  # laid out, not only switched to
    if name == "transactions":
        table = pilot.app.screen.query_one("#txn-table", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
    if name == "audit":
        table = pilot.app.screen.query_one("#audit-table", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)


async def open_payment(pilot: Pilot, payment: Payment) -> None:
    """Find a payment on the Transactions tab and open its detail."""
    await search(pilot, payment.id, 1)
    await press(pilot, "enter")
    await on_screen(pilot, "PaymentScreen")
    await wait_for(pilot, lambda: pilot.app.screen.payment is not None)


def rendered(widget) -> str:
    """Everything a Static holds, scrolled into view or not, as plain text."""
    console = Console(width=150, file=io.StringIO(), record=True)
    console.print(widget.content)
    return " ".join(console.export_text().split())


async def approve(pilot: Pilot, user: str = "meera", pin: str = "4321") -> None:
    await on_screen(pilot, "ActionApproval")
    await typ(pilot, user)
    await press(pilot, "enter")
    await typ(pilot, pin)
    await press(pilot, "enter")


async def act(pilot: Pilot, key: str, amount: str | None = None) -> str:
    """On a payment's detail: the action's key, an amount (typed over the whole one),
    the manager's approval; returns the line under the payment once it is there."""
    screen = pilot.app.screen
    await press(pilot, key)
    if amount is not None:
        await on_screen(pilot, "AmountScreen")
        pilot.app.screen.query_one("#amount-field", Input).value = ""
        await typ(pilot, amount)
        await press(pilot, "enter")
    await approve(pilot)
    await wait_for(
        pilot, lambda: pilot.app.screen is screen and widget_text(pilot.app, "#pay-note")
    )
    return widget_text(pilot.app, "#pay-note")


def stored(app: PaygateApp, payment: Payment) -> Payment:
    return app.rt.gateway.get(payment.id)


async def search(pilot: Pilot, text: str, rows: int) -> DataTable:
    """Type a search on the Transactions tab; wait for `rows` rows."""
    await tab(pilot, "transactions")
    await press(pilot, "slash")
    pilot.app.screen.query_one("#txn-search", Input).value = ""
    await typ(pilot, text)
    await press(pilot, "enter")
    table = pilot.app.screen.query_one("#txn-table", DataTable)
    pane = pilot.app.screen.query_one("#txns")
    await wait_for(pilot, lambda: pane.searched == text and table.row_count == rows)
    return table
