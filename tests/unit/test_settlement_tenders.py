"""Every tender in the day's settlement: card, UPI, net banking per bank (a flat fee and
GST, a payout per bank), cash (its rounding line, kept in the drawer, no payout) and
payment links (skipped: their attempts hold the money)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from settle_support import Drawer, FakeBanks, Record, Repos, cash, link, netbanking, refund
from support import MANAGER, VISA, charge
from upi_fake import FakePsp

from gateway_core.clock import FixedClock
from gateway_core.dashboard import audit_events
from gateway_core.payments import ChargeRequest, Payment, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.settlement import (
    DayNotReady,
    Reconciliation,
    Settlement,
    day_figures,
    format_report,
    payout_lines,
    payout_reference,
)
from gateway_core.settlement.models import SUMMED
from gateway_core.settlement.shift_reports import format_shifts

NB1, NB2, NB_LOST = "pay_20261128_00000nb001", "pay_20261128_00000nb002", "pay_20261128_00000nb003"
CASH1, CASH2 = "pay_20261128_000cash001", "pay_20261128_000cash002"
LINK1, LINK2 = "pay_20261128_000link001", "pay_20261128_000link002"
SHIFT = "shf_20261128_0000000001"


@dataclass
class Day:
    """The day's records and the fakes of the other sides."""

    svc: Settlement
    rt: Runtime
    psp: FakePsp
    banks: FakeBanks
    drawer: Drawer
    card: Payment
    upi: Payment
    records: dict[str, Record]
    refunds: dict[str, Record]

    async def reconcile(self, bank: Any = None, **kw: Any) -> Reconciliation:
        """The day against every source (the fakes; `bank`: another acquirer's)."""
        sources = {"upi": self.psp, "netbanking": self.banks, "shifts": [self.drawer.report()]}
        acquirer = bank or self.rt.gateway.bank
        return await self.svc.reconcile(self.svc.today(), acquirer, **{**sources, **kw})


async def every_tender(rt: Runtime, clock: FixedClock) -> Day:
    """A Visa sale (₹1,000), a UPI sale (₹200), net banking at DEMOA (₹500, ₹100 of it
    refunded) and DEMOB (₹300), one expired at DEMOA, cash sales of ₹99.60 (rounded to
    ₹100.00) and ₹250.00 (₹50 refunded) in a shift's drawer with ₹20 paid in and ₹10
    paid out, a paid payment link (by the DEMOB payment) and a pending one."""
    psp = FakePsp(clock)
    rt.gateway.upi = psp
    card = await rt.gateway.charge(charge(VISA, 1_000_00))
    upi = await rt.gateway.charge(
        ChargeRequest(amount=200_00, currency="INR", method="upi", upi=UpiInput())
    )
    psp.set(upi.id, "SUCCESS", "00", payer="success@payer", callback=True)
    upi = await rt.gateway.refresh(upi.id)
    await rt.gateway.refund(card.id, 1_00, approval=MANAGER)  # a card refund as template
    repos = Repos(rt, clock.now().date())
    template = repos.payments.get(repos.day, card.id)
    refund_template = repos.refunds.for_day(repos.day)[0]
    assert template is not None
    r = {
        NB1: netbanking(template, NB1, 500_00, "DEMOA"),
        NB2: netbanking(template, NB2, 300_00, "DEMOB", link_id=LINK1),
        NB_LOST: netbanking(
            template, NB_LOST, 400_00, "DEMOA", status="expired", amount_captured=0
        ),
        CASH1: cash(template, CASH1, 99_60, 40, SHIFT),
        CASH2: cash(template, CASH2, 250_00, 0, SHIFT),
        LINK1: link(template, LINK1, 300_00, amount_captured=0),
        LINK2: link(template, LINK2, 900_00, status="pending", amount_captured=0),
    }
    r[LINK1]["link"]["paid_by"] = NB2
    repos.save(*r.values())
    refunds = {
        "nb": refund(refund_template, "re_nb00000001", r[NB1], 100_00),
        "cash": refund(refund_template, "re_cash000001", r[CASH2], 50_00),
    }
    repos.refund(*refunds.values())
    now = clock.now()
    banks = FakeBanks()
    banks.credit(r[NB1], now)
    banks.credit(r[NB2], now)
    banks.refunded(r[NB1], "re_nb00000001", 100_00, now)
    drawer = Drawer(SHIFT, template["merchant_id"], now - timedelta(hours=1), 1_000_00)
    drawer.sale(r[CASH1])
    drawer.sale(r[CASH2])
    drawer.refund(refunds["cash"])
    drawer.move("paid_in", 20_00, reason="change from the bank", approver="meera")
    drawer.move("paid_out", 10_00, reason="milk", approver="meera")
    drawer.close()
    svc = Settlement(rt.records, rt.settings, audit=rt.audit, clock=rt.clock)
    return Day(svc, rt, psp, banks, drawer, card, upi, r, refunds)


