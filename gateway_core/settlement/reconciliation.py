"""Reconciliation: the gateway's captures and refunds of a day paired with the acquirer's
clearing file (cards) and the UPI switch's settlement file (UPI), and what does not pair
(the breaks).

UPI: a switch credit is the capture of the payment its `reference` names; a refund line
pairs with the gateway's refund of that payment with its RRN (else the first with its
amount); a late credit (after the payment expired, was declined or canceled) pairs with
its automatic refund, so the two net to nothing; a reversal (a debit given back to the
payer, never credited) pairs with the payment the gateway declined or canceled after
giving up, and is listed apart: it moved no money of the merchant's.

Net banking: each bank's settlement file; a credit is the capture of the payment it
names, a refund line the gateway's refund of its `refund_id` (a late debit's credit
pairs with its automatic refund, as for UPI).

Cash: the drawers of the day's shifts. Each cash sale (amount + rounding) and cash
refund pairs with its drawer move; each counted drawer is checked against what its
moves say it should hold (float + sales + paid in − refunds − paid out): a short or an
over is a break; a shift not counted yet (open, or closed uncounted) is listed apart."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from gateway_core.netbanking_api import NbSettlementLine
from gateway_core.settlement.models import CARD, CASH, NETBANKING, UPI, Record
from gateway_core.shift_models import ShiftReport
from gateway_core.upi_api import UpiSettlementLine


class Entry(BaseModel):
    """One capture or refund, as the gateway or the acquirer has it."""

    kind: Literal["capture", "refund", "reversal"]
    ref: str  # the payment id for a capture or reversal, the refund id for a refund
    payment_id: str
    amount: int
    currency: str
    brand: str | None = None  # a card's brand, a net banking payment's bank, else the method
    rrn: str | None = None
    method: str = CARD  # the tender: whose file (or drawer) the entry is checked against
    processor: str | None = None  # a real processor's (Stripe, ...): checked against none


class DrawerCount(BaseModel):
    """A shift's drawer: what its moves say it should hold, and what was counted (None:
    not counted yet). Over / short = counted − expected."""

    shift_id: str
    terminal_id: str
    cashier: str
    currency: str
    status: str  # open | closed
    expected: int
    counted: int | None = None

    @property
    def over_short(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected


class Mismatch(BaseModel):
    """The same capture or refund with different amounts (or currencies) on each side."""

    gateway: Entry
    acquirer: Entry

    @property
    def difference(self) -> int | None:
        """Gateway minus acquirer, in minor units (None across currencies)."""
        if self.gateway.currency != self.acquirer.currency:
            return None
        return self.gateway.amount - self.acquirer.amount


class Reconciliation(BaseModel):
    """The day at the gateway against the acquirer's clearing file."""

    day: date
    matched: list[Entry] = []
    missing_at_acquirer: list[Entry] = []  # the gateway has it, the clearing file not
    missing_at_gateway: list[Entry] = []  # the clearing file has it (or has it twice)
    amount_mismatch: list[Mismatch] = []
    switch: bool = False  # the UPI switch's settlement file was read too
    reversals: list[Entry] = []  # UPI debits the switch gave back, matched: no money moved
    banks: list[str] = []  # the net banking banks whose settlement files were read
    drawers: list[DrawerCount] | None = None  # cash: the day's shifts (None: not read)
    at_processors: list[Entry] = []  # taken at real processors: in their reports, not here

    @property
    def drawer_breaks(self) -> list[DrawerCount]:
        """The drawers counted short or over."""
        return [d for d in self.drawers or () if d.over_short]

    @property
    def uncounted(self) -> list[DrawerCount]:
        """The shifts whose drawer is not counted yet (no break until it is)."""
        return [d for d in self.drawers or () if d.counted is None]

    @property
    def breaks(self) -> int:
        """How many entries (and counted drawers) do not reconcile."""
        return (
            len(self.missing_at_acquirer)
            + len(self.missing_at_gateway)
            + len(self.amount_mismatch)
            + len(self.drawer_breaks)
        )

    def tenders(self) -> dict[str, dict[str, int]]:
        """Per tender (card, upi, netbanking DEMOA..., cash): entries matched and breaks
        (a drawer counted short or over is a cash break)."""
        out: dict[str, dict[str, int]] = {}
        unpaired = [*self.missing_at_acquirer, *self.missing_at_gateway]
        for field, entries in (
            ("matched", self.matched),
            ("breaks", [*unpaired, *(m.gateway for m in self.amount_mismatch)]),
        ):
            for e in entries:
                out.setdefault(tender_key(e), {"matched": 0, "breaks": 0})[field] += 1
        if self.drawer_breaks:
            cash = out.setdefault(CASH, {"matched": 0, "breaks": 0})
            cash["breaks"] += len(self.drawer_breaks)
        return out

    @property
    def ok(self) -> bool:
        return self.breaks == 0

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per category: count, and amount per currency (acquirer's for missing at the
        gateway, gateway's otherwise; a mismatch also its difference)."""
        out: dict[str, dict[str, Any]] = {}
        for name in ("matched", "missing_at_acquirer", "missing_at_gateway"):
            entries: list[Entry] = getattr(self, name)
            out[name] = {"count": len(entries), "amount": _by_currency(entries)}
        diff: dict[str, int] = {}
        for m in self.amount_mismatch:
            if m.difference is not None:
                diff[m.gateway.currency] = diff.get(m.gateway.currency, 0) + m.difference
        out["amount_mismatch"] = {
            "count": len(self.amount_mismatch),
            "amount": _by_currency(m.gateway for m in self.amount_mismatch),
            "acquirer_amount": _by_currency(m.acquirer for m in self.amount_mismatch),
            "difference": diff,
        }
        if self.at_processors:
            out["at_processors"] = {
                "count": len(self.at_processors),
                "amount": _by_currency(self.at_processors),
            }
        if self.switch:
            out["reversals"] = {
                "count": len(self.reversals),
                "amount": _by_currency(self.reversals),
            }
        if self.drawers:  # the day had shifts
            short: dict[str, int] = {}
            for d in self.drawer_breaks:
                short[d.currency] = short.get(d.currency, 0) + (d.over_short or 0)
            out["drawers"] = {
                "count": len(self.drawers),
                "breaks": len(self.drawer_breaks),
                "uncounted": len(self.uncounted),
                "over_short": short,
            }
        return out

    def document(self) -> dict[str, Any]:
        """The JSON form: every list with amounts, the summary, and `ok`."""
        doc = self.model_dump(mode="json")
        for item, mismatch in zip(doc["amount_mismatch"], self.amount_mismatch, strict=True):
            item["difference"] = mismatch.difference
        for item, drawer in zip(doc["drawers"] or (), self.drawers or (), strict=True):
            item["over_short"] = drawer.over_short
        return {
            **doc,
            "ok": self.ok,
            "breaks": self.breaks,
            "summary": self.summary(),
            "tenders": self.tenders(),
        }


def tender_key(entry: Entry) -> str:
    """The tender an entry belongs to: card, upi, cash, or "netbanking BANK"."""
    if entry.method == NETBANKING:
        return f"{NETBANKING} {entry.brand}"
    return entry.method


def _by_currency(entries: Iterable[Entry]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        out[e.currency] = out.get(e.currency, 0) + e.amount
    return out


def match(day: date, expected: Iterable[Entry], cleared: Iterable[Entry]) -> Reconciliation:
    """Pair the gateway's captures and refunds with the acquirer's clearing entries by
    (kind, ref). Each acquirer entry pairs at most once: a second one for the same
    capture or refund is missing at the gateway (the acquirer would pay it twice)."""
    rec = Reconciliation(day=day)
    waiting: dict[tuple[str, str], list[Entry]] = {}
    for entry in cleared:
        waiting.setdefault((entry.kind, entry.ref), []).append(entry)
    for ours in expected:
        theirs = waiting.get((ours.kind, ours.ref))
        if not theirs:
            rec.missing_at_acquirer.append(ours)
            continue
        acquirer = theirs.pop(0)
        if acquirer.amount == ours.amount and acquirer.currency == ours.currency:
            rec.matched.append(ours)
        else:
            rec.amount_mismatch.append(Mismatch(gateway=ours, acquirer=acquirer))
    rec.missing_at_gateway = [e for entries in waiting.values() for e in entries]
    rec.reversals = [e for e in rec.matched if e.kind == "reversal"]
    rec.matched = [e for e in rec.matched if e.kind != "reversal"]
    return rec


def switch_entries(lines: Iterable[UpiSettlementLine], expected: Iterable[Entry]) -> list[Entry]:
    """The UPI switch's settlement lines as entries to pair with the gateway's (`expected`,
    whose UPI refunds lend their ids to the refund lines: by RRN, else by amount)."""
    refunds: dict[str, list[Entry]] = {}
    for e in expected:
        if e.kind == "refund" and e.brand == "upi":
            refunds.setdefault(e.payment_id, []).append(e)
    out = []
    for line in lines:
        kind: Literal["capture", "refund", "reversal"] = (
            "capture" if line.kind == "credit" else line.kind
        )
        ref = line.reference
        if kind == "refund":
            ours = refunds.get(line.reference, [])
            same = [e for e in ours if line.rrn and e.rrn == line.rrn]
            same = same or [e for e in ours if e.amount == line.amount]
            ref = same[0].ref if same else f"{line.reference}/{line.txn_id}"
            if same:
                ours.remove(same[0])
        out.append(
            Entry(
                kind=kind,
                ref=ref,
                payment_id=line.reference,
                amount=line.amount,
                currency="INR",
                brand="upi",
                rrn=line.rrn,
                method=UPI,
            )
        )
    return out


def netbanking_entries(lines: Iterable[NbSettlementLine]) -> list[Entry]:
    """A bank's settlement lines as entries to pair with the gateway's: a credit is the
    capture of its payment, a refund line the refund of its `refund_id` (the gateway's)."""
    out = []
    for line in lines:
        refund = line.kind == "refund"
        out.append(
            Entry(
                kind="refund" if refund else "capture",
                ref=(line.refund_id or f"{line.payment_id}/{line.bank_ref}")
                if refund
                else line.payment_id,
                payment_id=line.payment_id,
                amount=line.amount,
                currency="INR",
                brand=line.bank,
                rrn=line.bank_ref,
                method=NETBANKING,
            )
        )
    return out


def drawer_entries(
    reports: Iterable[ShiftReport], on_day: Callable[[datetime], bool]
) -> tuple[list[Entry], list[DrawerCount]]:
    """The drawers' sale and refund moves made on the day (`on_day`) as entries to pair
    with the gateway's cash sales and refunds, and each shift's drawer count."""
    entries, counts = [], []
    for report in reports:
        shift = report.shift
        expected = shift.float_amount
        for move in report.moves:
            sign = {"sale": 1, "paid_in": 1, "refund": -1, "paid_out": -1}.get(move.kind, 0)
            expected += sign * move.amount
            if move.kind in ("sale", "refund") and on_day(move.at):
                sale = move.kind == "sale"
                entries.append(
                    Entry(
                        kind="capture" if sale else "refund",
                        ref=(move.payment_id if sale else move.refund_id) or move.id,
                        payment_id=move.payment_id or "",
                        amount=move.amount,
                        currency=shift.currency,
                        brand=CASH,
                        method=CASH,
                    )
                )
        counts.append(
            DrawerCount(
                shift_id=shift.id,
                terminal_id=shift.terminal_id,
                cashier=shift.cashier,
                currency=shift.currency,
                status=shift.status,
                expected=expected,
                counted=shift.counted if shift.status == "closed" else None,
            )
        )
    return entries, counts


def clearing_entry(row: Record) -> Entry:
    """A row of the acquirer's clearing file as an Entry."""
    return Entry(
        kind=row["type"],
        ref=row["ref"],
        payment_id=row["payment_id"],
        amount=row["amount"],
        currency=row["currency"],
        brand=row.get("brand"),
        rrn=row.get("rrn"),
        method=CARD,
    )
