"""What the other side should hold of a day, per tender besides cards and UPI: each
bank's settlement file (net banking) and the drawers of the day's shifts (cash), as
entries to pair with theirs (`reconciliation.match`).

`payments` are the day's candidates (`Settlement.candidates`), `refunds` the refunds
made on it (each with its payment's `method`), `moved` the business day a payment's
money moved on (`days.DayOf`), `day` the day reconciled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Literal

from gateway_core.payments import payment_day
from gateway_core.settlement.models import CASH, NETBANKING, Record
from gateway_core.settlement.reconciliation import Entry
from gateway_core.settlement.tally import kind_of

Kind = Literal["capture", "refund"]


def _entry(kind: Kind, ref: str, record: Record, amount: int, **more: str | None) -> Entry:
    method, brand = kind_of(record)
    fields = {"payment_id": record["id"], "currency": record["currency"], **more}
    return Entry(kind=kind, ref=ref, amount=amount, brand=brand, method=method, **fields)


def _refund_entries(refunds: Iterable[Record], method: str) -> list[Entry]:
    """The refunds of one method made on the day, as its other side should have them."""
    return [
        Entry(
            kind="refund",
            ref=r["id"],
            payment_id=r["payment_id"],
            amount=r["amount"],
            currency=r["currency"],
            brand=kind_of(r)[1],
            rrn=r.get("rrn"),
            method=method,
        )
        for r in refunds
        if r.get("method") == method
    ]


def netbanking_expected(
    day: date, payments: Iterable[Record], refunds: Iterable[Record], moved: Callable[[str], date]
) -> list[Entry]:
    """What the banks should have settled for the day: each net banking payment paid on
    it (a credit) and each refund made on it; for a payment taken on it that did not
    succeed, a late debit with its automatic refund (the two net to nothing)."""
    entries = []
    for r in payments:
        if r.get("method") != NETBANKING:
            continue
        detail = r.get("netbanking") or {}
        ref = detail.get("bank_ref")
        if r["status"] == "succeeded":
            if moved(r["updated_at"]) == day:
                entries.append(_entry("capture", r["id"], r, r["amount_captured"], rrn=ref))
        elif detail.get("late_refund") and payment_day(r["id"]) == day:
            entries.append(_entry("capture", r["id"], r, r["amount"], rrn=ref))
            entries.append(_entry("refund", detail["late_refund"], r, r["amount"], rrn=ref))
    return entries + _refund_entries(refunds, NETBANKING)


def cash_expected(
    day: date, payments: Iterable[Record], refunds: Iterable[Record], moved: Callable[[str], date]
) -> list[Entry]:
    """What the drawers should have taken on the day: each cash sale (its amount and
    rounding: the cash due) and each cash refund."""
    entries = [
        _entry(
            "capture", r["id"], r, r["amount_captured"] + (r.get("cash") or {}).get("rounding", 0)
        )
        for r in payments
        if r.get("method") == CASH and r["status"] == "succeeded" and moved(r["updated_at"]) == day
    ]
    return entries + _refund_entries(refunds, CASH)


def banks_of(entries: Iterable[Entry], configured: Iterable[str]) -> list[str]:
    """The banks whose settlement files to read: the configured ones and any the day's
    entries name, in order."""
    out = list(dict.fromkeys(configured))
    out += [b for b in dict.fromkeys(e.brand for e in entries if e.brand) if b not in out]
    return out


def processors_expected(
    day: date, payments: Iterable[Record], refunds: Iterable[Record], moved: Callable[[str], date]
) -> list[Entry]:
    """What real processors (Stripe, Razorpay, PayPal) moved for the day: each payment
    taken there and captured on it, each refund of one made on it. None of the simulated
    banks' files holds them; each processor's own report does."""
    entries = [
        _entry("capture", r["id"], r, r["amount_captured"], processor=r["processor"])
        for r in payments
        if r.get("processor") and r["status"] == "succeeded" and moved(r["updated_at"]) == day
    ]
    for refund in refunds:
        if refund.get("processor"):
            (entry,) = _refund_entries([refund], refund["method"])
            entries.append(entry.model_copy(update={"processor": refund["processor"]}))
    return entries
