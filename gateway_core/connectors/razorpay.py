"""Razorpay as a `ports.Connector`, on the official `razorpay` SDK (`Client(session=...,
auth=(key_id, key_secret), base_url=...)`; the SDK is synchronous, so every call runs
in a worker thread).

- authorize: an order (`receipt` = the idempotency key, `payment_capture` for a sale),
  then a payment on it through the S2S JSON API (card: `createPaymentJson`; UPI collect
  or intent: `createUpi`; net banking: `createPaymentJson` with a bank). A retry finds
  the order again by its receipt and answers with its payment instead of paying again.
- capture: the whole authorized amount only (Razorpay captures nothing else).
- void: Razorpay cannot release an authorization (an uncaptured payment is refunded to
  the customer automatically when its capture window ends): refused.
- refund: partial and several, keyed by `X-Refund-Idempotency`.
- status: by the payment id, or by the idempotency key (the order's receipt); never
  creates anything.
- parse_webhook: `X-Razorpay-Signature` checked by the SDK's `verify_webhook_signature`;
  `check_payment_signature`: the checkout's `razorpay_signature` against the STORED order.

Failures: connection refused → BankNotReached; 503 / 429 → ProcessorDown; a timeout,
another 5xx or a connection lost after sending → BankUnavailable; a declined payment
→ a `declined` ConnectorResult. No card data in any error or log.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import razorpay  # type: ignore[import-untyped]  # the SDK ships no type hints
import requests
import urllib3.exceptions
from pydantic import SecretStr
from razorpay.errors import (  # type: ignore[import-untyped]  # as above
    BadRequestError,
    GatewayError,
    ServerError,
    SignatureVerificationError,
)
from requests.exceptions import InvalidSchema, InvalidURL, MissingSchema

from gateway_core.clock import Clock, SystemClock
from gateway_core.errors import BankNotReached, BankRefused, BankUnavailable, InputError
from gateway_core.payments import IdempotencyConflict, NotAllowed, reason_for, response_code_for
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

T = TypeVar("T")
Entity = dict[str, Any]

# The local fake's account keys and webhook secret (bank_sim.processors.razorpay), used
# when the settings name no base_url (the fake): a local fake's test values, no real
# account's.
FAKE_KEY_ID = "rzp_test_paygatefake"
FAKE_KEY_SECRET = "paygate-fake-secret"
FAKE_WEBHOOK_SECRET = "paygate-fake-webhook-secret"
# Razorpay requires a customer email and phone on every S2S payment; a terminal has
# neither, so these stand in (Razorpay's own documented examples use the same kind).
CUSTOMER_EMAIL = "customer@example.com"
CUSTOMER_CONTACT = "9000090000"
# Razorpay retries a webhook for 24 hours; an event older than this is refused.
WEBHOOK_TOLERANCE = timedelta(hours=25)
SIGNATURE = re.compile(r"[0-9a-f]{64}")  # hex HMAC-SHA256, as Razorpay signs
PAYMENT_ID = re.compile(r"pay_[A-Za-z0-9]{1,40}")
_REFUND_KEY = re.compile(r"[A-Za-z0-9_-]{10,64}")

# Razorpay's error `reason` → paygate's decline code (payments.RESPONSE_CODES gives
# the DE39 code through payments.response_code_for; an unknown reason is "05").
DECLINES: dict[str, str] = {
    "insufficient_funds": "insufficient_funds",
    "card_declined": "do_not_honor",
    "payment_declined": "do_not_honor",
    "payment_failed": "do_not_honor",
    "debit_declined": "do_not_honor",
    "debit_instrument_blocked": "do_not_honor",
    "debit_instrument_inactive": "transaction_not_allowed",
    "payment_risk_check_failed": "do_not_honor",
    "card_expired": "expired_card",
    "incorrect_card_expiry_date": "expired_card",
    "incorrect_cvv": "incorrect_cvc",
    "card_number_invalid": "invalid_number",
    "incorrect_pin": "incorrect_pin",
    "pin_attempts_exceeded": "pin_try_exceeded",
    "incorrect_otp": "authentication_required",
    "otp_expired": "authentication_required",
    "otp_attempts_exceeded": "authentication_required",
    "authentication_failed": "authentication_required",
    "card_not_enrolled": "authentication_required",
    "transaction_limit_exceeded": "card_velocity_exceeded",
    "transaction_daily_limit_exceeded": "card_velocity_exceeded",
    "transaction_daily_count_exceeded": "withdrawal_count_limit_exceeded",
    "card_disabled_for_online_payments": "transaction_not_allowed",
    "international_transaction_not_allowed": "transaction_not_allowed",
    "card_network_not_enabled": "transaction_not_allowed",
    "card_type_invalid": "transaction_not_allowed",
    "payment_method_not_enabled": "transaction_not_allowed",
    "invalid_amount": "invalid_amount",
    "amount_less_than_minimum_amount": "invalid_amount",
    "order_amount_mismatch": "invalid_amount",
    "duplicate_request": "duplicate_transaction",
    "bank_technical_error": "issuer_not_available",
    "bank_not_available": "issuer_not_available",
    "payment_timed_out": "issuer_not_available",
    "request_timed_out": "issuer_not_available",
    "payment_declined_due_to_high_traffic": "issuer_not_available",
    "psp_not_available": "issuer_not_available",
    "issuer_technical_error": "processing_error",
    "gateway_technical_error": "processing_error",
    "server_error": "processing_error",
}

# Razorpay's payment status → paygate's (refunded: "succeeded" once captured, else
# "canceled": an uncaptured payment Razorpay refunded when its capture window ended).
STATUSES: dict[str, ConnectorStatus] = {
    "created": "requires_action",
    "authorized": "requires_capture",
    "captured": "succeeded",
    "refunded": "succeeded",
    "failed": "declined",
}
MESSAGES: dict[ConnectorStatus, str] = {
    "succeeded": "Approved",
    "requires_capture": "Approved: authorized, to capture",
    "requires_action": "Waiting for the customer (OTP or the bank's page)",
    "pending": "Waiting for the customer to approve in the UPI app",
    "canceled": "Not captured in time: Razorpay gave the authorization back",
}
RefundStatus = Literal["succeeded", "pending", "failed"]
REFUNDS: dict[str, RefundStatus] = {
    "processed": "succeeded",
    "pending": "pending",
    "created": "pending",
    "failed": "failed",
}


class _Session(requests.Session):
    """The SDK's HTTP session: the settings' deadline on every request, transport
    failures and 5xx raised as paygate's errors (not requests' exceptions, so the SDK
    passes them through), and each thread's last answer kept for Razorpay's error
    details (the SDK keeps only the description)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s
        self._local = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = self._timeout_s
        self._local.last = None
        try:
            response = super().request(*args, **kwargs)
        except requests.RequestException as error:
            failure = self._failure(error)
        else:
            if response.status_code in (429, 503):
                failure = ProcessorDown(f"razorpay is unavailable (HTTP {response.status_code})")
            elif response.status_code >= 500:
                failure = BankUnavailable(f"razorpay failed (HTTP {response.status_code})")
            else:
                self._local.last = response
                return response
        # raised outside the except: requests' error (its request holds the card) is
        # not chained to it
        raise failure

    def _failure(self, error: requests.RequestException) -> BankUnavailable:
        """paygate's error for a request that got no answer."""
        if isinstance(error, requests.ConnectTimeout):
            return BankNotReached("razorpay not reached: connecting timed out")
        if isinstance(error, requests.Timeout):
            return BankUnavailable(f"razorpay did not answer in {self._timeout_s:g} s")
        if isinstance(error, requests.ConnectionError):
            if _never_connected(error):
                return BankNotReached("razorpay not reached: connection refused")
            return BankUnavailable("razorpay: the connection was lost before its answer")
        if isinstance(error, InvalidURL | InvalidSchema | MissingSchema):
            return BankNotReached(f"razorpay not reached: {type(error).__name__}")
        return BankUnavailable(f"razorpay: {type(error).__name__} before its answer")

    def last_error(self) -> Entity:
        """The `error` object of this thread's last answer ({} if it had none)."""
        response = getattr(self._local, "last", None)
        try:
            error = response.json().get("error") if response is not None else None
        except ValueError:
            return {}
        return error if isinstance(error, dict) else {}


