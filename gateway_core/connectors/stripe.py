"""Stripe through its official SDK (`stripe.StripeClient`, async methods on its HTTPX
client, no SDK retries: paygate's failover decides): PaymentIntents created and
confirmed in one call (`capture_method` manual for authorize-only), captured (partial:
the rest is released), canceled; Refunds (partial, several); the payment found again by
its id or by the idempotency key kept in its metadata (a Search, never a second
create); webhooks verified by the SDK (`Stripe-Signature`, 300 s tolerance).

Stripe's words in paygate's: `STATUSES` (a PaymentIntent's status), decline codes via
`payments.response_code_for` (the reverse of `RESPONSE_CODES`: one table), SDK errors
as the port's failures (`_failure`). No card data reaches an exception or a log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import stripe

from gateway_core.clock import Clock, SystemClock
from gateway_core.errors import BankNotReached, BankUnavailable, InputError
from gateway_core.money import currency_exponent
from gateway_core.payments import reason_for, response_code_for
from gateway_core.ports.connectors import (
    ConnectorCharge,
    ConnectorEvent,
    ConnectorRefund,
    ConnectorResult,
    ConnectorStatus,
    ProcessorDown,
    SignatureRefused,
)
from gateway_core.settings import ProcessorSettings

FAKE_KEY = "sk_test_paygate"  # the local fake's secret key (bank_sim): a real key never goes there
TOLERANCE_S = 300  # a webhook older than this is refused (Stripe's default)
RECENT_S = 3600  # `status` by key lists this last hour's payments before it searches

# A PaymentIntent's status -> paygate's (requires_payment_method is "declined" after a
# failed attempt, else "pending": nothing was tried yet).
STATUSES: dict[str, ConnectorStatus] = {
    "succeeded": "succeeded",
    "requires_capture": "requires_capture",
    "requires_action": "requires_action",
    "processing": "pending",
    "requires_confirmation": "pending",
    "requires_payment_method": "declined",
    "canceled": "canceled",
}
# paygate's response code for a status that is not a decline ("" : no answer yet).
_CODES: dict[ConnectorStatus, str] = {
    "succeeded": "00",
    "requires_capture": "00",
    "canceled": "00",
    "requires_action": "1A",
    "pending": "",
}
_REFUNDS: dict[str, Any] = {"succeeded": "succeeded", "pending": "pending"}


def _first_line(text: str | None) -> str:
    return (text or "the request was refused").strip().splitlines()[0]


class StripeConnector:
    """`ports.Connector` for Stripe. `settings.api_key` is the secret key (sk_test_...,
    sk_live_...), sent only to the `settings.base_url` configured; with none, the
    connector talks to the local fake, with the fake's own key. `clock` is what a
    webhook's age is measured against."""

    name = "stripe"
    methods = frozenset({"card"})

    def __init__(
        self, settings: ProcessorSettings, base_url: str, clock: Clock | None = None
    ) -> None:
        if settings.base_url is None:
            key = FAKE_KEY
        elif settings.api_key is not None:
            key = settings.api_key.get_secret_value()
        else:
            raise InputError("processors.stripe.api_key is not set (the secret key, sk_...)")
        self._http = stripe.HTTPXClient(timeout=settings.timeout_s)
        self._client = stripe.StripeClient(
            key,
            base_addresses={"api": base_url.rstrip("/")},
            max_network_retries=0,
            http_client=self._http,
        )
        self._webhook_secret = settings.webhook_secret
        self._clock = clock or SystemClock()
        _quiet_sdk()

    # -- payments ------------------------------------------------------------------------
    async def authorize(self, charge: ConnectorCharge) -> ConnectorResult:
        params: dict[str, Any] = {
            "amount": _stripe_amount(charge.amount, charge.currency),
            "currency": charge.currency.lower(),
            "confirm": True,
            "capture_method": "automatic" if charge.capture else "manual",
            "payment_method_types": ["card"],
            "metadata": {
                "payment_id": charge.payment_id,
                "merchant_id": charge.merchant_id,
                "idempotency_key": charge.idempotency_key,
            },
        }
        if charge.description:
            params["description"] = charge.description
        if charge.payment_method:
            params["payment_method"] = charge.payment_method
        elif charge.card is not None and charge.method == "card":
            card = {
                "number": charge.card.pan.get_secret_value(),
                "exp_month": charge.card.exp_month,
                "exp_year": charge.card.exp_year,
            }
            if charge.card.cvv is not None:
                card["cvc"] = charge.card.cvv.get_secret_value()
            params["payment_method_data"] = {"type": "card", "card": card}
        else:
            raise InputError(f"Stripe takes cards only, not {charge.method}")
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params,  # type: ignore[arg-type]  # a dict built above, checked by Stripe
                {"idempotency_key": charge.idempotency_key},
            )
        except stripe.CardError as exc:
            return _declined(exc)
        except stripe.StripeError as exc:
            raise _failure(exc) from None
        return _result(intent)

    async def capture(self, reference: str, amount: int, idempotency_key: str) -> ConnectorResult:
        try:
            intent = await self._client.v1.payment_intents.capture_async(
                reference, {"amount_to_capture": amount}, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _failure(exc) from None
        return _result(intent)

    async def void(self, reference: str, idempotency_key: str) -> ConnectorResult:
        try:
            intent = await self._client.v1.payment_intents.cancel_async(
                reference, {}, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _failure(exc) from None
        return _result(intent)

    async def refund(
        self, reference: str, refund_id: str, amount: int, idempotency_key: str
    ) -> ConnectorRefund:
        """`refund_id` is the Idempotency-Key: the same refund asked twice is one refund."""
        try:
            refund = await self._client.v1.refunds.create_async(
                {
                    "payment_intent": reference,
                    "amount": amount,
                    "metadata": {"refund_id": refund_id},
                },
                {"idempotency_key": refund_id},
            )
        except stripe.StripeError as exc:
            raise _failure(exc) from None
        status = _REFUNDS.get(refund.status or "", "failed")
        return ConnectorRefund(refund.id, refund.amount, status)

    async def status(
        self, *, reference: str | None = None, idempotency_key: str | None = None
    ) -> ConnectorResult | None:
        if not (reference or idempotency_key or "").strip():
            raise InputError("status needs the payment's reference or idempotency key")
        try:
            if reference:
                intent = await self._client.v1.payment_intents.retrieve_async(reference)
            else:
                found = await self._by_key(idempotency_key or "")
                if found is None:
                    return None
                intent = found
            refunds = await self._client.v1.refunds.list_async(
                {"payment_intent": intent.id, "limit": 100}
            )
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                return None
            raise _failure(exc) from None
        except stripe.StripeError as exc:
            raise _failure(exc) from None
        refunded = sum(r.amount for r in refunds.data if r.status in ("succeeded", "pending"))
        return _result(intent, refunded)

    async def _by_key(self, idempotency_key: str) -> stripe.PaymentIntent | None:
        """The PaymentIntent created with `idempotency_key` (kept in its metadata): among
        the last hour's first (Stripe's list is read-after-write consistent), then by a
        Search (which can lag behind by a minute)."""
        since = int(self._clock.now().timestamp()) - RECENT_S
        recent = await self._client.v1.payment_intents.list_async(
            {"created": {"gte": since}, "limit": 100}
        )
        for intent in recent.data:
            if intent.metadata.to_dict().get("idempotency_key") == idempotency_key:
                return intent
        query = f"metadata['idempotency_key']:'{_quoted(idempotency_key)}'"
        found = await self._client.v1.payment_intents.search_async({"query": query})
        return found.data[0] if found.data else None

    # -- webhooks ------------------------------------------------------------------------
    async def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ConnectorEvent:
        if self._webhook_secret is None:
            raise SignatureRefused("processors.stripe.webhook_secret is not set (whsec_...)")
        signature = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        try:
            stripe.WebhookSignature.verify_header(
                body, signature, self._webhook_secret.get_secret_value(), tolerance=None
            )
            sent = int(dict(p.partition("=")[::2] for p in (signature or "").split(","))["t"])
            payload = json.loads(body)
        except (stripe.SignatureVerificationError, ValueError, KeyError):
            raise SignatureRefused("Stripe webhook refused: its signature does not match") from None
        if abs(self._clock.now().timestamp() - sent) > TOLERANCE_S:
            raise SignatureRefused(f"Stripe webhook refused: signed more than {TOLERANCE_S} s ago")
        obj = payload.get("data", {}).get("object", {})
        kind = str(payload.get("type", ""))
        is_intent = obj.get("object") == "payment_intent"
        intent = stripe.PaymentIntent.construct_from(obj, None) if is_intent else None
        return ConnectorEvent(
            provider=self.name,
            event_id=str(payload.get("id", "")),
            type=kind,
            reference=str(obj.get("payment_intent") or obj.get("id", "")),
            result=_result(intent) if intent is not None else None,
            created_at=datetime.fromtimestamp(int(payload.get("created", sent)), UTC),
        )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # unannotated in the SDK


def _quiet_sdk() -> None:
    """Keep the SDK's debug lines (they carry request bodies: card numbers) out of the
    logs and off the console."""
    sdk_log = logging.getLogger("stripe")
    if sdk_log.level < logging.INFO:  # NOTSET (0) would follow the root's level
        sdk_log.setLevel(logging.INFO)
    if stripe.log == "debug":
        stripe.log = "info"


def _quoted(text: str) -> str:
    """`text` inside a search query's single quotes."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _stripe_amount(amount: int, currency: str) -> int:
    """Stripe counts in minor units, as paygate does (JPY in yen, KWD in fils), and takes
    three-decimal currencies only in multiples of 10."""
    if currency_exponent(currency) == 3 and amount % 10:
        raise InputError(f"Stripe takes {currency.upper()} amounts in multiples of 10 minor units")
    return amount


def _result(intent: stripe.PaymentIntent, refunded: int = 0) -> ConnectorResult:
    """Where a PaymentIntent stands, in paygate's words."""
    status = STATUSES.get(intent.status, "pending")
    error = intent.last_payment_error
    if status == "declined" and error is None:
        status = "pending"  # not tried yet
    provider_code = (error.decline_code or error.code) if error is not None else None
    code = response_code_for(provider_code) if status == "declined" else _CODES[status]
    action = intent.next_action
    url = action.redirect_to_url.url if action and action.redirect_to_url else None
    return ConnectorResult(
        status=status,
        reference=intent.id,
        response_code=code,
        message=reason_for(code).text if code else "Waiting for Stripe",
        amount_captured=intent.amount_received or 0,
        amount_refunded=refunded,
        decline_code=reason_for(code).decline_code if status == "declined" else None,
        provider_status=intent.status,
        provider_code=provider_code if status == "declined" else None,
        action_url=url,
    )


def _declined(exc: stripe.CardError) -> ConnectorResult:
    """A card error as a decline (its PaymentIntent, when Stripe made one)."""
    error = exc.error
    provider_code = (error.decline_code if error else None) or exc.code or "card_declined"
    intent = error.payment_intent if error else None
    code = response_code_for(provider_code)
    return ConnectorResult(
        status="declined",
        reference=intent.id if intent is not None else "",
        response_code=code,
        message=reason_for(code).text,
        decline_code=reason_for(code).decline_code,
        provider_status=intent.status if intent is not None else "",
        provider_code=provider_code,
    )


def _failure(exc: stripe.StripeError) -> Exception:
    """An SDK error as the port's failure: never reached (BankNotReached), down
    (ProcessorDown), unknown outcome (BankUnavailable), or refused (InputError)."""
    if isinstance(exc, stripe.APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout)):
            return BankNotReached("Stripe not reached: the connection was refused")
        return BankUnavailable("Stripe did not answer in time: the outcome is not known")
    status = exc.http_status or 0
    if status == 503 or isinstance(exc, stripe.RateLimitError):
        return ProcessorDown(f"Stripe is unavailable ({status}): nothing was processed")
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return InputError("Stripe refused the secret key (processors.stripe.api_key)")
    if isinstance(exc, (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.CardError)):
        return InputError(f"Stripe refused the request: {_first_line(exc.user_message)}")
    return BankUnavailable(f"Stripe answered {status or 'with an error'}: the outcome is not known")
