"""Stand-ins for the gateway's shifts and cash tender while they are not on main yet
(installed only when the gateway has no cash tender)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway_core.access import NotPermitted
from gateway_core.bill_models import Bill, BillError, BillPart
from gateway_core.errors import InputError
from gateway_core.payments import CashDetail, ChargeRequest, LinkDetail, Payment
from gateway_core.shift_models import DrawerMove, Shift, ShiftError, ShiftReport, count_total


class FakeShifts:
    def __init__(self, gateway: Any, settings: Any, clock: Any) -> None:
        self.gateway, self.settings, self.clock = gateway, settings, clock
        self.all: dict[str, Shift] = {}
        self.moves: dict[str, list[DrawerMove]] = {}
        self.payments: dict[str, Payment] = {}
        self.n = 0

    def current_shift(self, terminal_id: str | None = None) -> Shift | None:
        tid = terminal_id or self.settings.terminal_id
        return next(
            (s for s in self.all.values() if s.terminal_id == tid and s.status == "open"), None
        )

    async def open_shift(self, *, count, cashier, terminal_id=None) -> Shift:
        if self.current_shift(terminal_id):
            raise ShiftError("a shift is already open")
        self.n += 1
        now = self.clock.now()
        total = count_total(count)
        shift = Shift(
            id=f"shf_20261128_{self.n:010d}",
            merchant_id=self.settings.merchant_id,
            terminal_id=terminal_id or self.settings.terminal_id,
            cashier=cashier,
            currency=self.settings.currency,
            status="open",
            day=now.date(),
            opened_at=now,
            opening=count,
            float_amount=total,
            expected=total,
        )
        self.all[shift.id] = shift
        self.moves[shift.id] = []
        return shift

    def shift_report(self, shift_id: str) -> ShiftReport:
        shift = self.all[shift_id]
        sales = [m for m in self.moves[shift_id] if m.kind == "sale"]
        return ShiftReport(
            shift=shift,
            sales_count=len(sales),
            sales=sum(m.amount for m in sales),
            rounding=0,
            refunds_count=0,
            refunds=0,
            paid_in=sum(m.amount for m in self.moves[shift_id] if m.kind == "paid_in"),
            paid_out=sum(m.amount for m in self.moves[shift_id] if m.kind == "paid_out"),
            moves=self.moves[shift_id],
        )

    async def move_cash(self, shift_id, /, *, kind, amount, reason, operator, approval=None):
        if approval is None or approval.pin != "4321":
            raise NotPermitted("wrong manager ID or PIN")
        shift = self.all[shift_id]
        sign = 1 if kind == "paid_in" else -1
        self.all[shift_id] = shift.model_copy(update={"expected": shift.expected + sign * amount})
        self.n += 1
        move = DrawerMove(
            id=f"dm_{self.n}",
            shift_id=shift_id,
            kind=kind,
            amount=amount,
            reason=reason,
            operator=operator,
            approver=approval.user_id,
            at=self.clock.now(),
        )
        self.moves[shift_id].append(move)
        return move

    async def close_shift(self, shift_id, /, *, count, operator, approval=None) -> ShiftReport:
        shift = self.all[shift_id]
        counted = count_total(count)
        diff = counted - shift.expected
        if -diff > self.settings.cash.short_approval_over.get(shift.currency, 0):
            if approval is None:
                raise NotPermitted("a short over ₹100.00 needs a manager's approval")
            if approval.pin != "4321":
                raise NotPermitted("wrong manager ID or PIN")
        self.all[shift_id] = shift.model_copy(
            update=dict(
                status="closed",
                closed_at=self.clock.now(),
                closing=count,
                counted=counted,
                over_short=diff,
                closed_by=operator,
                approved_by=approval.user_id if approval else None,
            )
        )
        return self.shift_report(shift_id)

    async def charge(self, req: ChargeRequest, real) -> Payment:
        if req.method == "link":
            return self.link(req)
        if req.method != "cash":
            return await real(req)
        shift = self.current_shift(req.terminal_id)
        if shift is None:
            raise ShiftError(f"no shift is open on {req.terminal_id}: open one first")
        step = self.settings.cash.rounding.get(req.currency, 0)
        due = (req.amount + step // 2) // step * step if step > 1 else req.amount
        if req.cash.tendered < due:
            raise InputError("tendered is less than due")
        self.n += 1
        now = self.clock.now()
        payment = Payment(
            id=f"pay_20261128_c{self.n:09d}",
            status="succeeded",
            method="cash",
            amount=req.amount,
            currency=req.currency,
            amount_captured=req.amount,
            cash=CashDetail(
                tendered=req.cash.tendered,
                change=req.cash.tendered - due,
                rounding=due - req.amount,
                shift_id=shift.id,
            ),
            merchant_id=self.settings.merchant_id,
            terminal_id=req.terminal_id,
            operator=req.operator,
            response_code="00",
            created_at=now,
            updated_at=now,
        )
        self.payments[payment.id] = payment
        self.all[shift.id] = shift.model_copy(update={"expected": shift.expected + due})
        self.moves[shift.id].append(
            DrawerMove(
                id=f"dm_{self.n}",
                shift_id=shift.id,
                kind="sale",
                amount=due,
                payment_id=payment.id,
                operator=req.operator,
                at=now,
            )
        )
        return payment

    def link(self, req: ChargeRequest) -> Payment:
        self.n += 1
        now = self.clock.now()
        pid = f"pay_20261128_l{self.n:09d}"
        payment = Payment(
            id=pid,
            status="pending",
            method="link",
            amount=req.amount,
            currency=req.currency,
            link=LinkDetail(
                url=f"http://127.0.0.1:8765/checkout/{pid}",
                expires_at=now + timedelta(seconds=900),
                methods=["netbanking", "upi", "card"],
            ),
            merchant_id=self.settings.merchant_id,
            terminal_id=req.terminal_id,
            operator=req.operator,
            message="Waiting for the customer",
            created_at=now,
            updated_at=now,
        )
        self.payments[pid] = payment
        return payment

    async def refresh(self, pid: str, real) -> Payment:
        payment = self.payments.get(pid)
        if payment is None:
            return await real(pid)
        if (
            payment.status == "pending"
            and payment.link
            and self.clock.now() >= payment.link.expires_at
        ):
            payment = self.payments[pid] = payment.model_copy(update={"status": "expired"})
        return payment

    async def cancel(self, pid: str, real, **kw) -> Payment:
        payment = self.payments.get(pid)
        if payment is None:
            return await real(pid, **kw)
        payment = self.payments[pid] = payment.model_copy(update={"status": "canceled"})
        return payment


class FakeBills:
    def __init__(self, gateway: Any, settings: Any, clock: Any) -> None:
        self.gateway, self.settings, self.clock = gateway, settings, clock
        self.all: dict[str, Bill] = {}

    async def open_bill(
        self, *, amount, currency, operator, terminal_id=None, idempotency_key=None
    ):
        now = self.clock.now()
        bill = Bill(
            id=f"bill_20261128_{len(self.all) + 1:010d}",
            merchant_id=self.settings.merchant_id,
            terminal_id=terminal_id or self.settings.terminal_id,
            operator=operator,
            amount=amount,
            currency=currency,
            status="open",
            created_at=now,
            updated_at=now,
        )
        self.all[bill.id] = bill
        return bill

    def _part(self, payment: Payment) -> BillPart:
        label = (
            "Cash"
            if payment.cash
            else (f"Card •••• {payment.card.last4}" if payment.card else "UPI QR")
        )
        return BillPart(
            payment_id=payment.id,
            method=payment.method,
            amount=payment.amount,
            status=payment.status,
            label=label,
            refunded=payment.amount_refunded,
            change=payment.cash.change if payment.cash else 0,
        )

    def get_bill(self, bill_id: str) -> Bill:
        bill = self.all[bill_id]
        parts = [self._part(self.gateway.get(p.payment_id)) for p in bill.parts]
        bill = bill.model_copy(update={"parts": parts})
        if bill.status == "open" and bill.paid == bill.amount:
            bill = bill.model_copy(update={"status": "paid"})
        self.all[bill_id] = bill
        return bill

    async def pay_bill(self, bill_id: str, /, req: ChargeRequest) -> Bill:
        bill = self.get_bill(bill_id)
        waiting = sum(p.amount for p in bill.parts if p.status == "pending")
        if req.amount > bill.balance - waiting:
            raise BillError("more than the balance")
        payment = await self.gateway.charge(req.model_copy(update={"bill_id": bill_id}))
        self.all[bill_id] = bill.model_copy(update={"parts": [*bill.parts, self._part(payment)]})
        return self.get_bill(bill_id)

    async def cancel_bill(self, bill_id: str, /, *, operator, approval=None) -> Bill:
        bill = self.get_bill(bill_id)
        taken = [p for p in bill.parts if p.status == "succeeded"]
        if taken and approval is None:
            raise NotPermitted(
                "canceling the bill gives back what was taken: a manager must approve"
            )
        if taken and approval.pin != "4321":
            raise NotPermitted("wrong manager ID or PIN")
        for part in taken:
            if part.method == "cash":
                shifts = self.gateway.shifts
                paid = shifts.payments[part.payment_id]
                shifts.payments[part.payment_id] = paid.model_copy(
                    update={"amount_refunded": paid.amount}
                )
            else:
                await self.gateway.refund(part.payment_id, operator=operator, approval=approval)
        self.all[bill_id] = self.get_bill(bill_id).model_copy(
            update={
                "status": "canceled",
                "canceled_by": operator,
                "approved_by": approval.user_id if approval and taken else None,
            }
        )
        return self.all[bill_id]


def install(app: Any) -> None:
    """The fakes on the app's gateway, unless it takes cash itself."""
    gateway = app.wiring.gateway()
    if "cash" in gateway.tenders:
        return
    fake = FakeShifts(gateway, app.settings, app.rt.clock)
    real_charge, real_get = gateway.charge, gateway.get

    async def charge(req):
        return await fake.charge(req, real_charge)

    gateway.shifts = fake
    real_refresh, real_cancel = gateway.refresh, gateway.cancel

    async def refresh(pid):
        return await fake.refresh(pid, real_refresh)

    async def cancel(pid, **kw):
        return await fake.cancel(pid, real_cancel, **kw)

    gateway.refresh, gateway.cancel = refresh, cancel
    gateway.bills = FakeBills(gateway, app.settings, app.rt.clock)
    gateway.charge = charge
    gateway.get = lambda pid: fake.payments.get(pid) or real_get(pid)