@pytest.fixture
async def day(runtime: Runtime, clock: FixedClock) -> Day:
    return await every_tender(runtime, clock)


def test_a_line_per_tender_net_banking_per_bank_cash_with_its_rounding(day: Day) -> None:
    x = day.svc.x_report()
    lines = {(ln.method, ln.brand): ln for ln in x.brands}
    assert list(lines) == [
        ("card", "visa"),
        ("upi", "upi"),
        ("netbanking", "DEMOA"),
        ("netbanking", "DEMOB"),
        ("cash", "cash"),
        ("cash", "rounding"),
    ]
    a, b = lines[("netbanking", "DEMOA")], lines[("netbanking", "DEMOB")]
    assert (a.count, a.gross, a.refunds, a.fees, a.gst) == (1, 500_00, 100_00, 10_00, 1_80)
    assert a.payout == 500_00 - 100_00 - 10_00 - 1_80  # the flat fee is kept on a refund
    assert (b.count, b.gross, b.fees, b.gst, b.payout) == (1, 300_00, 12_00, 2_16, 285_84)
    sale, rounding = lines[("cash", "cash")], lines[("cash", "rounding")]
    assert (sale.count, sale.gross, sale.refunds, sale.fees) == (2, 349_60, 50_00, 0)
    assert (rounding.count, rounding.gross) == (0, 40)
    assert (sale.payout, sale.kept, rounding.payout, rounding.kept) == (0, 299_60, 0, 40)
    for line in [*x.brands, *x.methods, *x.totals]:
        assert line.gross - line.refunds - line.fees - line.gst == line.payout + line.kept
    total = x.total()
    for name in SUMMED:
        assert getattr(total, name) == sum(getattr(m, name) for m in x.methods), name
    assert total.kept == 300_00  # the cash in the drawer: ₹349.60 + ₹0.40 − ₹50.00
    figures = day_figures(x)
    assert figures.kept == 300_00 and figures.gross == 1_000_00 + 200_00 + 800_00 + 350_00
    # links skipped: the paid link's money is its attempt's (NB2); the expired NB unpaid
    assert x.activity.payments == 2 + 3 + 2  # card, UPI, net banking, cash: no links
    assert x.activity.unpaid_netbanking == 1
    assert "unpaid net banking 1" in figures.attempts


def test_a_payout_per_bank_and_none_for_cash(day: Day) -> None:
    x = day.svc.x_report()
    ref = payout_reference(day.svc.merchant_id, x.day)
    assert [(p.method, p.bank, p.reference) for p in x.payouts] == [
        ("card", None, ref),
        ("upi", None, f"{ref}-UPI"),
        ("netbanking", "DEMOA", f"{ref}-NETBANKING-DEMOA"),
        ("netbanking", "DEMOB", f"{ref}-NETBANKING-DEMOB"),
    ]
    assert sum(p.amount for p in x.payouts) == x.total().payout
    assert [x.paid_by(p).payout for p in x.payouts] == [p.amount for p in x.payouts]
    shown = payout_lines(x)
    assert [line.split(":")[0] for line in shown] == [
        "PAYOUT INR Card",
        "PAYOUT INR UPI",
        "PAYOUT INR Net banking DEMOA",
        "PAYOUT INR Net banking DEMOB",
    ]
    assert "net sales ₹400.00 − fees ₹10.00 − GST ₹1.80 = ₹388.20" in shown[2]


