"""Reconcile per tender: cards against the acquirer's clearing file, UPI against the
switch's file, net banking against each bank's settlement file, cash against the day's
shifts (sales and refunds against the drawer moves, each count against its expected).
One break injected per tender: reconcile names it, in that tender's words."""

from __future__ import annotations

from typing import Any

import pytest
from settle_support import Drawer
from test_settlement_tenders import CASH1, CASH2, NB1, NB2, SHIFT, Day, every_tender

from gateway_core.clock import FixedClock
from gateway_core.presentation import money_text
from gateway_core.runtime import Runtime
from gateway_core.settlement import Reconciliation, format_reconciliation


@pytest.fixture
async def day(runtime: Runtime, clock: FixedClock) -> Day:
    return await every_tender(runtime, clock)


def said(rec: Reconciliation) -> str:
    """The reconciliation's text, each run of spaces as one."""
    return "\n".join(" ".join(line.split()) for line in format_reconciliation(rec))


class DroppingBank:
    """The acquirer, but its clearing file lost one capture."""

    def __init__(self, bank: Any, lost: str) -> None:
        self.bank, self.lost = bank, lost

    async def clearing(self, day: Any) -> list[dict[str, Any]]:
        rows = await self.bank.clearing(day)
        return [r for r in rows if not (r["type"] == "capture" and r["ref"] == self.lost)]


async def test_every_tender_reconciles(day: Day) -> None:
    rec = await day.reconcile()
    assert rec.ok, format_reconciliation(rec)
    assert rec.switch and rec.banks == ["DEMOA", "DEMOB", "DEMOC", "DOWN"]
    assert day.banks.asked == rec.banks  # every configured bank's file is read
    assert rec.tenders() == {
        "card": {"matched": 2, "breaks": 0},  # the sale and the refund
        "upi": {"matched": 1, "breaks": 0},
        "netbanking DEMOA": {"matched": 2, "breaks": 0},
        "netbanking DEMOB": {"matched": 1, "breaks": 0},
        "cash": {"matched": 3, "breaks": 0},
    }
    (drawer,) = rec.drawers or []
    assert (drawer.shift_id, drawer.expected, drawer.counted, drawer.over_short) == (
        SHIFT,
        1_000_00 + 100_00 + 250_00 - 50_00 + 20_00 - 10_00,
        1_310_00,
        0,
    )
    text = format_reconciliation(rec)
    assert text[0].endswith(
        "the acquirer's clearing file, the UPI switch's settlement file, the settlement "
        "files of DEMOA, DEMOB, DEMOC, DOWN and the drawers of 1 shift(s)"
    )
    tenders = text[text.index(next(t for t in text if t.startswith("TENDER"))) :][1:8]
    assert [" ".join(row.split()) for row in tenders] == [
        "Card 2 0",
        "UPI 1 0",
        "Net banking DEMOA 2 0",
        "Net banking DEMOB 1 0",
        "Net banking DEMOC 0 0",  # its file was read: nothing in it, nothing expected
        "Net banking DOWN 0 0",
        "Cash 3 0",
    ]
    assert f"  {SHIFT} TERM0001 (asha): expected ₹1,310.00, counted ₹1,310.00: balanced" in text
    assert text[-1] == "no breaks: every capture and refund is on the other side, once"
    doc = rec.document()
    assert doc["summary"]["drawers"] == {"count": 1, "breaks": 0, "uncounted": 0, "over_short": {}}
    assert doc["tenders"]["cash"] == {"matched": 3, "breaks": 0}


async def test_without_the_other_sources_cards_only(day: Day) -> None:
    rec = await day.svc.reconcile(day.svc.today(), day.rt.gateway.bank)
    assert rec.ok and set(rec.tenders()) == {"card"} and rec.drawers is None


async def test_a_card_missing_at_the_acquirer(day: Day) -> None:
    rec = await day.reconcile(DroppingBank(day.rt.gateway.bank, day.card.id))
    assert [(e.method, e.ref) for e in rec.missing_at_acquirer] == [("card", day.card.id)]
    assert rec.tenders()["card"]["breaks"] == 1 and rec.breaks == 1
    assert f"missing at acquirer capture {day.card.id} Visa ₹1,000.00" in said(rec)


async def test_a_upi_credit_missing_at_the_switch(day: Day) -> None:
    day.psp.lines = [ln for ln in day.psp.lines if ln.reference != day.upi.id]
    rec = await day.reconcile()
    assert [(e.method, e.ref) for e in rec.missing_at_acquirer] == [("upi", day.upi.id)]
    assert f"missing at switch capture {day.upi.id} UPI ₹200.00" in said(rec)


