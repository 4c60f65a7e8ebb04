"""PaymentIntents of the Stripe-compatible API, each on the gateway's own operation:
create (with `confirm=true`) is `Gateway.charge`, capture is `capture`, cancel is
`cancel` (waiting for the customer) or `void` (authorized: a manager approves, in the
`Paygate-Approval` header), retrieve is `get`, list reads the days' payment pages.
"""

from __future__ import annotations

from datetime import datetime
from itertools import takewhile

from starlette.responses import Response

from gateway_core.cards import CardInput
from gateway_core.errors import InputError, RecordConflict
from gateway_core.gateway import ChargeRequest, NotAllowed, UnknownPayment
from gateway_core.money import normalize_currency
from gateway_core.payment_records import with_refunds
from gateway_core.payments import Payment
from gateway_core.service.routes.payments import outcome
from gateway_core.service.stripe_calls import Call, Done, answer
from gateway_core.service.stripe_errors import StripeError, from_paygate, missing
from gateway_core.service.stripe_form import Params, invalid
from gateway_core.service.stripe_lists import (
    cursor_of,
    newest_payments,
    paging,
    window,
)
from gateway_core.service.stripe_methods import card_data, test_method
from gateway_core.service.stripe_shapes import (
    STATUSES,
    decline,
    intent,
    intent_id,
    listed,
    payment_id,
)

# Accepted and without effect here (cards only; no receipts, descriptors or customers).
IGNORED = (
    "expand",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "automatic_payment_methods",
    "return_url",
)
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


def owned(call: Call, object_id: str, param: str = "intent") -> Payment:
    """The caller's payment a pi_ (or ch_) id names; another's or none: 404."""
    found = payment_id(object_id)
    try:
        if found is None:
            raise UnknownPayment(object_id)
        return call.terminal.owned(found)
    except UnknownPayment:
        raise missing("payment_intent", object_id, param) from None


def confirmed(
    payment: Payment, description: str | None = None, metadata: dict[str, str] | None = None
) -> Response:
    """A confirmed PaymentIntent; declined, it is Stripe's 402 `card_error` with it."""
    body = intent(payment, description, metadata)
    if payment.status == "declined":
        return answer({"error": {**decline(payment), "payment_intent": body}}, 402)
    return answer(body)


def unexpected(payment: Payment, exc: NotAllowed) -> StripeError:
    """Stripe's `payment_intent_unexpected_state`, with the PaymentIntent."""
    error = from_paygate(exc)
    error.extra["payment_intent"] = intent(payment)
    return error


def _card(params: Params) -> CardInput | None:
    method = params.text("payment_method", max_len=100)
    data = params.nested("payment_method_data")
    if method is not None and data is not None:
        raise invalid("payment_method_data", "give payment_method or payment_method_data, not both")
    if method is not None:
        return test_method(method)
    return None if data is None else card_data(data)


def _currency(text: str) -> str:
    try:
        return normalize_currency(text)
    except InputError:
        raise invalid("currency", "Invalid currency: use an ISO 4217 code paygate knows") from None


async def create(call: Call) -> Done:
    """POST /v1/payment_intents: a card payment, confirmed at once."""
    p = call.params
    amount = p.amount("amount", required=True) or 0
    currency = _currency(p.text("currency", required=True, max_len=3) or "")
    capture = p.choice("capture_method", CAPTURE_METHODS)
    confirm = p.flag("confirm")
    description, metadata = p.text("description"), p.metadata()
    if p.strings("payment_method_types") not in ([], ["card"]):
        raise invalid("payment_method_types", "paygate takes card PaymentIntents only")
    card = _card(p)
    p.ignore(*IGNORED)
    p.done()
    if not confirm:
        text = "paygate confirms a PaymentIntent as it creates it: pass confirm=true"
        raise invalid("confirm", text)
    if card is None:
        raise invalid(
            "payment_method", "Missing required param: payment_method.", "parameter_missing"
        )
    merchant, sent = call.terminal.merchant_id, call.request.headers.get("idempotency-key")
    req = ChargeRequest(
        amount=amount,
        currency=currency,
        card=card,
        capture="manual" if capture == "manual" else "automatic",
        terminal_id=call.terminal.key.terminal_id,
        merchant_id=merchant,
        idempotency_key=f"{merchant}/stripe-charge:{sent}" if sent else None,
        operator=call.operator,
    )
    try:
        payment = await call.gateway.charge(req)
    except RecordConflict:  # another gateway process took the same key at the same time
        if req.idempotency_key is None:
            raise
        known = await call.gateway.charge(req)
        payment = await outcome(call.gateway, known, call.terminal.rt.settings.bank_timeout_s)
    except InputError as exc:  # a plain one is about the amount (its limits)
        raise from_paygate(exc, "amount" if type(exc) is InputError else None) from None
    return Done(payment.id, confirmed(payment, description, metadata))