def _never_connected(error: requests.ConnectionError) -> bool:
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def receipt_for(idempotency_key: str) -> str:
    """The order's receipt for an idempotency key (Razorpay keeps at most 40 characters:
    a longer key is replaced by its digest)."""
    if len(idempotency_key) <= 40:
        return idempotency_key
    return "pg_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:37]


def _payment_id(reference: str) -> None:
    """Refuse what cannot be a Razorpay payment id before it goes into a URL."""
    if not PAYMENT_ID.fullmatch(reference):
        raise InputError(f"not a razorpay payment id: {reference[:40]!r}")


def refund_key_for(idempotency_key: str) -> str:
    """A refund's `X-Refund-Idempotency` (Razorpay takes at least 10 letters, digits, `-`
    or `_`): the key itself when it qualifies, else `pg-` and its SHA-256."""
    if _REFUND_KEY.fullmatch(idempotency_key):
        return idempotency_key
    return "pg-" + hashlib.sha256(idempotency_key.encode()).hexdigest()


def _keys(settings: ProcessorSettings) -> tuple[str, str, SecretStr | None]:
    """The key id, key secret and webhook secret: with a `base_url` (the real service)
    the settings' (both keys needed); without one, the local fake's keys (a configured
    key never goes to the fake) and the settings' webhook secret, else the fake's."""
    if settings.base_url is None:
        webhook = settings.webhook_secret or SecretStr(FAKE_WEBHOOK_SECRET)
        return FAKE_KEY_ID, FAKE_KEY_SECRET, webhook
    if settings.api_key is None or settings.api_secret is None:
        raise InputError("razorpay needs processors.razorpay.api_key and api_secret")
    key_id, secret = settings.api_key.get_secret_value(), settings.api_secret.get_secret_value()
    return key_id, secret, settings.webhook_secret


