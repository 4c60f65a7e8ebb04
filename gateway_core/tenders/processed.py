"""A payment at a real processor (`payment.processor` set): where the provider's answer
puts it (`settle`), its attempts in the audit, and every step after the authorization
(capture, void, refund, finding out where it stands, a webhook's event), each at the
payment's own processor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway_core.errors import BankUnavailable
from gateway_core.payments import NotAllowed, Payment, reason_for
from gateway_core.ports import Refunded, TenderHost
from gateway_core.ports.connectors import Connector, ConnectorEvent, ConnectorResult
from gateway_core.states import TRANSITIONS, Status
from gateway_core.tenders.base import settle_held
from gateway_core.tenders.processors import Processors, attempt_key

OUTCOMES = {  # a provider's answer, as an attempt's outcome
    "succeeded": "approved",
    "requires_capture": "approved",
    "requires_action": "requires_action",
    "pending": "pending",
    "declined": "declined",
    "canceled": "canceled",
}


def attempted(
    host: TenderHost,
    payment: Payment,
    processor: str,
    outcome: str,
    reason: str = "",
    *,
    failover: bool = False,
    update: dict[str, Any] | None = None,
) -> Payment:
    """One attempt that got no answer to settle on (`payment.attempt`: processor,
    outcome, reason; failover when the next processor is tried), with `update` of the
    payment, in one step; an update that says where the payment stands (declined,
    unknown) is audited as that move too."""
    with host.step(payment.id):
        if update:
            payment = host.save(payment.model_copy(update=update))
        details: dict[str, Any] = {"processor": processor, "outcome": outcome}
        details |= {"reason": reason} if reason else {}
        details |= {"failover": True} if failover else {}
        host.record("gateway", "payment.attempt", payment.id, **details)
        if update and "status" in update:
            moved = {"processor": processor, "response_code": payment.response_code}
            host.record("gateway", f"payment.{payment.status}", payment.id, **moved)
    return payment


def status_of(payment: Payment, result: ConnectorResult) -> Status:
    """Where `result` puts the payment: a UPI or net banking payment waiting for the
    customer's step elsewhere (their app, the bank's page) is `pending` in paygate's
    words, whatever the processor calls it."""
    if result.status == "requires_action" and payment.method in ("upi", "netbanking"):
        return "pending"
    return result.status


def moves(payment: Payment, result: ConnectorResult) -> bool:
    """Whether `result` changes where the payment stands (and may: the state machine)."""
    status = status_of(payment, result)
    return status != payment.status and status in TRANSITIONS[payment.status]


def acting(payment: Payment, message: str, url: str) -> dict[str, Any]:
    """Where the customer acts at the processor, kept where the payment's `next_action`
    reads it: a UPI payment's link, a net banking payment's page; a card's (3-D Secure)
    in its message."""
    if payment.upi is not None:
        return {"upi": payment.upi.model_copy(update={"link": url})}
    if payment.netbanking is not None:
        return {"netbanking": payment.netbanking.model_copy(update={"login_url": url})}
    return {"message": f"{message}: {url}"}


def write(
    host: TenderHost,
    processors: Processors,
    payment: Payment,
    result: ConnectorResult,
    actor: str,
    *,
    attempt: bool = False,
) -> Payment:
    """Inside a step: the payment moved where `result` puts it (its provider id filed),
    the attempt (when this answer is one) and the move audited, the risk rules told."""
    processor = payment.processor or ""
    captured = result.amount_captured or payment.amount if result.status == "succeeded" else 0
    message = result.message or reason_for(result.response_code).text
    if result.status in ("requires_action", "pending"):
        message = result.message or f"Waiting for the customer at {processor}"
    update = {
        "status": status_of(payment, result),
        "response_code": result.response_code,
        "decline_code": result.decline_code,
        "message": message,
        "amount_captured": captured,
        "processor_reference": result.reference or payment.processor_reference,
    }
    if result.action_url and result.status in ("requires_action", "pending"):
        update |= acting(payment, message, result.action_url)
    payment = host.save(payment.model_copy(update=update))
    if result.reference:
        processors.remember(processor, result.reference, payment.id, host.now())
    if attempt:
        outcome = OUTCOMES[result.status]
        host.record("gateway", "payment.attempt", payment.id, processor=processor, outcome=outcome)
    details: dict[str, Any] = {"processor": processor, "reference": result.reference}
    if captured:
        details |= {"amount": captured, "released": payment.amount - captured}
    action = "payment.captured" if captured else f"payment.{payment.status}"
    host.record(actor, action, payment.id, response_code=result.response_code, **details)
    if payment.status not in ("requires_action", "pending"):
        host.learn(payment)
    return payment


class AtProcessor:
    """The steps of payments made at real processors, each at its own."""

    def __init__(self, processors: Processors) -> None:
        self.processors = processors

    def _at(self, payment: Payment) -> tuple[Connector, str]:
        if payment.processor is None or payment.processor_reference is None:
            raise NotAllowed(f"payment {payment.id} has no payment at a processor")
        return self.processors.get(payment.processor), payment.processor_reference

    def settle(
        self, host: TenderHost, payment: Payment, result: ConnectorResult, actor: str
    ) -> Payment:
        """The authorization's answer (an attempt) stored and audited in one step."""
        with host.step(payment.id):
            return write(host, self.processors, payment, result, actor, attempt=True)

    async def capture(
        self, host: TenderHost, payment: Payment, amount: int, operator: str
    ) -> Payment:
        """Capture `amount` at the payment's processor (the rest is released); a sale
        whose capture fails stays authorized for repair, a manual one is told to retry."""
        connector, reference = self._at(payment)
        key = f"{attempt_key(payment.id, connector.name)}-capture"
        try:
            result = await connector.capture(reference, amount, key)
        except BankUnavailable as exc:
            host.record("gateway", "payment.capture_failed", payment.id, reason=str(exc))
            if payment.capture_method == "manual":
                raise BankUnavailable(f"the capture did not go through: {exc}; try again") from None
            update = {"message": "Authorized; capture will be retried"}
            return host.save(payment.model_copy(update=update))
        if result.status != "succeeded":
            raise NotAllowed(f"{connector.name} refused the capture: {result.message}")
        captured = result.amount_captured or amount
        with host.step(payment.id):
            done = {"status": "succeeded", "amount_captured": captured, "message": "Approved"}
            payment = host.save(payment.model_copy(update=done))
            host.record(
                operator,
                "payment.captured",
                payment.id,
                amount=captured,
                released=payment.amount - captured,
                processor=connector.name,
            )
        return payment

    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        """Release the authorization (or give up a payment waiting for the customer)."""
        connector, reference = self._at(payment)
        result = await connector.void(reference, f"{attempt_key(payment.id, connector.name)}-void")
        if result.status == "succeeded":
            raise NotAllowed(f"payment {payment.id} is already captured: refund it instead")
        if result.status != "canceled":
            raise NotAllowed(f"{connector.name} refused the void: {result.message}")
        waiting = payment.status in ("requires_action", "pending")
        update: dict[str, Any] = {"status": "canceled", "message": "Voided"}
        if waiting:
            update["message"] = "Canceled"
        else:
            update |= {"voided_by": operator, "approved_by": approver}
        with host.step(payment.id):
            payment = host.save(payment.model_copy(update=update))
            host.record(
                approver or operator,
                "payment.canceled" if waiting else "payment.voided",
                payment.id,
                released=payment.amount,
                approver=approver,
                requested_by=operator,
                processor=connector.name,
            )
        return payment

    async def refund(self, payment: Payment, refund_id: str, amount: int) -> Refunded:
        """Give `amount` back at the payment's processor (the refund's id is its
        idempotency key: a retry is the same refund)."""
        connector, reference = self._at(payment)
        refund = await connector.refund(reference, refund_id, amount, refund_id)
        if refund.status == "failed":
            raise NotAllowed(f"{connector.name} refused the refund")
        return Refunded(amount=refund.amount, reference=refund.reference)

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        """Settle what is open: a webhook's event waiting for it, a lost answer (asked
        by the attempt's idempotency key), a payment waiting at the processor, a sale's
        capture to retry, a pre-authorization older than 7 days."""
        if (event := self.processors.inbox.pop(payment.id, None)) is not None:
            return await self.apply(host, payment, event)
        if payment.status == "unknown":
            return await self._lost(host, payment)
        if payment.status in ("pending", "requires_action"):
            connector, reference = self._at(payment)
            result = await connector.status(reference=reference)
            if result is None or not moves(payment, result):
                return None
            with host.step(payment.id):
                payment = write(host, self.processors, payment, result, "repair")
            return f"{payment.processor}: {payment.status}"
        if payment.status == "requires_capture":
            return await settle_held(self, host, payment, now)
        return None

    async def _lost(self, host: TenderHost, payment: Payment) -> str | None:
        """An authorization whose answer was lost: found → that is the answer; known not
        to exist → declined (nothing was taken); still unknown → left for later."""
        processor = payment.processor or ""
        connector = self.processors.get(processor)
        result = await connector.status(idempotency_key=attempt_key(payment.id, processor))
        if result is None:
            reason = reason_for("91")
            update = {
                "status": "declined",
                "response_code": "91",
                "decline_code": reason.decline_code,
                "message": f"{processor} never took the payment",
            }
            attempted(host, payment, processor, "not_processed", update=update)
            return f"{processor}: not processed there, declined 91"
        with host.step(payment.id):
            payment = write(host, self.processors, payment, result, "repair", attempt=True)
        if payment.status == "requires_capture" and payment.capture_method == "automatic":
            payment = await self.capture(host, payment, payment.amount, "repair")
        return f"{processor}: found, {payment.status}"

    async def apply(self, host: TenderHost, payment: Payment, event: ConnectorEvent) -> str | None:
        """A verified webhook's event: the payment moved where it says (asking the
        processor when the event does not say), the event filed as taken and audited,
        in one step."""
        result = event.result
        if result is None:
            result = await self.processors.get(event.provider).status(reference=event.reference)
        changed = result is not None and moves(payment, result)
        with host.step(payment.id):
            if changed and result is not None:
                payment = write(host, self.processors, payment, result, "processor")
            self.processors.take(event, payment.id, host.now())
            host.record(
                "processor",
                "processor.webhook",
                payment.id,
                processor=event.provider,
                event=event.type,
                event_id=event.event_id,
                outcome=payment.status if changed else "no change",
            )
        return f"{event.provider} event {event.type}: {payment.status}" if changed else None