def test_the_text_report_names_each_tender(day: Day) -> None:
    text = format_report(day.svc.x_report(), day.rt.settings)
    firsts = [line.split("  ")[0] for line in text if line.startswith(("Net banking", "Cash"))]
    assert firsts[:6] == [
        "Net banking DEMOA",
        "Net banking DEMOB",
        "Net banking total",
        "Cash",
        "Cash rounding",
        "Cash total",
    ]
    header = next(line for line in text if line.startswith("METHOD / BRAND"))
    assert header.split()[-3:] == ["INR", "IN", "DRAWER"]
    assert "  Net banking DEMOA ₹10.00 each on ₹500.00 (1): ₹10.00 + GST ₹1.80" in text
    assert "  Net banking DEMOB ₹12.00 each on ₹300.00 (1): ₹12.00 + GST ₹2.16" in text
    assert "Cash: ₹300.00 kept in the drawer (no payout)" in text
    assert not any(line.startswith("Cash: payout") for line in text)
    narrow = format_report(day.svc.x_report(), day.rt.settings, width=76)
    assert all(len(line) <= 76 for line in narrow)


def test_the_export_skips_links_and_adds_up(day: Day) -> None:
    rows = list(csv.DictReader(io.StringIO(day.svc.export(day.svc.today(), "csv"))))
    ids = {r["payment_id"] for r in rows}
    assert LINK1 not in ids and LINK2 not in ids and NB2 in ids
    nb = next(r for r in rows if r["payment_id"] == NB1 and r["type"] == "sale")
    assert (nb["method"], nb["brand"], nb["fee"], nb["gst"], nb["net"]) == (
        "netbanking",
        "DEMOA",
        "10.00",
        "1.80",
        "488.20",
    )
    x = day.svc.x_report()
    net = sum(int(r["net"].replace(".", "")) for r in rows if r["net"])
    assert net == x.total().payout + x.total().kept  # Σ net: paid out or in the drawer
    rounded = next(r for r in rows if r["payment_id"] == CASH1 and r["type"] == "sale")
    assert (rounded["amount"], rounded["rounding"], rounded["net"]) == ("99.60", "0.40", "100.00")


async def test_a_pending_link_holds_the_z_then_the_z_audits_each_payout(
    day: Day, clock: FixedClock
) -> None:
    """A pending link is an open payment: after the Z it could no longer expire."""
    with pytest.raises(DayNotReady, match=f"still open \\({LINK2}\\)"):
        day.svc.close_day(day.svc.today(), closed_by="meera")
    repos = Repos(day.rt, clock.now().date())
    repos.save({**day.records[LINK2], "status": "expired"})
    z, already = day.svc.close_day(day.svc.today(), closed_by="meera")
    assert not already
    assert [(p.method, p.bank) for p in z.payouts] == [
        ("card", None),
        ("upi", None),
        ("netbanking", "DEMOA"),
        ("netbanking", "DEMOB"),
    ]
    assert day.svc.check_closing(z.day) == []
    (closed,) = [e for e in audit_events(day.rt.records) if e["action"] == "day.closed"]
    assert closed["details"]["payout"] == {
        "INR": z.payouts[0].amount,
        "INR upi": 200_00,
        "INR netbanking DEMOA": 388_20,
        "INR netbanking DEMOB": 285_84,
    }


def test_the_shift_reports_as_the_console_lists_them(day: Day) -> None:
    tz = day.rt.settings.tz
    assert format_shifts([], day.svc.today(), tz) == ["no shifts on 2026-11-28"]
    day.drawer.close(-10_00)
    lines = format_shifts([day.drawer.report()], day.svc.today(), tz)
    assert lines[:3] == [
        "SHIFTS business day Sat 2026-11-28: 1",
        "",
        f"SHIFT {SHIFT}  TERM0001  asha  closed",
    ]
    assert "  cash sales 2  ₹350.00 (rounding ₹0.40)" in lines
    assert "  paid in ₹20.00  paid out ₹10.00" in lines
    assert lines[-1] == "  expected ₹1,310.00, counted ₹1,300.00: short ₹10.00"
    day.drawer.close(counted=False)
    day.drawer.shift = day.drawer.shift.model_copy(update={"approved_by": "meera"})
    (last,) = format_shifts([day.drawer.report()], day.svc.today(), tz)[-1:]
    assert last == "  expected ₹1,310.00; closed not counted (approved by meera)"
