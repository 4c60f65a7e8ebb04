"""Which PaymentIntent an id names, for the calling merchant, and how it answers.

A `pi_` (or `ch_`) id names a paygate payment; a `pi_d-` id a draft (`stripe_drafts`),
which is its latest confirm's payment once it has one. Another merchant's, a forged or
an unknown id is Stripe's 404 `resource_missing`.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.responses import Response

from gateway_core.gateway import NotAllowed, UnknownPayment
from gateway_core.payments import Payment
from gateway_core.service.stripe_calls import Call, answer
from gateway_core.service.stripe_drafts import PREFIX, Draft, Drafts, Standing
from gateway_core.service.stripe_errors import StripeError, from_paygate, missing
from gateway_core.service.stripe_shapes import (
    decline,
    draft_intent,
    intent,
    intent_id,
    payment_id,
)

UNEXPECTED = "payment_intent_unexpected_state"


class Found(NamedTuple):
    """A PaymentIntent: its payment (None: a draft not confirmed yet), and its draft and
    where that stands when the id was a draft's."""

    payment: Payment | None
    draft: Draft | None = None
    standing: Standing | None = None

    def shown(self) -> dict[str, object]:
        """As Stripe shows it."""
        if self.payment is not None:
            return intent(self.payment)
        assert self.draft is not None and self.standing is not None  # a draft, by its id
        return draft_intent(self.draft, self.standing.canceled)


def drafts(call: Call) -> Drafts:
    """The app's drafts."""
    found: Drafts = call.request.app.state.drafts
    return found


def owned(call: Call, object_id: str, param: str = "intent") -> Payment:
    """The caller's payment a pi_ (or ch_) id names; another's or none: 404."""
    paygate_id = payment_id(object_id)
    try:
        if paygate_id is None or object_id.startswith(PREFIX):
            raise UnknownPayment(object_id)
        return call.terminal.owned(paygate_id)
    except UnknownPayment:
        raise missing("payment_intent", object_id, param) from None


def found(call: Call, object_id: str, param: str = "intent") -> Found:
    """The PaymentIntent a payment's or a draft's id names."""
    if not object_id.startswith(PREFIX):
        return Found(owned(call, object_id, param))
    merchant = call.terminal.merchant_id
    draft = drafts(call).read(merchant, object_id)
    if draft is None:
        raise missing("payment_intent", object_id, param)
    standing = drafts(call).standing(merchant, draft)
    payment = call.gateway.get(standing.payment_id) if standing.payment_id else None
    return Found(payment, draft, standing)


def paid(call: Call, object_id: str, param: str = "intent") -> Payment:
    """The payment of a PaymentIntent; a draft not confirmed yet is in the wrong state."""
    target = found(call, object_id, param)
    if target.payment is None:
        text = f"This PaymentIntent's status is {target.shown()['status']}: confirm it first."
        raise StripeError(400, "invalid_request_error", UNEXPECTED, text, param)
    return target.payment


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


def replay_confirmed(call: Call, object_id: str) -> Response:
    """A create or confirm answered again: the PaymentIntent as it is now (402 if declined)."""
    target = found(call, _shown_id(object_id))
    return answer(target.shown()) if target.payment is None else confirmed(target.payment)


def replay(call: Call, object_id: str) -> Response:
    """A capture or cancel answered again: the PaymentIntent as it is now."""
    return answer(found(call, _shown_id(object_id)).shown())


def _shown_id(object_id: str) -> str:
    """The PaymentIntent id of what a call made: a draft, or a payment."""
    return object_id if object_id.startswith(PREFIX) else intent_id(object_id)
