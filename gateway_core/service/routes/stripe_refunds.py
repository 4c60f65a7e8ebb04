"""Refunds of the Stripe-compatible API: create is `Gateway.refund` (part or all of what
is left, several times; a manager approves in the `Paygate-Approval: ID:PIN` header, as
every paygate refund needs), retrieve and list read the payment's refunds.
"""

from __future__ import annotations

from starlette.responses import Response

from gateway_core.errors import InputError
from gateway_core.gateway import NotAllowed, UnknownPayment
from gateway_core.payments import Payment, RefundRecord
from gateway_core.service.stripe_calls import Call, Done, answer
from gateway_core.service.stripe_errors import StripeError, from_paygate, missing
from gateway_core.service.stripe_form import invalid
from gateway_core.service.stripe_lists import after, paging, window
from gateway_core.service.stripe_lookup import paid, unexpected
from gateway_core.service.stripe_shapes import listed, refund, refund_payment

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _payment(call: Call) -> Payment:
    """The caller's payment `payment_intent` (or `charge`) names."""
    p = call.params
    pi, charge = p.text("payment_intent", max_len=64), p.text("charge", max_len=64)
    if pi is not None and charge is not None:
        raise invalid("charge", "give payment_intent or charge, not both")
    if charge is not None:
        return paid(call, charge, "charge")
    if pi is None:
        text = "Missing required param: payment_intent."
        raise invalid("payment_intent", text, "parameter_missing")
    return paid(call, pi, "payment_intent")


def _one(call: Call, refund_id: str) -> RefundRecord:
    payment_id = refund_payment(refund_id)
    try:
        payment = call.terminal.owned(payment_id) if payment_id else None
    except UnknownPayment:
        payment = None
    found = [r for r in payment.refunds if r.id == refund_id] if payment else []
    if not found:
        raise missing("refund", refund_id)
    return found[0]


async def create(call: Call) -> Done:
    """POST /v1/refunds: `payment_intent` (or `charge`), `amount` (default: what is left)."""
    payment = _payment(call)
    p = call.params
    amount = p.amount("amount")
    reason, metadata = p.choice("reason", REASONS), p.metadata()
    p.ignore("expand")
    p.done()
    if payment.status == "succeeded" and payment.refundable == 0:
        text = f"Charge for {payment.id} has already been refunded."
        raise StripeError(400, "invalid_request_error", "charge_already_refunded", text)
    before = {r.id for r in payment.refunds}
    try:
        done = await call.gateway.refund(
            payment.id, amount, operator=call.operator, approval=call.approval()
        )
    except NotAllowed as exc:
        raise unexpected(payment, exc) from None
    except InputError as exc:
        raise from_paygate(exc, "amount") from None
    made = [r for r in done.refunds if r.id not in before] or done.refunds[-1:]
    return Done(made[-1].id, answer(refund(made[-1], reason, metadata)))


async def retrieve(call: Call) -> Response:
    """GET /v1/refunds/{refund}."""
    call.params.ignore("expand")
    call.params.done()
    return answer(refund(_one(call, call.path("refund"))))


async def list_all(call: Call) -> Response:
    """GET /v1/refunds?payment_intent=pi_...: a payment's refunds, newest first."""
    payment = _payment(call)
    page = paging(call.params)
    call.params.ignore("expand")
    call.params.done()
    newest = [r for r in reversed(payment.refunds) if page.within(int(r.created_at.timestamp()))]
    shown, more = window(after(newest, lambda r: r.id, page.starting_after), lambda r: r.id, page)
    return answer(listed("/v1/refunds", [refund(r) for r in shown], more))


def replay(call: Call, object_id: str) -> Response:
    """A refund answered again."""
    return answer(refund(_one(call, object_id)))
