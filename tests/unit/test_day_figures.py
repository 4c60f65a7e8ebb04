"""A day's figures have one definition (`settlement.day_figures`) and every view shows
the same ones: the dashboard, the X report (text and JSON), the console's Settlement tab
and `paygate report x`, on random days: voids, partial refunds, refunds of an earlier
sale, pre-authorizations not captured, OTPs pending or failed, declines."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from app_support import build_app, drive, wait_for, widget_text
from console_support import DECLINE_51, MASTERCARD, OTP_CARD, VISA, console, tab
from hypothesis import given, settings
from hypothesis import strategies as st
from support import MANAGER, charge, latest_otp, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.dashboard import day_stats
from gateway_core.errors import PaygateError
from gateway_core.money import Money
from gateway_core.presentation import format_money
from gateway_core.settings import Settings, load_settings
from gateway_core.settlement import DayFigures, Settlement, day_figures, format_report

IST = datetime.fromisoformat("2026-11-28T00:00:00+05:30").tzinfo
DAY = date(2026, 11, 28)
STATUSES = ["succeeded", "succeeded", "declined", "canceled", "requires_capture", "unknown"]


@st.composite
def records(draw, n: int) -> dict:
    """A stored payment record taken on DAY or the day before, moved on either."""
    status = draw(st.sampled_from([*STATUSES, "requires_action"]))
    amount = draw(st.integers(1, 5_000_00))
    taken = DAY - timedelta(days=draw(st.sampled_from([0, 0, 0, 1])))
    at = datetime.combine(taken, datetime.min.time()).replace(tzinfo=IST) + timedelta(
        seconds=draw(st.integers(9 * 3600, 21 * 3600))
    )
    moved = at + timedelta(hours=draw(st.sampled_from([0, 0, 0, 20])))
    captured = draw(st.integers(1, amount)) if status == "succeeded" else 0
    return {
        "id": f"pay_{taken:%Y%m%d}_{n:010d}",
        "status": status,
        "amount": amount,
        "amount_captured": captured,
        "tip": draw(st.integers(0, amount // 10)),
        "currency": "INR",
        "card": {"brand": draw(st.sampled_from(["visa", "rupay"])), "last4": "4242"},
        "funding": "credit",
        "response_code": "51" if status == "declined" else "00",
        "voided_by": "asha" if status == "canceled" and draw(st.booleans()) else None,
        "created_at": at.isoformat(),
        "updated_at": moved.isoformat(),
    }


@st.composite
def days(draw) -> tuple[list[dict], list[dict]]:
    payments = [draw(records(n)) for n in range(1, draw(st.integers(0, 25)) + 1)]
    refunds = []
    for n, p in enumerate(payments):
        if p["status"] == "succeeded" and draw(st.booleans()):  # a part or all, on DAY
            amount = draw(st.integers(1, p["amount_captured"]))
            refunds.append(
                {"id": f"re_{n}", "payment_id": p["id"], "amount": amount, "currency": "INR"}
                | {"brand": p["card"]["brand"]}
            )
    return payments, refunds


def recount(payments: list[dict], refunds: list[dict]) -> DayFigures:
    """The figures of DAY straight from their definitions (docs/SETTLEMENT.md)."""

    def moved_today(r: dict) -> bool:
        return datetime.fromisoformat(r["updated_at"]).astimezone(IST).date() == DAY

    sales = [r for r in payments if r["status"] == "succeeded" and moved_today(r)]
    voids = [r for r in payments if r["status"] == "canceled" and r["voided_by"]]
    voids = [r for r in voids if moved_today(r)]
    taken = [r for r in payments if r["id"].startswith("pay_20261128_")]
    approved = [
        r
        for r in taken
        if r["status"] in ("succeeded", "requires_capture")
        or (r["status"] == "canceled" and r["voided_by"])
    ]
    declined = [r for r in taken if r["status"] == "declined"]
    failed = [r for r in taken if r["status"] == "canceled" and not r["voided_by"]]
    decided = len(approved) + len(declined) + len(failed)
    gross = sum(r["amount_captured"] for r in sales)
    refunded = sum(r["amount"] for r in refunds)
    return DayFigures(
        currency="INR",
        sales=len(sales),
        gross=gross,
        tips=sum(min(r["tip"], r["amount_captured"]) for r in sales),
        voids_count=len(voids),
        voids=sum(r["amount"] for r in voids),
        refunds_count=len(refunds),
        refunds=refunded,
        net=gross - refunded,
        payments=len(taken),
        approved=len(approved),
        declined=len(declined),
        failed_otp=len(failed),
        open=sum(r["status"] in ("unknown", "requires_action", "requires_capture") for r in taken),
        approval_permille=None
        if not decided
        else (len(approved) * 2000 + decided) // (2 * decided),
    )


def inr(minor: int) -> str:
    return format_money(Money(minor, "INR"))


def total_row(text: list[str]) -> list[str]:
    """The cells of the TOTAL row of a report's (one-table) text."""
    return next(line for line in text if line.startswith("TOTAL")).split()


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Iterator[tuple[Settlement, Settings]]:
    """One data dir for every example: the reports are made of the records given."""
    settings_ = load_settings(data_dir=tmp_path_factory.mktemp("figs"), timezone="Asia/Kolkata")
    with open_runtime(settings_) as rt:
        yield Settlement(rt.records, settings_, audit=rt.audit, clock=rt.clock), settings_


