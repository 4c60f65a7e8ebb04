"""A business day of every tender for the settlement tests: net banking, cash and payment
link records stored as the gateway stores them (validated as `Payment`s), the banks'
settlement files and the day's shifts as fakes the tests can break."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from gateway_core.netbanking_api import TEST_BANKS, NbSettlementLine
from gateway_core.payments import Payment
from gateway_core.runtime import Runtime
from gateway_core.shift_models import DrawerMove, Shift, ShiftReport

Record = dict[str, Any]


def stored(template: Record, method: str, payment_id: str, amount: int, **more: Any) -> Record:
    """A stored payment of another method, shaped like the card one the gateway stored
    (no card, no funding, no acquirer's references), checked as a `Payment`."""
    doc = {k: v for k, v in template.items() if k not in ("funding", "rrn", "auth_code")}
    doc = {
        **doc,
        "id": payment_id,
        "method": method,
        "card": None,
        "amount": amount,
        "amount_captured": amount,
        **more,
    }
    Payment.stored(doc)
    return doc


def netbanking(
    template: Record, payment_id: str, amount: int, bank: str = "DEMOA", **more: Any
) -> Record:
    """A net banking payment paid at `bank` (its debit's reference: BR + the id's tail)."""
    detail = {
        "bank": bank,
        "bank_name": TEST_BANKS.get(bank, bank),
        "bank_txn": f"NB{payment_id[-6:]}",
        "bank_ref": f"BR{payment_id[-8:]}",
        "account": "XXXX1234",
        "expires_at": template["created_at"],
        **more.pop("detail", {}),
    }
    return stored(template, "netbanking", payment_id, amount, netbanking=detail, **more)


def cash(
    template: Record, payment_id: str, amount: int, rounding: int, shift_id: str, **more: Any
) -> Record:
    """A cash sale: the customer handed over the next ₹100 note's worth."""
    due = amount + rounding
    tendered = -(-due // 100_00) * 100_00
    detail = {"tendered": tendered, "change": tendered - due, "rounding": rounding}
    return stored(
        template, "cash", payment_id, amount, cash={**detail, "shift_id": shift_id}, **more
    )


def link(template: Record, payment_id: str, amount: int, **more: Any) -> Record:
    """A payment link (moves no money itself: its attempts do)."""
    detail = {
        "url": f"http://pay.test/checkout/{payment_id}",
        "expires_at": template["created_at"],
        "methods": ["netbanking", "upi", "card"],
    }
    return stored(template, "link", payment_id, amount, link=detail, **more)


def refund(template: Record, refund_id: str, payment: Record, amount: int) -> Record:
    """A refund of `payment` shaped like the card refund the gateway filed."""
    doc = {k: v for k, v in template.items() if k != "rrn"}
    brand = (payment.get("netbanking") or {}).get("bank") or payment["method"]
    return {**doc, "id": refund_id, "payment_id": payment["id"], "amount": amount, "brand": brand}


class Repos:
    """The repositories the gateway stores payments and refunds with."""

    def __init__(self, rt: Runtime, day: date) -> None:
        self.day = day
        self.payments = rt.records.payments
        self.refunds = rt.records.refunds

    def save(self, *records: Record) -> None:
        for r in records:
            self.payments.save(self.day, r)

    def refund(self, *records: Record) -> None:
        for r in records:
            self.refunds.add(self.day, r)


class FakeBanks:
    """The banks' settlement files (`NetbankingBanks.settlement`), editable by tests."""

    def __init__(self) -> None:
        self.lines: list[NbSettlementLine] = []
        self.asked: list[str] = []

    def credit(self, payment: Record, at: datetime, amount: int | None = None) -> None:
        nb = payment["netbanking"]
        self.lines.append(
            NbSettlementLine(
                bank=nb["bank"],
                kind="credit",
                merchant_id=payment["merchant_id"],
                payment_id=payment["id"],
                bank_ref=nb["bank_ref"],
                amount=payment["amount_captured"] if amount is None else amount,
                day=at.date(),
                at=at,
            )
        )

    def refunded(self, payment: Record, refund_id: str, amount: int, at: datetime) -> None:
        nb = payment["netbanking"]
        self.lines.append(
            NbSettlementLine(
                bank=nb["bank"],
                kind="refund",
                merchant_id=payment["merchant_id"],
                payment_id=payment["id"],
                bank_ref=nb["bank_ref"],
                refund_id=refund_id,
                amount=amount,
                day=at.date(),
                at=at,
            )
        )

    async def settlement(self, bank: str, day: date) -> list[NbSettlementLine]:
        self.asked.append(bank)
        return [ln for ln in self.lines if ln.bank == bank and ln.day == day]


class Drawer:
    """A shift's drawer, built move by move as the cash tender and the shift service
    would: float, sales (amount + rounding), refunds, paid in and out; then counted."""

    def __init__(self, shift_id: str, merchant_id: str, at: datetime, float_amount: int) -> None:
        self.at = at
        self.shift = Shift(
            id=shift_id,
            merchant_id=merchant_id,
            terminal_id="TERM0001",
            cashier="asha",
            currency="INR",
            status="open",
            day=at.date(),
            opened_at=at,
            opening={float_amount: 1},
            float_amount=float_amount,
            expected=float_amount,
        )
        self.moves: list[DrawerMove] = []
        self.rounding = 0

    def move(self, kind: str, amount: int, **more: Any) -> DrawerMove:
        move = DrawerMove(
            id=f"dm_{len(self.moves):04d}",
            shift_id=self.shift.id,
            kind=kind,  # type: ignore[arg-type]  # a test names the kinds it uses
            amount=amount,
            operator="asha",
            at=self.at + timedelta(minutes=len(self.moves)),
            **more,
        )
        self.moves.append(move)
        sign = 1 if kind in ("sale", "paid_in") else -1
        self.shift = self.shift.model_copy(update={"expected": self.shift.expected + sign * amount})
        return move

    def sale(self, payment: Record) -> None:
        self.rounding += payment["cash"]["rounding"]
        self.move("sale", payment["amount"] + payment["cash"]["rounding"], payment_id=payment["id"])

    def refund(self, refund: Record) -> None:
        self.move(
            "refund", refund["amount"], payment_id=refund["payment_id"], refund_id=refund["id"]
        )

    def close(self, over_short: int = 0, counted: bool = True) -> None:
        total = self.shift.expected + over_short if counted else None
        self.shift = self.shift.model_copy(
            update={
                "status": "closed",
                "closed_at": self.at + timedelta(hours=8),
                "counted": total,
                "over_short": over_short if counted else None,
                "closing": {total: 1} if total else None,
            }
        )

    def report(self) -> ShiftReport:
        def total(kind: str) -> int:
            return sum(m.amount for m in self.moves if m.kind == kind)

        sales = [m for m in self.moves if m.kind == "sale"]
        return ShiftReport(
            shift=self.shift,
            sales_count=len(sales),
            sales=total("sale"),
            rounding=self.rounding,
            refunds_count=sum(m.kind == "refund" for m in self.moves),
            refunds=total("refund"),
            paid_in=total("paid_in"),
            paid_out=total("paid_out"),
            moves=list(self.moves),
        )