async def confirm(call: Call) -> Done:
    """POST /v1/payment_intents/{intent}/confirm: every PaymentIntent here was confirmed
    when it was created (an OTP is paygate's own step: its `next_action`)."""
    payment = owned(call, call.path("intent"))
    status = STATUSES[payment.status]
    text = f"This PaymentIntent's status is {status}: paygate confirms one as it creates it."
    code = "payment_intent_unexpected_state"
    raise StripeError(400, "invalid_request_error", code, text, payment_intent=intent(payment))


async def capture(call: Call) -> Done:
    """POST /v1/payment_intents/{intent}/capture: all, or `amount_to_capture`."""
    payment = owned(call, call.path("intent"))
    amount = call.params.amount("amount_to_capture")
    call.params.ignore("expand", "metadata", "final_capture", "statement_descriptor")
    call.params.done()
    try:
        done = await call.gateway.capture(payment.id, amount, operator=call.operator)
    except NotAllowed as exc:
        raise unexpected(payment, exc) from None
    except InputError as exc:
        raise from_paygate(exc, "amount_to_capture") from None
    return Done(done.id, answer(intent(done)))


async def cancel(call: Call) -> Done:
    """POST /v1/payment_intents/{intent}/cancel: waiting for the customer, given up;
    authorized, voided (a manager approves: `Paygate-Approval: ID:PIN`)."""
    payment = owned(call, call.path("intent"))
    call.params.choice("cancellation_reason", CANCEL_REASONS)
    call.params.ignore("expand")
    call.params.done()
    try:
        if payment.status == "pending":
            done = await call.gateway.cancel(payment.id, operator=call.operator)
        else:
            done = await call.gateway.void(
                payment.id, operator=call.operator, approval=call.approval()
            )
    except NotAllowed as exc:
        raise unexpected(payment, exc) from None
    return Done(done.id, answer(intent(done)))


async def retrieve(call: Call) -> Response:
    """GET /v1/payment_intents/{intent}."""
    call.params.ignore("client_secret", "expand")
    call.params.done()
    return answer(intent(owned(call, call.path("intent"))))


async def list_all(call: Call) -> Response:
    """GET /v1/payment_intents: the merchant's, newest first (every method)."""
    page = paging(call.params)
    call.params.ignore("expand")
    call.params.done()
    rt, start = call.terminal.rt, None
    if page.starting_after is not None:
        start = cursor_of(rt.records, owned(call, page.starting_after, "starting_after").id)
    stored = newest_payments(rt.records, call.terminal.merchant_id, start)
    dated = ((r, int(datetime.fromisoformat(r["created_at"]).timestamp())) for r in stored)
    recent = takewhile(lambda pair: pair[1] >= page.created[0], dated)
    payments = (with_refunds(r, rt.records.refunds) for r, at in recent if page.within(at))
    shown, more = window(payments, lambda p: intent_id(p.id), page)
    return answer(listed("/v1/payment_intents", [intent(p) for p in shown], more))


def replay_confirmed(call: Call, object_id: str) -> Response:
    """A create answered again: the PaymentIntent as it is now (402 if declined)."""
    return confirmed(call.gateway.get(object_id))


def replay(call: Call, object_id: str) -> Response:
    """A capture or cancel answered again: the PaymentIntent as it is now."""
    return answer(intent(call.gateway.get(object_id)))