class RazorpayConnector:
    """Razorpay through its official SDK (see the module docstring)."""

    name = "razorpay"
    methods = frozenset({"card", "upi", "netbanking"})
    can_void = False  # Razorpay has no release of an authorization

    def __init__(
        self, settings: ProcessorSettings, base_url: str, *, clock: Clock | None = None
    ) -> None:
        key_id, key_secret, self._webhook_secret = _keys(settings)
        self._auth = (key_id, key_secret)
        self._base_url = base_url.rstrip("/")
        self._session = _Session(settings.timeout_s)
        self._client = razorpay.Client(
            session=self._session, auth=self._auth, base_url=self._base_url
        )
        self._client.set_app_details({"title": "paygate"})
        self._clock = clock or SystemClock()

    async def _call(self, fn: Callable[[], T]) -> T:
        """`fn` (SDK calls) in a worker thread, Razorpay's server errors as paygate's."""
        return await asyncio.to_thread(self._guarded, fn)

    @staticmethod
    def _guarded(fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (GatewayError, ServerError) as error:
            raise BankUnavailable(f"razorpay failed: {error}") from None
        except BadRequestError as error:
            raise BankRefused(f"razorpay refused the request: {error}") from None

    # -- authorize ------------------------------------------------------------------------
    async def authorize(self, charge: ConnectorCharge) -> ConnectorResult:
        body = self._payment_body(charge)  # checked before anything is sent
        return await self._call(lambda: self._authorize(charge, body))

    def _authorize(self, charge: ConnectorCharge, body: Entity) -> ConnectorResult:
        receipt = receipt_for(charge.idempotency_key)
        order = self._order_by_receipt(receipt)
        if order is not None:
            if (order["amount"], order["currency"]) != (charge.amount, charge.currency):
                raise IdempotencyConflict(
                    "idempotency key already used by a razorpay order of another amount"
                )
            earlier = self._payment_of(order)
            if earlier is not None:
                return self._result(earlier)
        else:
            order = self._client.order.create(
                {
                    "amount": charge.amount,
                    "currency": charge.currency,
                    "receipt": receipt,
                    "payment_capture": 1 if charge.capture else 0,
                    "notes": {"paygate_payment": charge.payment_id, "merchant": charge.merchant_id},
                }
            )
        body = body | {"order_id": order["id"]}
        try:
            if charge.method == "upi":
                answer = self._client.payment.createUpi(body)
            else:
                answer = self._client.payment.createPaymentJson(body)
        except BadRequestError as error:
            payment_id = self._session.last_error().get("metadata", {}).get("payment_id")
            if not payment_id:
                raise BankRefused(f"razorpay refused the payment: {error}") from None
            answer = {"razorpay_payment_id": payment_id}
        payment = self._client.payment.fetch(answer["razorpay_payment_id"])
        return self._result(payment, action_url=_action_url(answer))

    def _payment_body(self, charge: ConnectorCharge) -> Entity:
        body: Entity = {
            "amount": charge.amount,
            "currency": charge.currency,
            "email": CUSTOMER_EMAIL,
            "contact": CUSTOMER_CONTACT,
            "method": charge.method,
            "notes": {"paygate_payment": charge.payment_id},
        }
        if charge.description:
            body["description"] = charge.description[:255]
        if charge.method == "card" and charge.card is not None:
            card = charge.card
            body["card"] = {
                "number": card.pan.get_secret_value(),
                "expiry_month": f"{card.exp_month:02d}",
                "expiry_year": str(card.exp_year),
                "name": card.holder or "",
            }
            if card.cvv is not None:
                body["card"]["cvv"] = card.cvv.get_secret_value()
        elif charge.method == "upi" and charge.payment_method is None:
            collect = {"flow": "collect", "vpa": charge.vpa, "expiry_time": 5}
            body["upi"] = collect if charge.vpa else {"flow": "intent"}
        elif charge.method == "netbanking" and charge.bank:
            body["bank"] = charge.bank
        else:
            raise InputError("razorpay takes a card, a UPI VPA (or intent) or a net banking bank")
        return body

    def _order_by_receipt(self, receipt: str) -> Entity | None:
        orders: list[Entity] = self._client.order.all({"receipt": receipt, "count": 1})["items"]
        return orders[0] if orders else None

    def _payment_of(self, order: Entity) -> Entity | None:
        """The order's payment that counts: a live one, else the latest failed one."""
        payments: list[Entity] = self._client.order.payments(order["id"])["items"]
        live = [p for p in payments if p["status"] != "failed"]
        chosen = live or payments
        return chosen[0] if chosen else None

    # -- capture, void, refund ------------------------------------------------------------
    async def capture(self, reference: str, amount: int, idempotency_key: str) -> ConnectorResult:
        _payment_id(reference)
        return await self._call(lambda: self._capture(reference, amount))

    def _capture(self, reference: str, amount: int) -> ConnectorResult:
        payment = self._fetch(reference)
        if payment["status"] != "authorized":  # captured already (a retry), or past it
            return self._result(payment)
        if amount != payment["amount"]:
            raise NotAllowed(
                "razorpay captures only the whole authorized amount: no partial capture"
            )
        try:
            payment = self._client.payment.capture(
                reference, amount, {"currency": payment["currency"]}
            )
        except BadRequestError as error:
            raise BankRefused(f"razorpay refused the capture: {error}") from None
        return self._result(payment)

    async def void(self, reference: str, idempotency_key: str) -> ConnectorResult:
        raise NotAllowed(
            "razorpay cannot release an authorization: left uncaptured, it is refunded to "
            "the customer when Razorpay's capture window ends"
        )

    async def refund(
        self, reference: str, refund_id: str, amount: int, idempotency_key: str
    ) -> ConnectorRefund:
        _payment_id(reference)
        body = {"amount": amount, "speed": "normal", "receipt": receipt_for(refund_id)}
        headers = {"X-Refund-Idempotency": refund_key_for(idempotency_key)}

        def send() -> Entity:
            try:
                made: Entity = self._client.payment.refund(reference, body, headers=headers)
            except BadRequestError as error:
                raise BankRefused(f"razorpay refused the refund: {error}") from None
            return made

        made = await self._call(send)
        status = REFUNDS.get(made["status"], "pending")
        return ConnectorRefund(made["id"], made["amount"], status)

    # -- status ---------------------------------------------------------------------------
    async def status(
        self, *, reference: str | None = None, idempotency_key: str | None = None
    ) -> ConnectorResult | None:
        reference = (reference or "").strip() or None
        idempotency_key = (idempotency_key or "").strip() or None
        if reference is None and idempotency_key is None:
            raise InputError("a status needs the razorpay payment id or the idempotency key")
        return await self._call(lambda: self._status(reference, idempotency_key))

    def _status(self, reference: str | None, idempotency_key: str | None) -> ConnectorResult | None:
        if reference is not None:
            if not PAYMENT_ID.fullmatch(reference):
                return None  # no Razorpay payment has such an id
            try:
                return self._result(self._client.payment.fetch(reference))
            except BadRequestError:
                return None  # "The id provided does not exist"
        order = self._order_by_receipt(receipt_for(str(idempotency_key)))
        payment = self._payment_of(order) if order is not None else None
        return self._result(payment) if payment is not None else None

    def _fetch(self, reference: str) -> Entity:
        try:
            payment: Entity = self._client.payment.fetch(reference)
        except BadRequestError:
            raise BankRefused(f"razorpay has no payment {reference[:40]}") from None
        return payment

    # -- mapping --------------------------------------------------------------------------
    def _result(self, payment: Entity, action_url: str | None = None) -> ConnectorResult:
        """A Razorpay payment in paygate's words."""
        raw = str(payment.get("status", ""))
        status = STATUSES.get(raw, "pending")
        if raw == "created" and payment.get("method") == "upi":
            status = "pending"
        if raw == "refunded" and not payment.get("captured"):
            status = "canceled"
        captured = payment["amount"] if payment.get("captured") else 0
        reason = payment.get("error_reason")
        if status == "declined":
            code = response_code_for(DECLINES.get(str(reason)))
            message = reason_for(code).text
        else:
            code = "1A" if status in ("requires_action", "pending") else "00"
            message = MESSAGES[status]
        if status == "requires_action" and action_url is None:
            action_url = f"{self._base_url}/v1/payments/{payment['id']}/authenticate"
        return ConnectorResult(
            status=status,
            reference=payment["id"],
            response_code=code,
            message=message,
            amount_captured=captured,
            amount_refunded=int(payment.get("amount_refunded") or 0),
            decline_code=reason_for(code).decline_code if status == "declined" else None,
            provider_status=raw,
            provider_code=str(reason) if reason else None,
            action_url=action_url,
        )

    # -- signatures -----------------------------------------------------------------------
    def check_payment_signature(self, order_id: str, payment_id: str, signature: str) -> None:
        """The checkout's `razorpay_signature` for `payment_id`, checked against the
        order id paygate STORED (never one the callback brings); SignatureRefused."""
        if not SIGNATURE.fullmatch(signature):
            raise SignatureRefused("razorpay payment signature is not one")
        params = {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": signature,
        }
        try:
            self._client.utility.verify_payment_signature(params)
        except SignatureVerificationError:
            raise SignatureRefused("razorpay payment signature does not match its order") from None

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ConnectorEvent:
        seen = {k.lower(): v for k, v in headers.items()}
        signature, event_id = seen.get("x-razorpay-signature"), seen.get("x-razorpay-event-id")
        if self._webhook_secret is None:
            raise SignatureRefused("no razorpay webhook secret is set: webhook refused")
        if not signature or not event_id:
            raise SignatureRefused("razorpay webhook without its signature or event id")
        if not SIGNATURE.fullmatch(signature):
            raise SignatureRefused("razorpay webhook signature does not match")
        try:
            text = body.decode("utf-8")
            self._client.utility.verify_webhook_signature(
                text, signature, self._webhook_secret.get_secret_value()
            )
        except SignatureVerificationError:
            raise SignatureRefused("razorpay webhook signature does not match") from None
        except UnicodeDecodeError:
            raise SignatureRefused("razorpay webhook body is not text") from None
        try:
            event: Entity = json.loads(text)
            created_at = datetime.fromtimestamp(int(event["created_at"]), UTC)
            payment = (event.get("payload") or {}).get("payment", {}).get("entity")
            refund = (event.get("payload") or {}).get("refund", {}).get("entity") or {}
            reference = str(payment["id"] if payment else refund.get("payment_id", ""))
            result = self._result(payment) if payment else None
            kind = str(event["event"])
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            raise SignatureRefused("razorpay webhook body is not an event") from None
        if self._clock.now() - created_at > WEBHOOK_TOLERANCE:
            raise SignatureRefused("razorpay webhook too old: refused")
        return ConnectorEvent(
            provider=self.name,
            event_id=event_id,
            type=kind,
            reference=reference,
            result=result,
            created_at=created_at,
        )

    async def close(self) -> None:
        self._session.close()


def _action_url(answer: Entity) -> str | None:
    """Where the customer goes next, from the S2S answer (a UPI intent link, the bank's
    or the OTP page)."""
    if answer.get("link"):
        return str(answer["link"])
    for step in answer.get("next") or []:
        if step.get("action") == "redirect":
            return str(step["url"])
    return None
