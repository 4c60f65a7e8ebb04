"""One word for each payment state on every surface: the CLI, the terminal's result,
receipt and Today list, the merchant console's table and detail, and the gateway's
refusals (API messages). A partial refund is "partly refunded" and a waiting OTP "OTP
pending" wherever it is shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import build_app, drive, login, on_screen, press, wait_for
from console_support import OTP_CARD, VISA, small_day
from support import MANAGER, charge
from textual.widgets import DataTable

from gateway_core.clock import FixedClock
from gateway_core.dashboard import ledger_of, read_day
from gateway_core.errors import PaygateError
from gateway_core.presentation import status_word
from gateway_core.settings import Settings
from paygate_cli.payments import describe
from pos_app.screens.receipt import headline, receipt_text

WORDS = {  # the payments of the day, by name, and the one word each must show
    "sale": "approved",
    "preauth": "authorized",
    "refunded": "partly refunded",
    "full": "refunded",
    "voided": "voided",
    "declined": "declined",
    "otp": "approved",
    "waiting": "OTP pending",
}


@pytest.mark.parametrize(
    ("status", "facts", "word"),
    [
        ("succeeded", {"captured": 100}, "approved"),
        ("succeeded", {"captured": 100, "refunded": 40}, "partly refunded"),
        ("succeeded", {"captured": 100, "refunded": 100}, "refunded"),
        ("requires_capture", {}, "authorized"),
        ("requires_action", {}, "OTP pending"),
        ("declined", {}, "declined"),
        ("canceled", {"voided": True}, "voided"),
        ("canceled", {}, "canceled"),
        ("unknown", {}, "unknown"),
        ("anything else", {}, "unknown"),
    ],
)
def test_status_word_of_each_state(status: str, facts: dict, word: str) -> None:
    assert status_word(status, **facts) == word


async def test_every_surface_shows_the_same_word_for_each_state(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    payments = await small_day(app, clock)
    gw = app.rt.gateway
    clock.advance(minutes=1)
    full = await gw.charge(charge(VISA, 90_00, terminal_id="TERM0001", operator="asha"))
    await gw.refund(full.id, operator="asha", approval=MANAGER)
    clock.advance(minutes=1)
    payments["waiting"] = await gw.charge(
        charge(OTP_CARD, 6_100_00, terminal_id="TERM0001", operator="asha")
    )
    payments = {name: gw.get(p.id) for name, p in payments.items()} | {"full": gw.get(full.id)}
    by_id = {p.id: name for name, p in payments.items()}

    def check(surface: str, shown: dict[str, str]) -> None:
        expected = {name: WORDS[name].upper() for name in shown}
        assert {name: word.upper() for name, word in shown.items()} == expected, surface

    check("payment", {name: p.status_word for name, p in payments.items()})
    check("result and console detail", {name: headline(p) for name, p in payments.items()})
    cli = {name: describe(p, settings)[0] for name, p in payments.items()}
    for name, line in cli.items():
        assert line.startswith(WORDS[name].upper() + " "), (name, line)
    for name, p in payments.items():
        receipt = receipt_text(p, settings, None, copy="CUSTOMER COPY")
        sale_row = next(ln for ln in receipt.splitlines() if ln.startswith(("SALE", "PRE-AUTH")))
        assert sale_row.split(maxsplit=1)[1].strip() == WORDS[name].upper(), name
    records, refunds = read_day(app.rt.records, app.office.settlement(), clock.now().date())
    ledger = ledger_of(clock.now().date(), records, refunds, settings.currency)
    check("console table", {by_id[r["id"]]: ledger.word(r) for r in ledger.records})
    refusals = {}
    for name, p in payments.items():
        if p.status != "requires_capture":
            with pytest.raises(PaygateError) as refused:
                await gw.capture(p.id, operator="asha")
            refusals[name] = str(refused.value).rsplit("(it is ", 1)[1].rstrip(")")
    check("gateway refusals", refusals)
    async with drive(app) as pilot:
        await login(pilot)
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == len(payments))
        rows = [table.get_row_at(n) for n in range(table.row_count)]
        ids = {p.id: name for name, p in payments.items()}
        words = {ids[str(row[4])]: str(row[1]) for row in rows}  # a decline adds its code
        code = {name: f" {p.response_code}" for name, p in payments.items()}
        check("today", {name: word.removesuffix(code[name]) for name, word in words.items()})
