"""Webhook events, made from the audit log's events of payments and refunds.

Every state change of a payment is already an audit event, written in the same unit as
the change and in order (`gateway_core.audit`): the delivery worker reads them after
each endpoint's cursor and turns those below into webhook events, so a sale writes
nothing more on its path. An event's id comes from its audit event (the same for every
endpoint, attempt and replay); its payload shows the payment as the API does, without
its card beyond brand, BIN-6 and last-4 (no token, fingerprint or expiry).
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway_core.payments import Payment
from gateway_core.ports import Record

# audit action → webhook event type; "payment.captured" is also a sale captured at once
# (then "payment.succeeded", see `event_type`)
_TYPES = {
    "payment.succeeded": "payment.succeeded",
    "payment.captured": "payment.captured",
    "payment.declined": "payment.declined",
    "payment.reversed": "payment.declined",  # no answer in time: reversed, declined (91)
    "payment.blocked": "payment.declined",  # the risk rules refused it
    "payment.pending": "payment.pending",
    "payment.requires_action": "payment.requires_action",
    "payment.requires_capture": "payment.requires_capture",
    "payment.canceled": "payment.canceled",
    "payment.voided": "payment.canceled",
    "payment.expired": "payment.expired",
    "payment.refunded": "refund.succeeded",
    "upi.refund_pending": "refund.pending",
    "refund.failed": "refund.failed",
}
EVENT_TYPES = tuple(sorted(set(_TYPES.values())))
# the payment's status each payment event tells (the payment may have moved on since)
_STATUS = {k: k.removeprefix("payment.") for k in EVENT_TYPES if k.startswith("payment.")}
_STATUS["payment.captured"] = "succeeded"
TEST_TYPE = "webhook.test"  # what `paygate webhooks test` sends
# a payment's fields a merchant's endpoint receives (its card: `_CARD` only)
_FIELDS = (
    "id", "status", "method", "amount", "currency", "tip", "amount_captured",
    "amount_refunded", "capture_method", "response_code", "decline_code", "message",
    "auth_code", "rrn", "network", "funding", "country", "merchant_id", "terminal_id",
    "bill_id", "link_id", "processor", "processor_reference", "created_at", "updated_at",
)  # fmt: skip
_CARD = ("brand", "bin6", "last4")
_REFUND = ("id", "payment_id", "amount", "currency", "created_at")


def event_type(action: str, payment: Payment) -> str | None:
    """The webhook event of an audit action on `payment` (None: no event)."""
    kind = _TYPES.get(action)
    if kind == "payment.captured" and payment.capture_method == "automatic":
        return "payment.succeeded"  # a sale, captured at once
    return kind


def may_be_event(event: Record) -> bool:
    """Whether an audit event may make a webhook event (before the payment is read)."""
    return event.get("action") in _TYPES and str(event.get("subject", "")).startswith("pay_")


def event_id(audit_event: Record) -> str:
    """The webhook event's id: from its audit event's MAC (unique, never reused)."""
    return f"evt_{audit_event['mac'][:24]}"


def public_payment(payment: Payment) -> dict[str, Any]:
    """The payment as an endpoint receives it."""
    shown = payment.model_dump(mode="json", include=set(_FIELDS))
    shown["card"] = None if payment.card is None else {k: getattr(payment.card, k) for k in _CARD}
    shown["refunds"] = [r.model_dump(mode="json", include=set(_REFUND)) for r in payment.refunds]
    return shown


def payload(audit_event: Record, kind: str, payment: Payment) -> bytes:
    """The body of the webhook event made from `audit_event` (JSON, keys sorted: the same
    bytes on every attempt): the payment as stored now, in the status the event tells.
    A refund's event carries the refund, and the payment as it is."""
    shown = public_payment(payment)
    data: dict[str, Any] = {"object": {**shown, "status": _STATUS.get(kind, payment.status)}}
    if kind.startswith("refund."):
        details = audit_event.get("details", {})
        found = next((r for r in shown["refunds"] if r["id"] == details.get("refund")), None)
        refund = {"id": details.get("refund"), "payment_id": payment.id}
        data = {"object": found or refund, "payment": shown}
    body = {
        "id": event_id(audit_event),
        "object": "event",
        "type": kind,
        "created": audit_event["time"],
        "sequence": audit_event["seq"],
        "data": data,
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
