"""The cash tender: money handed over at the counter, into the drawer of the shift open
on the terminal.

due = the amount rounded to `settings.cash.rounding[currency]` (half up; the rounding is
its own line); tendered ≥ due; change = tendered − due. A cash payment succeeds at once,
its drawer move (a sale of `due`) written in the same durable step. A refund takes money
out of the drawer of the shift open on the payment's terminal, refused when that drawer
is expected to hold less. No void: refund instead (`Refusals`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gateway_core.errors import InputError
from gateway_core.money import normalize_currency
from gateway_core.payments import CashDetail, ChargeRequest, NotAllowed, Payment
from gateway_core.ports import Opened, Refunded, TenderHost
from gateway_core.presentation import money_text
from gateway_core.settings import Settings
from gateway_core.shift_models import Shift
from gateway_core.shifts import Shifts, not_open
from gateway_core.tenders.base import Refusals

MAX_TENDERED = 10**15  # minor units: what a request may carry at all


def round_half_up(amount: int, step: int) -> int:
    """`amount` to the nearest multiple of `step` (a half goes up); as is when step ≤ 1."""
    if step <= 1:
        return amount
    whole, rest = divmod(amount, step)
    return (whole + (2 * rest >= step)) * step


@dataclass(frozen=True)
class Change:
    """What the counter works out: the amount due after rounding, and the change."""

    due: int
    rounding: int  # due − amount (signed)
    tendered: int
    change: int  # tendered − due


def change_for(amount: int, tendered: int, currency: str, step: int) -> Change:
    """The change for `tendered` against `amount` rounded to `step`; `InputError` when
    less than due is handed over."""
    due = round_half_up(amount, step)
    if due <= 0:
        raise InputError(f"{money_text(amount, currency)} rounds to nothing: take it another way")
    if tendered < due:
        given, owed = money_text(tendered, currency), money_text(due, currency)
        raise InputError(f"tendered {given} is less than the {owed} due")
    return Change(due, due - amount, tendered, tendered - due)


@dataclass(frozen=True)
class CheckedCash:
    """A cash request as checked: the change and the shift whose drawer takes it."""

    change: Change
    shift: Shift


def _checked(checked: object) -> CheckedCash:
    assert isinstance(checked, CheckedCash)  # what `check` returned
    return checked


class CashTender(Refusals):
    """Cash into the drawer of the terminal's open shift (`Shifts`)."""

    method = "cash"

    def __init__(self, shifts: Shifts, settings: Settings) -> None:
        self._shifts = shifts
        self._settings = settings

    def check(self, req: ChargeRequest, today: date) -> CheckedCash:
        """An open shift on the terminal, paid at once, tendered at least the amount due."""
        if req.cash is None:
            raise InputError("a cash payment needs the amount tendered")
        if req.capture != "automatic":
            raise InputError("cash is paid at once: it has no manual capture")
        currency = normalize_currency(req.currency)
        if req.cash.tendered > MAX_TENDERED:
            raise InputError("the amount tendered is too large")
        terminal_id = req.terminal_id or self._settings.terminal_id
        shifts = self._shifts.of(req.merchant_id or self._settings.merchant_id)
        shift = shifts.current_shift(terminal_id)
        if shift is None:
            raise not_open(terminal_id)
        if shift.currency != currency:
            raise InputError(f"the drawer of {shift.id} takes {shift.currency}, not {currency}")
        step = self._settings.cash.rounding.get(currency, 0)
        return CheckedCash(change_for(req.amount, req.cash.tendered, currency, step), shift)

    def digest(self, checked: object) -> tuple[str, ...]:
        """The amount tendered and the shift."""
        cash = _checked(checked)
        return (str(cash.change.tendered), cash.shift.id)

    def open(self, checked: object) -> Opened:
        """The cash detail (no risk rules: nobody to tell apart)."""
        cash = _checked(checked)
        c = cash.change
        detail = CashDetail(
            tendered=c.tendered, change=c.change, rounding=c.rounding, shift_id=cash.shift.id
        )
        shown = {"tendered": str(c.tendered), "change": str(c.change), "shift": cash.shift.id}
        return Opened(detail={"cash": detail}, shown=shown)

    async def authorize(
        self, host: TenderHost, payment: Payment, checked: object, *, step_up: bool
    ) -> Payment:
        """Succeeded at once, the sale in the drawer in the same write (declined when the
        shift was closed in between)."""
        cash = _checked(checked)
        shifts = self._shifts.of(payment.merchant_id)
        shift = shifts.current_shift(payment.terminal_id)
        with host.step(payment.id):
            if shift is None or shift.id != cash.shift.id:
                return self._decline(host, payment, f"shift {cash.shift.id} was closed")
            c = cash.change
            paid = f"Paid in cash: change {money_text(c.change, payment.currency)}"
            update = {"status": "succeeded", "amount_captured": payment.amount, "message": paid}
            payment = host.save(payment.model_copy(update=update))
            move = shifts.move(
                shift, "sale", c.due, operator=payment.operator, payment_id=payment.id
            )
            host.record(
                payment.operator,
                "payment.succeeded",
                payment.id,
                tendered=c.tendered,
                change=c.change,
                rounding=c.rounding,
                shift=shift.id,
                move=move.id,
            )
        return payment

    def _decline(self, host: TenderHost, payment: Payment, why: str) -> Payment:
        """No money was taken into a drawer: declined."""
        message = f"Not taken: {why}"
        update = {"status": "declined", "decline_code": "no_shift", "message": message}
        payment = host.save(payment.model_copy(update=update))
        host.record("gateway", "payment.declined", payment.id, reason=why)
        return payment

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        """A cash payment left `unknown` (the process stopped before its step) took nothing
        into a drawer: declined."""
        if payment.status != "unknown":
            return None
        with host.step(payment.id):
            self._decline(host, payment, "the process stopped before the sale was recorded")
        return "declined (no cash was recorded)"

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        """Cash out of the drawer of the shift open on the payment's terminal (the same
        refund again: the move already made)."""
        shifts = self._shifts.of(payment.merchant_id)
        if (made := shifts.refund_move(refund_id)) is not None:
            return Refunded(made.amount)
        shift = shifts.current_shift(payment.terminal_id)
        if shift is None:
            raise not_open(payment.terminal_id)
        if shift.expected < amount:
            held = money_text(shift.expected, shift.currency)
            raise NotAllowed(
                f"the drawer of {shift.id} is expected to hold {held}: "
                f"less than the {money_text(amount, payment.currency)} refund"
            )
        with host.step(payment.id):
            shifts.move(
                shift,
                "refund",
                amount,
                operator="gateway",  # the refund's record names who asked and approved
                payment_id=payment.id,
                refund_id=refund_id,
            )
        return Refunded(amount)
