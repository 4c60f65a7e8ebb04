"""The fake Stripe account's operations: PaymentMethods from test ids or card details,
PaymentIntents (create, confirm, capture, cancel, retrieve, list, search) and Refunds,
each in Stripe's shapes, statuses and errors, publishing the events Stripe would."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from bank_sim.processors.stripe.cards import (
    Account,
    Card,
    Outcome,
    account_for,
    describe,
    method_number,
)
from bank_sim.processors.stripe.errors import StripeError, invalid, unexpected_state
from bank_sim.processors.stripe.state import StripeState, new_id
from bank_sim.processors.stripe.webhooks import Webhooks
from gateway_core.cards import luhn_valid
from gateway_core.clock import Clock

Params = dict[str, Any]

_CREATE = {
    "amount",
    "currency",
    "payment_method",
    "payment_method_data",
    "payment_method_types",
    "confirm",
    "capture_method",
    "metadata",
    "description",
    "receipt_email",
    "return_url",
    "statement_descriptor",
    "customer",
    "expand",
    "automatic_payment_methods",
    "confirmation_method",
    "off_session",
    "setup_future_usage",
    "payment_method_options",
}
_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
_CLAUSE = re.compile(r"""\s*(metadata\[(['"])(\w+)\2\]|status|currency)\s*:\s*(['"])(.*?)\4\s*""")


def integer(params: Params, name: str) -> int | None:
    """A positive integer parameter, if given (Stripe's "Invalid integer" otherwise)."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isdigit() or int(value) < 1:
        raise invalid(f"Invalid integer: {value}", name)
    return int(value)


def required_integer(params: Params, name: str) -> int:
    """A positive integer parameter that must be given."""
    value = integer(params, name)
    if value is None:
        raise invalid(f"Missing required param: {name}.", name, "parameter_missing")
    return value


def _flag(params: Params, name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", name)
    return value == "true"


def _metadata(params: Params) -> dict[str, str]:
    metadata = params.get("metadata", {})
    if metadata == "":
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise invalid("Invalid metadata: metadata must be a hash of strings.", "metadata")
    return metadata


class StripeAccount:
    """One fake Stripe account: its state, clock and webhooks."""

    def __init__(self, state: StripeState, webhooks: Webhooks, clock: Clock) -> None:
        self.state = state
        self.webhooks = webhooks
        self.clock = clock
        self.base_url = ""  # where the fake is reached (3-D Secure links), per request

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def _event(self, kind: str, obj: dict[str, Any], idempotency_key: str | None) -> None:
        self.state.events.append(self.webhooks.publish(kind, obj, idempotency_key, self.now()))

    # -- PaymentMethods ------------------------------------------------------------------
    def payment_method(self, params: Params) -> str | None:
        """The PaymentMethod a request names (`payment_method`: a test id such as
        pm_card_visa or one made before) or gives (`payment_method_data`), if any."""
        given = params.get("payment_method")
        if given is not None and not isinstance(given, str):
            raise invalid("Invalid string: payment_method", "payment_method")
        if given:
            number = method_number(given)
            if number is None:
                return self.state.get("pm", given, "payment_method")["id"]
            year = self.clock.now().year + 5
            return self._new_method(describe(number, 12, year), account_for(number, None))
        data = params.get("payment_method_data")
        if data is None:
            return None
        if not isinstance(data, dict) or data.get("type") != "card":
            raise invalid(
                "Only payment_method_data[type]=card is supported.", "payment_method_data[type]"
            )
        return self._card_method(data.get("card"))

    def _card_method(self, card: Any) -> str:
        where = "payment_method_data[card]"
        if not isinstance(card, dict):
            raise invalid(
                "Missing required param: payment_method_data[card].", where, "parameter_missing"
            )
        number = str(card.get("number", "")).replace(" ", "")
        if not number.isdigit() or not luhn_valid(number):
            raise StripeError(
                402,
                "Your card number is incorrect.",
                type="card_error",
                code="incorrect_number",
                param="number",
            )
        month = required_integer(card, "exp_month")
        year = required_integer(card, "exp_year")
        if not 1 <= month <= 12:
            raise StripeError(
                402,
                "Your card's expiration month is invalid.",
                type="card_error",
                code="invalid_expiry_month",
                param="exp_month",
            )
        cvc = card.get("cvc")
        year = year + 2000 if year < 100 else year
        return self._new_method(describe(number, month, year), account_for(number, cvc))

    def _new_method(self, card: Card, account: Account) -> str:
        method = {
            "id": new_id("pm"),
            "object": "payment_method",
            "type": "card",
            "card": card.as_stripe(),
            "created": self.now(),
            "livemode": False,
            "metadata": {},
        }
        self.state.put(method)
        self.state.accounts[method["id"]] = asdict(account)
        return str(method["id"])

    # -- PaymentIntents ------------------------------------------------------------------
    def create_intent(self, params: Params, idempotency_key: str | None) -> dict[str, Any]:
        unknown = sorted(set(params) - _CREATE)
        if unknown:
            raise invalid(f"Received unknown parameter: {unknown[0]}", unknown[0])
        amount = required_integer(params, "amount")
        currency = params.get("currency")
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise invalid("Missing required param: currency.", "currency", "parameter_missing")
        capture = params.get("capture_method", "automatic")
        if capture not in ("automatic", "automatic_async", "manual"):
            raise invalid(
                "Invalid capture_method: must be one of automatic, automatic_async or manual",
                "capture_method",
            )
        confirm = _flag(params, "confirm")
        intent = self.state.put(
            {
                "id": new_id("pi"),
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_received": 0,
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": capture,
                "confirmation_method": "automatic",
                "created": self.now(),
                "currency": currency.lower(),
                "description": params.get("description"),
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": _metadata(params),
                "next_action": None,
                "payment_method": self.payment_method(params),
                "payment_method_types": ["card"],
                "status": "requires_payment_method",
            }
        )
        intent["client_secret"] = f"{intent['id']}_secret_{new_id('x')[2:]}"
        if intent["payment_method"]:
            intent["status"] = "requires_confirmation"
        self._event("payment_intent.created", intent, idempotency_key)
        if confirm:
            return self._confirm(intent, idempotency_key)
        return intent

    def intent(self, intent_id: str) -> dict[str, Any]:
        return self.state.get("pi", intent_id, "intent")

    def confirm(
        self, intent_id: str, params: Params, idempotency_key: str | None
    ) -> dict[str, Any]:
        intent = self.intent(intent_id)
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise unexpected_state(
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                "may be confirmed: requires_confirmation, requires_payment_method."
            )
        method = self.payment_method(params)
        if method:
            intent["payment_method"] = method
        return self._confirm(intent, idempotency_key)

    def _confirm(self, intent: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
        if not intent["payment_method"]:
            raise unexpected_state(
                "You cannot confirm this PaymentIntent because it's missing a payment method."
            )
        card = self.state.get("pm", intent["payment_method"])["card"]
        account = Account(**self.state.accounts[intent["payment_method"]])
        today = self.clock.now()
        expired = (card["exp_year"], card["exp_month"]) < (today.year, today.month)
        outcome = Account("expired_card") if expired else account
        return self._answer(intent, outcome.decide(intent["amount"]), idempotency_key)

    def authenticate(
        self, intent_id: str, params: Params, idempotency_key: str | None
    ) -> dict[str, Any]:
        """The fake's 3-D Secure page: `outcome=complete` (the issuer then decides as
        after a passed challenge) or `fail`."""
        intent = self.intent(intent_id)
        if intent["status"] != "requires_action":
            raise unexpected_state("This PaymentIntent is not waiting for authentication.")
        if params.get("outcome", "complete") == "fail":
            outcome = Account("authentication_required").decide(0)
            return self._answer(intent, outcome, idempotency_key, fail_action=True)
        account = Account(**self.state.accounts[intent["payment_method"]])
        return self._answer(
            intent, account.decide(intent["amount"], authenticated=True), idempotency_key
        )

    def _answer(
        self, intent, outcome, idempotency_key, fail_action: bool = False
    ) -> dict[str, Any]:
        """Record the issuer's answer on the intent (a Charge when it is final)."""
        intent["next_action"] = None
        if outcome.needs_action and not fail_action:
            url = f"{self.base_url}/stripe/v1/payment_intents/{intent['id']}/_authenticate"
            intent["status"] = "requires_action"
            intent["next_action"] = {
                "type": "redirect_to_url",
                "redirect_to_url": {"url": url, "return_url": None},
            }
            self._event("payment_intent.requires_action", intent, idempotency_key)
            return intent
        charge = self._charge(intent, outcome)
        if not outcome.approved:
            error = {
                "type": "card_error",
                "code": outcome.error_code,
                "decline_code": outcome.decline_code,
                "message": outcome.message,
                "charge": charge["id"],
                "payment_method": self.state.get("pm", intent["payment_method"]),
            }
            intent.update(
                status="requires_payment_method", last_payment_error=error, payment_method=None
            )
            self._event("payment_intent.payment_failed", intent, idempotency_key)
            raise StripeError(
                402,
                outcome.message,
                type="card_error",
                code=outcome.error_code,
                decline_code=outcome.decline_code,
                payment_intent=intent,
                charge=charge["id"],
            )
        intent["last_payment_error"] = None
        if intent["capture_method"] == "manual":
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            self._event("payment_intent.amount_capturable_updated", intent, idempotency_key)
        else:
            intent.update(status="succeeded", amount_received=intent["amount"])
            self._event("payment_intent.succeeded", intent, idempotency_key)
        return intent

    def _charge(self, intent: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
        approved, captured = outcome.approved, intent["capture_method"] != "manual"
        method = self.state.get("pm", intent["payment_method"])
        charge = self.state.put(
            {
                "id": new_id("ch"),
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"] if approved and captured else 0,
                "amount_refunded": 0,
                "captured": approved and captured,
                "created": self.now(),
                "currency": intent["currency"],
                "failure_code": None if approved else outcome.error_code,
                "failure_message": None if approved else outcome.message,
                "livemode": False,
                "metadata": intent["metadata"],
                "outcome": {
                    "type": "authorized" if approved else "issuer_declined",
                    "network_status": "approved_by_network" if approved else "declined_by_network",
                    "reason": outcome.decline_code,
                    "seller_message": "Payment complete."
                    if approved
                    else "The bank did not return any further details with this decline.",
                },
                "paid": approved,
                "payment_intent": intent["id"],
                "payment_method": method["id"],
                "payment_method_details": {"type": "card", "card": method["card"]},
                "refunded": False,
                "status": "succeeded" if approved else "failed",
            }
        )
        intent["latest_charge"] = charge["id"]
        return charge

    def capture(
        self, intent_id: str, params: Params, idempotency_key: str | None
    ) -> dict[str, Any]:
        intent = self.intent(intent_id)
        if intent["status"] != "requires_capture":
            raise unexpected_state(
                "This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                "may be captured: requires_capture."
            )
        amount = integer(params, "amount_to_capture") or intent["amount_capturable"]
        if amount > intent["amount_capturable"]:
            raise invalid(
                f"The amount to capture ({amount}) is greater than the amount capturable "
                f"({intent['amount_capturable']}).",
                "amount_to_capture",
                "amount_too_large",
            )
        charge = self.state.get("ch", intent["latest_charge"])
        charge.update(captured=True, amount_captured=amount)
        intent.update(status="succeeded", amount_capturable=0, amount_received=amount)
        self._event("payment_intent.succeeded", intent, idempotency_key)
        return intent

    def cancel(self, intent_id: str, params: Params, idempotency_key: str | None) -> dict[str, Any]:
        intent = self.intent(intent_id)
        if intent["status"] not in _CANCELABLE:
            raise unexpected_state(
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(_CANCELABLE)}."
            )
        reason = params.get("cancellation_reason")
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer", "abandoned"):
            raise invalid(f"Invalid cancellation_reason: {reason}", "cancellation_reason")
        intent.update(
            status="canceled",
            canceled_at=self.now(),
            cancellation_reason=reason,
            amount_capturable=0,
        )
        self._event("payment_intent.canceled", intent, idempotency_key)
        return intent

    def search(self, params: Params) -> list[dict[str, Any]]:
        """Intents matching `query` (Stripe's search language, the subset
        `metadata['key']:'value'`, `status:'...'`, `currency:'...'` joined by AND)."""
        query = params.get("query")
        if not isinstance(query, str) or not query.strip():
            raise invalid("Missing required param: query.", "query", "parameter_missing")
        clauses = []
        for text in re.split(r"\s+AND\s+", query.strip()):
            match = _CLAUSE.fullmatch(text)
            if match is None:
                raise invalid(f"Invalid search query: {query}", "query")
            clauses.append((match[3], match[1], match[5]))
        return [
            intent
            for intent in self.state.of("payment_intent")
            if all(
                (intent["metadata"].get(key) if key else intent[field]) == value
                for key, field, value in clauses
            )
        ]

    # -- Refunds -------------------------------------------------------------------------
    def refund(self, params: Params, idempotency_key: str | None) -> dict[str, Any]:
        if params.get("payment_intent"):
            intent = self.intent(params["payment_intent"])
            if not intent["latest_charge"] or intent["status"] != "succeeded":
                raise invalid(
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge "
                    "to refund.",
                    "payment_intent",
                )
            charge = self.state.get("ch", intent["latest_charge"])
        elif params.get("charge"):
            charge = self.state.get("ch", params["charge"], "charge")
        else:
            raise invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge."
            )
        left = charge["amount_captured"] - charge["amount_refunded"]
        if left <= 0:
            raise invalid(
                f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        amount = integer(params, "amount") or left
        if amount > left:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                "amount",
                "amount_too_large",
            )
        refund = self.state.put(
            {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": self.now(),
                "currency": charge["currency"],
                "metadata": _metadata(params),
                "payment_intent": charge["payment_intent"],
                "reason": params.get("reason"),
                "status": "succeeded",
            }
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        self._event("charge.refunded", charge, idempotency_key)
        return refund
