"""PaymentIntents of the Stripe-compatible API, each on the gateway's own operation:
create with `confirm=true` (or the confirm of a draft, `stripe_drafts`) is
`Gateway.charge`, capture is `capture`, cancel is `cancel` (waiting for the customer)
or `void` (authorized: a manager approves, in the `Paygate-Approval` header), retrieve
is `get`, list reads the days' payment pages (drafts are not listed).
"""

from __future__ import annotations

from datetime import datetime
from itertools import takewhile

from starlette.responses import Response

from gateway_core.cards import CardInput
from gateway_core.errors import InputError, RecordConflict
from gateway_core.gateway import ChargeRequest, NotAllowed
from gateway_core.money import normalize_currency
from gateway_core.payment_records import with_refunds
from gateway_core.payments import Payment
from gateway_core.service.routes.payments import outcome
from gateway_core.service.stripe_calls import Call, Done, answer
from gateway_core.service.stripe_drafts import MAX_ATTEMPTS, Drafts
from gateway_core.service.stripe_errors import StripeError, from_paygate
from gateway_core.service.stripe_form import Params, invalid
from gateway_core.service.stripe_lists import (
    cursor_of,
    newest_payments,
    paging,
    window,
)
from gateway_core.service.stripe_lookup import (
    UNEXPECTED,
    confirmed,
    drafts,
    found,
    owned,
    paid,
    unexpected,
)
from gateway_core.service.stripe_methods import card_data, test_method
from gateway_core.service.stripe_shapes import draft_intent, intent, intent_id, listed

# Accepted and without effect here (cards only; no receipts, descriptors or customers).
IGNORED = (
    "expand",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "automatic_payment_methods",
    "return_url",
)
MISSING_METHOD = "Missing required param: payment_method."
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


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
    """POST /v1/payment_intents: a card payment confirmed at once, or a draft."""
    p = call.params
    amount = p.amount("amount", required=True) or 0
    currency = _currency(p.text("currency", required=True, max_len=3) or "")
    capture = p.choice("capture_method", CAPTURE_METHODS)
    confirm = p.flag("confirm")
    description, metadata = p.text("description"), p.metadata()
    if p.strings("payment_method_types") not in ([], ["card"]):
        raise invalid("payment_method_types", "paygate takes card PaymentIntents only")
    p.ignore(*IGNORED)
    if not confirm:
        return _draft(call, amount, currency, capture == "manual", p, description, metadata)
    card = _card(p)
    p.done()
    if card is None:
        raise invalid("payment_method", MISSING_METHOD, "parameter_missing")
    sent = call.request.headers.get("idempotency-key")
    key = f"{call.terminal.merchant_id}/stripe-charge:{sent}" if sent else None
    payment = await _charge(call, amount, currency, capture == "manual", card, key)
    return Done(payment.id, confirmed(payment, description, metadata))


def _draft(
    call: Call,
    amount: int,
    currency: str,
    manual: bool,
    p: Params,
    description: str | None,
    metadata: dict[str, str],
) -> Done:
    """A PaymentIntent created without confirm: a draft (no card data is kept)."""
    if p.is_given("payment_method_data"):
        text = "paygate keeps no card data: send payment_method_data with confirm"
        raise invalid("payment_method_data", text)
    method = p.text("payment_method", max_len=100)
    p.done()
    if method is not None:
        test_method(method)  # an unknown one is refused now
    draft = drafts(call).make(call.terminal.merchant_id, amount, currency, manual, method)
    return Done(draft.id, answer(draft_intent(draft, False, description, metadata)))


async def _charge(
    call: Call, amount: int, currency: str, manual: bool, card: CardInput, key: str | None
) -> Payment:
    """The gateway's charge of a card for the caller's terminal (idempotent by `key`)."""
    req = ChargeRequest(
        amount=amount,
        currency=currency,
        card=card,
        capture="manual" if manual else "automatic",
        terminal_id=call.terminal.key.terminal_id,
        merchant_id=call.terminal.merchant_id,
        idempotency_key=key,
        operator=call.operator,
    )
    try:
        return await call.gateway.charge(req)
    except RecordConflict:  # another gateway process took the same key at the same time
        if key is None:
            raise
        known = await call.gateway.charge(req)
        return await outcome(call.gateway, known, call.terminal.rt.settings.bank_timeout_s)
    except InputError as exc:  # a plain one is about the amount (its limits)
        raise from_paygate(exc, "amount" if type(exc) is InputError else None) from None


async def confirm(call: Call) -> Done:
    """POST /v1/payment_intents/{intent}/confirm: a draft's confirm (again after a
    decline) is a charge; one waiting for the cardholder's OTP takes it as `paygate_otp`
    (paygate's own step); any other PaymentIntent was confirmed when it was created."""
    target = found(call, call.path("intent"))
    card = _card(call.params)
    otp = call.params.text("paygate_otp", max_len=12)
    call.params.ignore(*IGNORED)
    call.params.done()
    draft, standing = target.draft, target.standing
    payment = target.payment
    if payment is not None and payment.status == "requires_action":
        return await _with_otp(call, payment, otp)
    if (
        draft is None
        or standing is None
        or standing.canceled
        or (payment and payment.status != "declined")
    ):
        shown = target.shown()
        text = f"This PaymentIntent's status is {shown['status']}: it cannot be confirmed."
        raise StripeError(400, "invalid_request_error", UNEXPECTED, text, payment_intent=shown)
    if card is None and draft.method is None:
        raise invalid("payment_method", MISSING_METHOD, "parameter_missing")
    if standing.attempts >= MAX_ATTEMPTS:
        raise invalid(None, f"at most {MAX_ATTEMPTS} confirms of one PaymentIntent: make another")
    card = card or test_method(draft.method or "")
    key = Drafts.attempt_key(call.terminal.merchant_id, draft, standing.attempts + 1)
    payment = await _charge(
        call, draft.amount, draft.currency, draft.capture == "manual", card, key
    )
    return Done(payment.id, confirmed(payment))


async def _with_otp(call: Call, payment: Payment, otp: str | None) -> Done:
    """The cardholder's OTP for a payment the issuer stepped up."""
    if otp is None:
        raise invalid(
            "paygate_otp", "the cardholder's OTP (paygate_otp) is missing", "parameter_missing"
        )
    try:
        done = await call.gateway.confirm_otp(payment.id, otp, operator=call.operator)
    except NotAllowed as exc:
        raise unexpected(payment, exc) from None
    except InputError as exc:  # a wrong code: the payment still waits for the right one
        raise from_paygate(exc, "paygate_otp") from None
    return Done(done.id, confirmed(done))


async def capture(call: Call) -> Done:
    """POST /v1/payment_intents/{intent}/capture: all, or `amount_to_capture`."""
    payment = paid(call, call.path("intent"))
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
    """POST /v1/payment_intents/{intent}/cancel: a draft, canceled; waiting for the
    customer, given up; authorized, voided (a manager approves: `Paygate-Approval`)."""
    target = found(call, call.path("intent"))
    call.params.choice("cancellation_reason", CANCEL_REASONS)
    call.params.ignore("expand")
    call.params.done()
    payment, draft = target.payment, target.draft
    if payment is None and draft is not None and target.standing and not target.standing.canceled:
        await drafts(call).cancel(call.terminal.merchant_id, draft)
        return Done(draft.id, answer(draft_intent(draft, True)))
    if payment is None:
        text = "This PaymentIntent's status is canceled: it cannot be canceled."
        raise StripeError(
            400, "invalid_request_error", UNEXPECTED, text, payment_intent=target.shown()
        )
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
    return answer(found(call, call.path("intent")).shown())


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