@pytest.mark.parametrize("case", ["missing credit", "amount", "unknown line", "refund missing"])
async def test_a_net_banking_break_at_a_bank(day: Day, case: str) -> None:
    lines = day.banks.lines
    credit = next(ln for ln in lines if ln.payment_id == NB2 and ln.kind == "credit")
    if case == "missing credit":
        lines.remove(credit)
    elif case == "amount":
        lines[lines.index(credit)] = credit.model_copy(update={"amount": 299_00})
    elif case == "unknown line":
        lines.append(credit.model_copy(update={"payment_id": "pay_20261128_stranger00"}))
    else:
        lines[:] = [ln for ln in lines if ln.kind != "refund"]
    rec = await day.reconcile()
    assert rec.breaks == 1, rec.document()
    text = said(rec)
    if case == "missing credit":
        assert [(e.brand, e.ref) for e in rec.missing_at_acquirer] == [("DEMOB", NB2)]
        assert f"missing at bank capture {NB2} Net banking DEMOB ₹300.00" in text
        assert rec.tenders()["netbanking DEMOB"] == {"matched": 0, "breaks": 1}
    elif case == "amount":
        (m,) = rec.amount_mismatch
        assert (m.gateway.ref, m.difference) == (NB2, 1_00)
        assert "gateway ₹300.00, bank ₹299.00 (difference ₹1.00)" in text
    elif case == "unknown line":
        assert [(e.brand, e.ref) for e in rec.missing_at_gateway] == [
            ("DEMOB", "pay_20261128_stranger00")
        ]
        assert "missing at gateway capture pay_20261128_stranger00 Net banking DEMOB" in text
    else:
        assert [(e.kind, e.ref) for e in rec.missing_at_acquirer] == [("refund", "re_nb00000001")]
        assert "missing at bank refund re_nb00000001 Net banking DEMOA ₹100.00" in text
        assert rec.tenders()["netbanking DEMOA"] == {"matched": 1, "breaks": 1}


async def test_a_late_debit_and_its_refund_net_to_nothing(day: Day, clock: FixedClock) -> None:
    from settle_support import Repos

    repos = Repos(day.rt, clock.now().date())
    lost = repos.payments.get(repos.day, "pay_20261128_00000nb003")
    assert lost is not None
    lost["netbanking"]["late_refund"] = "re_late000001"
    repos.save(lost)
    rec = await day.reconcile()
    assert [(e.kind, e.ref) for e in rec.missing_at_acquirer] == [
        ("capture", lost["id"]),
        ("refund", "re_late000001"),
    ]
    day.banks.credit({**lost, "amount_captured": lost["amount"]}, clock.now())
    day.banks.refunded(lost, "re_late000001", lost["amount"], clock.now())
    assert (await day.reconcile()).ok


@pytest.mark.parametrize("over_short", [-10_00, 5_00])
async def test_a_drawer_counted_short_or_over(day: Day, over_short: int) -> None:
    day.drawer.close(over_short)
    rec = await day.reconcile()
    (broken,) = rec.drawer_breaks
    assert (broken.shift_id, broken.over_short) == (SHIFT, over_short)
    assert rec.breaks == 1 and rec.tenders()["cash"] == {"matched": 3, "breaks": 1}
    word = "short" if over_short < 0 else "over"
    counted = money_text(1_310_00 + over_short, "INR")
    assert (
        f"drawer {word} count {SHIFT} Cash expected ₹1,310.00, counted {counted} "
        f"({money_text(abs(over_short), 'INR')})"
    ) in said(rec)
    assert rec.document()["summary"]["drawers"]["over_short"] == {"INR": over_short}


async def test_a_cash_sale_not_in_the_drawer(day: Day) -> None:
    day.drawer.moves = [m for m in day.drawer.moves if m.payment_id != CASH1]
    rec = await day.reconcile()
    assert [(e.method, e.ref, e.amount) for e in rec.missing_at_acquirer] == [
        ("cash", CASH1, 100_00)  # amount + rounding: the cash due
    ]
    assert f"missing at drawer capture {CASH1} Cash ₹100.00" in said(rec)


async def test_an_open_shift_is_not_counted_yet(day: Day, clock: FixedClock) -> None:
    other = Drawer("shf_20261128_0000000002", day.svc.merchant_id, clock.now(), 500_00)
    rec = await day.reconcile(shifts=[day.drawer.report(), other.report()])
    assert rec.ok and [d.shift_id for d in rec.uncounted] == [other.shift.id]
    assert (
        "  shf_20261128_0000000002 TERM0001 (asha): expected ₹500.00; open, not counted yet"
        in format_reconciliation(rec)
    )


async def test_a_cash_refund_not_taken_from_a_drawer(day: Day) -> None:
    day.drawer.moves = [m for m in day.drawer.moves if m.kind != "refund"]
    rec = await day.reconcile()
    assert [(e.kind, e.payment_id) for e in rec.missing_at_acquirer] == [("refund", CASH2)]
    # the cash left the drawer, its move did not: the count is short of what moves say
    assert [d.over_short for d in rec.drawer_breaks] == [-50_00] and rec.breaks == 2
    assert NB1 not in {e.ref for e in rec.missing_at_acquirer}
