"""Cashiers' shifts and their drawers (`ShiftsAPI`): open with a counted float, paid in
and paid out (a manager approves), the cash tender's sales and refunds, close with a
counted drawer (over / short; a short over the settings' limit needs a manager).

The shift record keeps the drawer's expected amount, updated in the same write as each
move. Audited: `shift.opened`, `shift.closed`, `drawer.paid_in`, `drawer.paid_out` (a
sale's or refund's move is audited with its payment)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import Literal

from gateway_core.access import Access, NotPermitted
from gateway_core.audit import AuditLog
from gateway_core.clock import Clock, business_day
from gateway_core.payments import Payment
from gateway_core.ports import Approval, ShiftRepository
from gateway_core.presentation import money_text
from gateway_core.settings import Settings
from gateway_core.shift_models import (
    DENOMINATIONS,
    Count,
    DrawerMove,
    MoveKind,
    Shift,
    ShiftError,
    ShiftReport,
    count_total,
)

MAX_PIECES = 100_000  # of one denomination in a drawer
MAX_REASON = 80
MAX_CASHIER = 32  # a user id's longest


def denominations(currency: str) -> tuple[int, ...]:
    """The notes and coins a currency's drawer is counted in (one total if not listed)."""
    return DENOMINATIONS.get(currency, (1,))


def check_count(count: Count, currency: str) -> Count:
    """A count with only the currency's denominations and whole pieces (no empty ones),
    largest first; `ShiftError` otherwise."""
    known = denominations(currency)
    for value, pieces in count.items():
        if value not in known:
            raise ShiftError(f"{money_text(value, currency)} is not a {currency} note or coin")
        if not 0 <= pieces <= MAX_PIECES:
            raise ShiftError(f"a count is 0 to {MAX_PIECES} pieces of each note or coin")
    return {value: count[value] for value in known if count.get(value)}


def not_open(terminal_id: str) -> ShiftError:
    """The refusal of cash where no shift is open."""
    return ShiftError(f"no shift is open on {terminal_id}: open one first (paygate shift open)")


