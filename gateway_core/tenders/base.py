"""What every tender may use: `moved` (a change and its audit event in one durable
step), and the refusals of a method that cannot do a step (`Refusals`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Protocol

from gateway_core.payments import NotAllowed, Payment
from gateway_core.ports import Refunded, TenderHost


def moved(
    host: TenderHost,
    payment: Payment,
    update: dict[str, Any],
    actor: str,
    action: str,
    **details: Any,
) -> Payment:
    """`payment` saved with `update`, and the audit event `action` by `actor` about it,
    in one durable step: the payment as saved."""
    with host.step(payment.id):
        payment = host.save(payment.model_copy(update=update))
        host.record(actor, action, payment.id, **details)
    return payment


PREAUTH_DAYS = 7  # a pre-authorization not captured by then is voided by repair


class Holding(Protocol):
    """A tender that holds money until captured (cards, at the acquirer or a processor)."""

    async def capture(
        self, host: TenderHost, payment: Payment, amount: int, operator: str
    ) -> Payment: ...

    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment: ...


async def settle_held(
    tender: Holding, host: TenderHost, payment: Payment, now: datetime
) -> str | None:
    """Repair of an authorized payment: a sale's capture retried, a pre-authorization
    older than PREAUTH_DAYS voided; what was done, None when nothing was."""
    if payment.capture_method == "automatic":
        fixed = await tender.capture(host, payment, payment.amount, "repair")
        return "captured" if fixed.status == "succeeded" else None
    if now - payment.created_at > timedelta(days=PREAUTH_DAYS):
        await tender.void(host, payment, "repair", None)
        return f"pre-authorization older than {PREAUTH_DAYS} days, voided"
    return None


def not_taken(host: TenderHost, payment: Payment, why: str, message: str) -> Payment:
    """Declined: the processor never took the payment, so there is nothing to undo."""
    update = {"status": "declined", "decline_code": "processing_error", "message": message}
    return moved(host, payment, update, "gateway", "payment.declined", reason=why)


class Refusals:
    """The steps a method without them refuses: OTP, capture, void, asking for status."""

    method: str

    async def confirm(
        self, host: TenderHost, payment: Payment, answer: str, operator: str
    ) -> Payment:
        raise NotAllowed(f"a {self.method} payment has nothing to confirm")

    async def resend(self, host: TenderHost, payment: Payment, operator: str) -> Payment:
        raise NotAllowed(f"a {self.method} payment has no code to send again")

    async def capture(
        self, host: TenderHost, payment: Payment, amount: int, operator: str
    ) -> Payment:
        raise NotAllowed(f"a {self.method} payment cannot be captured")

    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        raise NotAllowed(f"a {self.method} payment cannot be voided: refund it instead")

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        raise NotAllowed(f"a {self.method} payment cannot be refunded")

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        return None
