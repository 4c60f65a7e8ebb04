"""paygate's payments and refunds in Stripe's shapes: a PaymentIntent IS a paygate
payment, under a stable id mapping (`pay_20261207_ab12cd34ef` is
`pi_20261207_ab12cd34ef`; its charge `ch_20261207_ab12cd34ef`); a Refund is a paygate
refund under its own id (`re_20261207_ab12cd34ef_1`). A draft (`stripe_drafts`) has
its own shape until a confirm makes it a payment.

`STATUSES` maps the states: a declined payment is `requires_payment_method` with its
`last_payment_error`, as a declined PaymentIntent is at Stripe; `unknown` (the bank's
answer not in yet) is `processing`; a UPI or redirect payment waiting for the customer
is `requires_action`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway_core.audit import mask_card_numbers
from gateway_core.payments import Payment, RefundRecord, reason_for
from gateway_core.service.stripe_drafts import Draft
from gateway_core.states import Status

STATUSES: dict[Status, str] = {
    "unknown": "processing",
    "requires_action": "requires_action",
    "pending": "requires_action",
    "requires_capture": "requires_capture",
    "succeeded": "succeeded",
    "declined": "requires_payment_method",
    "canceled": "canceled",
    "expired": "canceled",
}
# Decline codes Stripe reports as the error's own code (the rest are card_declined).
OWN_CODES = {"expired_card", "incorrect_cvc", "processing_error", "incorrect_number"}
Json = dict[str, Any]


def intent_id(payment_id: str) -> str:
    """The PaymentIntent id of a paygate payment."""
    return "pi_" + payment_id.removeprefix("pay_")


def payment_id(object_id: str) -> str | None:
    """The paygate payment a PaymentIntent (pi_) or charge (ch_) id names (None: neither)."""
    for prefix in ("pi_", "ch_"):
        if object_id.startswith(prefix) and len(object_id) <= 64:
            return "pay_" + object_id.removeprefix(prefix)
    return None


def refund_payment(refund_id: str) -> str | None:
    """The payment a refund id belongs to (re_DAY_ID_N → pay_DAY_ID)."""
    base, _, n = refund_id.removeprefix("re_").rpartition("_")
    ok = refund_id.startswith("re_") and base and n.isdigit() and len(refund_id) <= 64
    return f"pay_{base}" if ok else None


def _masked(metadata: dict[str, str] | None) -> dict[str, str]:
    """Metadata as echoed: a card number in it masked (it is never kept)."""
    return {mask_card_numbers(k): mask_card_numbers(v) for k, v in (metadata or {}).items()}


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _charge(p: Payment) -> str | None:
    return None if p.status == "unknown" else "ch_" + p.id.removeprefix("pay_")


def decline(p: Payment) -> Json:
    """A declined payment's error hash (`last_payment_error`, and a 402's `error`)."""
    decline_code = p.decline_code or "generic_decline"
    code = decline_code if decline_code in OWN_CODES else "card_declined"
    return {
        "type": "card_error",
        "code": code,
        "decline_code": decline_code,
        "message": p.message or reason_for(p.response_code).text,
        "charge": _charge(p),
    }


def _next_action(p: Payment) -> Json | None:
    action = p.next_action
    if action is None:
        return None
    if action.type == "otp":  # the cardholder's code: confirm with `paygate_otp`
        expires = _ts(action.expires_at) if action.expires_at else None
        return {"type": "paygate_otp", "paygate_otp": {"expires_at": expires}}
    if action.url is not None:
        return {"type": "redirect_to_url", "redirect_to_url": {"url": action.url}}
    return {"type": f"paygate_{action.type}", f"paygate_{action.type}": {"link": action.link}}


def _base(
    object_id: str,
    amount: int,
    currency: str,
    capture: str,
    created: int,
    description: str | None,
    metadata: dict[str, str] | None,
) -> Json:
    return {
        "id": object_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture,
        "client_secret": None,
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency.lower(),
        "description": mask_card_numbers(description) if description else None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": _masked(metadata),
        "next_action": None,
        "payment_method": None,
        "payment_method_types": ["card"],
    }


def intent(
    p: Payment, description: str | None = None, metadata: dict[str, str] | None = None
) -> Json:
    """A payment as a PaymentIntent (description and metadata: as just given; paygate
    keeps neither)."""
    created = _ts(p.created_at)
    shown = _base(
        intent_id(p.id), p.amount, p.currency, p.capture_method, created, description, metadata
    )
    status = STATUSES[p.status]
    if status == "canceled":
        shown["canceled_at"] = _ts(p.updated_at)
        shown["cancellation_reason"] = "requested_by_customer" if p.voided_by else "abandoned"
    return shown | {
        "amount_capturable": p.amount if p.status == "requires_capture" else 0,
        "amount_received": p.amount_captured,
        "last_payment_error": decline(p) if p.status == "declined" else None,
        "latest_charge": _charge(p),
        "next_action": _next_action(p),
        "payment_method_types": [p.method],
        "status": status,
        "paygate": {"payment_id": p.id, "status": p.status, "response_code": p.response_code},
    }


def draft_intent(
    draft: Draft,
    canceled: bool,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Json:
    """A PaymentIntent not confirmed yet (`stripe_drafts`)."""
    d = draft
    shown = _base(d.id, d.amount, d.currency, d.capture, d.created, description, metadata)
    status = "requires_confirmation" if d.method else "requires_payment_method"
    if canceled:
        status = "canceled"
        shown["cancellation_reason"] = "requested_by_customer"
    return shown | {
        "payment_method": d.method,
        "status": status,
        "paygate": {"payment_id": None, "status": None, "response_code": None},
    }


def refund(
    r: RefundRecord, reason: str | None = None, metadata: dict[str, str] | None = None
) -> Json:
    """A paygate refund as a Stripe Refund (reason and metadata: as just given)."""
    return {
        "id": r.id,
        "object": "refund",
        "amount": r.amount,
        "balance_transaction": None,
        "charge": "ch_" + r.payment_id.removeprefix("pay_"),
        "created": _ts(r.created_at),
        "currency": r.currency.lower(),
        "metadata": _masked(metadata),
        "payment_intent": intent_id(r.payment_id),
        "reason": reason,
        "status": "succeeded",
    }


def listed(url: str, data: list[Json], has_more: bool) -> Json:
    """Stripe's list envelope."""
    return {"object": "list", "url": url, "has_more": has_more, "data": data}