@settings(max_examples=100, deadline=None)
@given(day=days())
def test_every_view_of_a_random_day_shows_the_defined_figures(day, reports) -> None:
    payments, refunds = day
    service, settings_ = reports
    report = service.report_of(DAY, payments, refunds)
    figures = day_figures(report, "INR")
    assert figures == recount(payments, refunds)
    # the dashboard: its figures are the report's (its hours and rules come from the
    # running totals, which test_tallies checks against a scan of the records)
    assert day_stats(report, {}, settings_).figures == figures
    text = format_report(report, settings_)  # the X report: console and `report x`
    assert figures.attempts in text and figures.approval in text
    if report.totals:
        row = total_row(text)
        assert (row[1], row[2], row[6]) == (
            str(figures.sales),
            inr(figures.gross),
            inr(figures.net),
        )
        assert f"average sale {inr(figures.average)}" in "\n".join(text)
    narrow = format_report(report, settings_, width=60)  # the console at 80 columns
    assert narrow[:4] == text[:4]
    if report.totals:
        cells = [c for line in narrow if line.startswith("TOTAL") for c in line.split()]
        assert {inr(figures.gross), inr(figures.net)} <= set(cells)


async def random_day(app, clock: FixedClock, seed: int) -> None:
    """Sales, pre-authorizations captured in part or voided or left open, partial and full
    refunds, declines, OTPs confirmed and left pending, through the real gateway."""
    rng, gw = random.Random(seed), app.rt.gateway
    for _ in range(14):
        clock.advance(minutes=rng.randint(1, 20))
        card = rng.choice([VISA, VISA, MASTERCARD, DECLINE_51, OTP_CARD])
        amount = rng.randint(1_00, 4_000_00) if card is not OTP_CARD else 6_000_00
        manual = rng.random() < 0.4
        p = await gw.charge(
            charge(card, amount, terminal_id="TERM0001", operator="asha", capture="manual")
            if manual
            else charge(card, amount, terminal_id="TERM0001", operator="asha")
        )
        try:
            if p.status == "requires_action" and rng.random() < 0.6:
                p = await gw.confirm_otp(p.id, await latest_otp(gw), operator="asha")
            if p.status == "requires_capture":
                choice = rng.choice(["capture", "part", "void", "open"])
                if choice == "void":
                    p = await gw.void(p.id, operator="asha", approval=MANAGER)
                elif choice != "open":
                    part = amount if choice == "capture" else rng.randint(1, amount)
                    p = await gw.capture(p.id, part, operator="asha")
            if p.status == "succeeded" and rng.random() < 0.5:
                part = rng.choice([None, rng.randint(1, p.amount_captured)])
                await gw.refund(p.id, part, operator="asha", approval=MANAGER)
        except PaygateError:
            pass  # a refusal of the bank is a day's event like another


async def test_dashboard_settlement_tab_and_report_x_agree_on_a_random_day(
    settings: Settings, clock: FixedClock, tmp_path: Path, cli, monkeypatch
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    await random_day(app, clock, seed=15)
    await app.rt.gateway.repair()  # expired OTPs canceled now, not as the terminal starts
    figures = day_figures(app.office.settlement().x_report(DAY), "INR")
    assert figures.sales and figures.voids_count and figures.refunds_count and figures.open
    async with drive(app) as pilot:
        await console(pilot)
        fig = {n: widget_text(app, f"#fig-{n}").split("\n")[1] for n in ("gross", "net", "count")}
        assert fig == {
            "gross": inr(figures.gross),
            "net": inr(figures.net),
            "count": str(figures.sales),
        }
        assert widget_text(app, "#attempts") == figures.attempts
        await tab(pilot, "settlement")
        await wait_for(pilot, lambda: "X REPORT" in widget_text(app, "#report-text"))
        console_text = widget_text(app, "#report-text").splitlines()
    monkeypatch.setenv("PAYGATE_TIMEZONE", "Asia/Kolkata")
    shown = cli("report", "x", "--date", DAY.isoformat(), "--data-dir", settings.data_dir)
    assert shown.code == 0, shown.err
    cli_text = shown.out.splitlines()
    for text in (console_text, cli_text):
        assert figures.attempts in text and figures.approval in text
        totals = [line.split() for line in text if line.startswith("TOTAL")]
        cells = [cell for row in totals for cell in row]
        assert str(figures.sales) in cells and inr(figures.gross) in cells
        assert inr(figures.net) in cells
    document = cli(
        "report", "x", "--date", DAY.isoformat(), "--json", "--data-dir", settings.data_dir
    )
    total = json.loads(document.out)["totals"][0]
    assert (total["count"], total["gross"], total["net_sales"]) == (
        figures.sales,
        figures.gross,
        figures.net,
    )
    assert re.search(rf"voids {figures.voids_count} \(", "\n".join(cli_text))