class Shifts:
    """One merchant's shifts (the settings' by default; `of` for another's)."""

    def __init__(
        self,
        repo: ShiftRepository,
        settings: Settings,
        audit: AuditLog,
        clock: Clock,
        access: Access | None = None,
        today: Callable[[str], date] | None = None,
        payment: Callable[[str], Payment] | None = None,
        new_id: Callable[[str], str] | None = None,
        *,
        merchant_id: str | None = None,
    ) -> None:
        """`repo`: where shifts are stored; `access`: who approves (None: no
        approvals); `today`: a merchant's business day (moved on by its Z; the calendar's
        by default); `payment`: a payment by id (a report's rounding line)."""
        self._repo = repo
        self._settings = settings
        self._audit = audit
        self._clock = clock
        self._access = access
        self._today = today
        self._payment = payment
        self._new_id = new_id or (lambda prefix: f"{prefix}_{secrets.token_hex(5)}")
        self.merchant_id = merchant_id or settings.merchant_id

    def of(self, merchant_id: str) -> Shifts:
        """Another merchant's shifts, over the same store."""
        if merchant_id == self.merchant_id:
            return self
        return Shifts(
            self._repo,
            self._settings,
            self._audit,
            self._clock,
            access=self._access,
            today=self._today,
            payment=self._payment,
            new_id=self._new_id,
            merchant_id=merchant_id,
        )

    def today(self) -> date:
        """The merchant's business day now."""
        if self._today is not None:
            return self._today(self.merchant_id)
        return business_day(self._clock, self._settings.tz)

    # -- reading -------------------------------------------------------------------------
    def current_shift(self, terminal_id: str | None = None) -> Shift | None:
        """The open shift on a terminal (the settings' by default), None when none."""
        found = self._repo.open_on(self.merchant_id, terminal_id or self._settings.terminal_id)
        return None if found is None else Shift.model_validate(found)

    def get(self, shift_id: str) -> Shift:
        """One of the merchant's shifts (`ShiftError` for another's or an unknown id)."""
        found = self._repo.get(shift_id)
        if found is None or found["merchant_id"] != self.merchant_id:
            raise ShiftError(f"no shift {shift_id}")
        return Shift.model_validate(found)

    def shifts(self, day: date | None = None) -> list[Shift]:
        """The shifts opened on a business day (today by default) and those still open,
        oldest first."""
        found = self._repo.of_merchant(self.merchant_id, day or self.today())
        return [Shift.model_validate(r) for r in found]

    def open_shifts(self, day: date | None = None) -> list[Shift]:
        """The merchant's open shifts (opened on or before `day` when given)."""
        found = [Shift.model_validate(r) for r in self._repo.of_merchant(self.merchant_id)]
        return [s for s in found if s.status == "open" and (day is None or s.day <= day)]

    def still_open(self, day: date) -> list[str]:
        """The shifts open since `day` or before, one name each ("shf_… on TERM0001,
        asha"): what a Z of that day refuses to close over (`Settlement.close_day`)."""
        return [f"{s.id} on {s.terminal_id}, {s.cashier}" for s in self.open_shifts(day)]

    def refund_move(self, refund_id: str) -> DrawerMove | None:
        """The move that paid a refund out of a drawer, None when none did."""
        found = self._repo.refund_move(refund_id)
        return None if found is None else DrawerMove.model_validate(found)

    def shift_report(self, shift_id: str, /) -> ShiftReport:
        """A shift with its drawer's moves and totals."""
        shift = self.get(shift_id)
        moves = [DrawerMove.model_validate(r) for r in self._repo.moves(shift_id)]
        sales = [m for m in moves if m.kind == "sale"]
        refunds = [m for m in moves if m.kind == "refund"]
        rounding = 0
        for move in sales:
            cash = (
                self._payment(move.payment_id).cash if self._payment and move.payment_id else None
            )
            rounding += cash.rounding if cash else 0
        return ShiftReport(
            shift=shift,
            sales_count=len(sales),
            sales=sum(m.amount for m in sales),
            rounding=rounding,
            refunds_count=len(refunds),
            refunds=sum(m.amount for m in refunds),
            paid_in=sum(m.amount for m in moves if m.kind == "paid_in"),
            paid_out=sum(m.amount for m in moves if m.kind == "paid_out"),
            moves=moves,
        )

    # -- the drawer ------------------------------------------------------------------------
    def _open(self, shift_id: str) -> Shift:
        shift = self.get(shift_id)
        if shift.status != "open":
            raise ShiftError(f"shift {shift_id} is closed")
        return shift

    def _approve(
        self, action: str, subject: str, operator: str, approval: Approval | None, why: str
    ) -> str | None:
        """A manager's approval, checked and audited; None when no access control."""
        if self._access is None:
            return None
        if approval is None:
            raise NotPermitted(f"{why} needs a manager's approval (ID and PIN)")
        access = self._access.of(self.merchant_id)
        return access.approve(
            approval.user_id, approval.pin, action=action, subject=subject, operator=operator
        ).id

    def move(
        self,
        shift: Shift,
        kind: MoveKind,
        amount: int,
        *,
        operator: str,
        payment_id: str | None = None,
        refund_id: str | None = None,
        reason: str = "",
        approver: str | None = None,
    ) -> DrawerMove:
        """File a move of the shift's drawer and its new expected amount, one write (the
        cash tender calls it inside its payment's durable step)."""
        move = DrawerMove(
            id=self._new_id("dm"),
            shift_id=shift.id,
            kind=kind,
            amount=amount,
            payment_id=payment_id,
            refund_id=refund_id,
            reason=reason,
            operator=operator,
            approver=approver,
            at=self._clock.now(),
        )
        if kind == "float":
            self._repo.add(shift.model_dump(mode="json"), move.model_dump(mode="json"))
            return move
        out = kind in ("refund", "paid_out")
        expected = shift.expected + (-amount if out else amount)
        self._repo.add_move(move.model_dump(mode="json"), expected)
        return move

    async def open_shift(
        self, *, count: Count, cashier: str, terminal_id: str | None = None
    ) -> Shift:
        """Open a shift on the terminal with its counted float."""
        terminal_id = terminal_id or self._settings.terminal_id
        if not 1 <= len(terminal_id) <= 8:
            raise ShiftError("a terminal id has 1 to 8 characters")
        if not 1 <= len(cashier.strip()) <= MAX_CASHIER:
            raise ShiftError(f"a shift's cashier is a user id of 1 to {MAX_CASHIER} characters")
        currency = self._settings.currency
        count = check_count(count, currency)
        if (open_one := self.current_shift(terminal_id)) is not None:
            raise ShiftError(
                f"shift {open_one.id} is already open on {terminal_id}: close it first"
            )
        day, now, float_amount = self.today(), self._clock.now(), count_total(count)
        shift = Shift(
            id=self._new_id(f"shf_{day:%Y%m%d}"),
            merchant_id=self.merchant_id,
            terminal_id=terminal_id,
            cashier=cashier,
            currency=currency,
            status="open",
            day=day,
            opened_at=now,
            opening=count,
            float_amount=float_amount,
            expected=float_amount,
        )
        self.move(shift, "float", float_amount, operator=cashier)  # the shift with it
        self._audit.record(
            cashier, "shift.opened", shift.id, terminal=terminal_id, float=float_amount
        )
        return self.get(shift.id)

    async def move_cash(
        self,
        shift_id: str,
        /,
        *,
        kind: Literal["paid_in", "paid_out"],
        amount: int,
        reason: str,
        operator: str,
        approval: Approval | None = None,
    ) -> DrawerMove:
        """Put cash in or take it out of the drawer with a reason, a manager approving;
        a paid out never takes more than the drawer is expected to hold."""
        if kind not in ("paid_in", "paid_out"):
            raise ShiftError("a cash move is paid_in or paid_out")
        reason = reason.strip()
        if not 1 <= len(reason) <= MAX_REASON:
            raise ShiftError(f"a {kind.replace('_', ' ')} needs a reason of 1 to 80 characters")
        if amount <= 0:
            raise ShiftError("the amount must be more than zero")
        shift = self._open(shift_id)
        if kind == "paid_out" and amount > shift.expected:
            held = money_text(shift.expected, shift.currency)
            raise ShiftError(f"the drawer of {shift_id} is expected to hold {held}: not more")
        what = "a paid in" if kind == "paid_in" else "a paid out"
        approver = self._approve(kind, shift_id, operator, approval, what)
        move = self.move(shift, kind, amount, operator=operator, reason=reason, approver=approver)
        self._audit.record(
            approver or operator,
            f"drawer.{kind}",
            shift_id,
            move=move.id,
            amount=amount,
            reason=reason,
            approver=approver,
            requested_by=operator,
        )
        return move

    async def close_shift(
        self, shift_id: str, /, *, count: Count, operator: str, approval: Approval | None = None
    ) -> ShiftReport:
        """Close it with the counted drawer: over / short against expected, audited; a
        short over the settings' limit needs a manager's approval."""
        shift = self._open(shift_id)
        count = check_count(count, shift.currency)
        counted = count_total(count)
        over_short = counted - shift.expected
        approver = None
        limit = self._settings.cash.short_approval_over.get(shift.currency)
        if limit is not None and -over_short > limit:
            short = money_text(-over_short, shift.currency)
            why = f"a short of {short} (over {money_text(limit, shift.currency)})"
            approver = self._approve("shift_short", shift_id, operator, approval, why)
        self._close(shift, operator, approver, count, counted)
        return self.shift_report(shift_id)

    def close_uncounted(self, shifts: list[Shift], *, operator: str, approver: str) -> None:
        """Close open shifts without a count (the Z of their day, a manager approving):
        their over / short is left unknown, marked "not counted"."""
        for shift in shifts:
            self._close(shift, operator, approver, None, None)

    def _close(
        self,
        shift: Shift,
        operator: str,
        approver: str | None,
        count: Count | None,
        counted: int | None,
    ) -> None:
        over_short = None if counted is None else counted - shift.expected
        self._repo.update(
            shift.id,
            {
                "status": "closed",
                "closed_at": self._clock.now().isoformat(),
                "closing": None if count is None else {str(k): v for k, v in count.items()},
                "counted": counted,
                "over_short": over_short,
                "closed_by": operator,
                "approved_by": approver,
            },
        )
        self._audit.record(
            approver or operator,
            "shift.closed",
            shift.id,
            expected=shift.expected,
            counted=counted,
            over_short=over_short,
            approver=approver,
            requested_by=operator,
            **({} if count is not None else {"note": "not counted"}),
        )
