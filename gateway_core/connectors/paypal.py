"""PayPal through its official SDK (`paypal-server-sdk`): Orders v2 with the card as
`payment_source` (advanced card processing: the card is authorized or captured when
the order is made), Payments v2 capture / void / refund, and webhooks checked by
PayPal's verify-webhook-signature call.

- The SDK reaches `base_url` through its documented configuration (a `Configuration`
  whose `get_base_uri` answers that URL), with the settings' timeout and no retries;
  its client is synchronous, so every call runs in a worker thread.
- `charge.idempotency_key` is the order's PayPal-Request-Id, the payment id its
  custom_id and invoice_id; a capture's and void's key is theirs, a refund's
  `refund_id` is the refund's.
- `status(idempotency_key=...)` asks PayPal to replay that PayPal-Request-Id with a
  create-order body it refuses (no purchase unit): a known key answers its order, an
  unknown one is refused 400 INVALID_REQUEST, so nothing is ever made to find out.
- An order the payer approved (after 3-D Secure, or PayPal's own approval) waits for
  the merchant: the first `authorize`, `status` or webhook that sees it authorizes or
  captures it, as its intent says (the step the customer has already agreed to).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import requests
from paypalserversdk.configuration import (  # type: ignore[import-untyped]  # the SDK ships no type hints
    Configuration,
    Server,
)
from paypalserversdk.exceptions.api_exception import (  # type: ignore[import-untyped]  # no type hints
    ApiException,
)
from paypalserversdk.http.auth.o_auth_2 import (  # type: ignore[import-untyped]  # no type hints
    ClientCredentialsAuthCredentials,
)
from paypalserversdk.paypal_serversdk_client import (  # type: ignore[import-untyped]  # no type hints
    PaypalServersdkClient,
)
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from gateway_core.clock import Clock, SystemClock
from gateway_core.connectors.paypal_mapping import (
    DECLINE_FOR_ISSUE,
    FAKE_CLIENT,
    FAKE_WEBHOOK_ID,
    declined,
    event_result,
    minor_units,
    order_result,
    paypal_value,
)
from gateway_core.errors import BankNotReached, BankRefused, BankUnavailable, InputError
from gateway_core.ports.connectors import (
    ConnectorCharge,
    ConnectorEvent,
    ConnectorRefund,
    ConnectorResult,
    ProcessorDown,
    SignatureRefused,
)
from gateway_core.settings import ProcessorSettings

WEBHOOK_TOLERANCE = timedelta(minutes=5)  # a transmission time further off is refused
_REFUND_STATUS: dict[str, Literal["succeeded", "pending"]] = {
    "COMPLETED": "succeeded",
    "PENDING": "pending",
}
_PREFER = "return=representation"
_WAITING = ("CREATED", "SAVED", "PAYER_ACTION_REQUIRED", "APPROVED")
_CREDENTIALS = "set processors.paypal.api_key and api_secret (the REST app's client id and secret)"


class _Configuration(Configuration):  # type: ignore[misc]  # the SDK's class is untyped
    """The SDK's configuration answering one base URI (a PayPal host or the local fake)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        self._base_url = base_url.rstrip("/")
        super().__init__(**options)

    def get_base_uri(self, server: Any = Server.DEFAULT) -> str:
        return self._base_url


class _Invalid(BankRefused):
    """PayPal answered 400 INVALID_REQUEST."""


class _NotFound(Exception):
    """PayPal answered 404 RESOURCE_NOT_FOUND."""


class _Declined(Exception):
    """PayPal answered 422 with an issue that declines the card."""

    def __init__(self, issue: str) -> None:
        super().__init__(issue)
        self.issue = issue


def _never_sent(error: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, unresolved, connect timeout)."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectTimeout) or isinstance(
        reason, NewConnectionError | ConnectTimeoutError
    )


def _error_of(error: ApiException) -> tuple[str, str, str]:
    """(name, issue, description) of a PayPal error body (OAuth's `error` too)."""
    try:
        body = json.loads(error.response.text or "{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = (body.get("details") or [{}])[0]
    name = str(body.get("name") or body.get("error") or error.response_code)
    issue = str(detail.get("issue") or name)
    text = str(detail.get("description") or body.get("message") or body.get("error_description"))
    return name, issue, text


def _payments(order: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    """The order's authorizations, captures or refunds."""
    unit = (order.get("purchase_units") or [{}])[0]
    items: list[dict[str, Any]] = (unit.get("payments") or {}).get(kind) or []
    return items


class PaypalConnector:
    """`ports.Connector` for PayPal (see the module docstring)."""

    name = "paypal"
    methods = frozenset({"card"})

    def __init__(
        self, settings: ProcessorSettings, base_url: str, *, clock: Clock | None = None
    ) -> None:
        self._clock = clock or SystemClock()
        self._base_url = base_url.rstrip("/")
        webhook_id = settings.webhook_secret
        self._webhook_id = webhook_id.get_secret_value() if webhook_id else FAKE_WEBHOOK_ID
        self._token: Any = None
        client_id, secret = FAKE_CLIENT
        if settings.base_url is not None:  # a real client goes to the configured URL only
            if settings.api_key is None or settings.api_secret is None:
                raise InputError(_CREDENTIALS)
            client_id = settings.api_key.get_secret_value()
            secret = settings.api_secret.get_secret_value()
        credentials = ClientCredentialsAuthCredentials(
            o_auth_client_id=client_id,
            o_auth_client_secret=secret,
            o_auth_token_provider=self._provide_token,
        )
        config = _Configuration(
            self._base_url,
            timeout=settings.timeout_s,
            max_retries=0,
            retry_statuses=[],  # and max_retries=0: the SDK never retries on its own
            client_credentials_auth_credentials=credentials,
        )
        self._client = PaypalServersdkClient(config=config)
        self._http = httpx.AsyncClient(timeout=settings.timeout_s)

    # -- SDK plumbing ------------------------------------------------------------------------
    def _provide_token(self, last: Any, auth: Any) -> Any:
        """The OAuth token: the last one while it lasts, else a new one (its errors raise,
        where the SDK's own provider would hide them)."""
        if last is None or auth.is_token_expired(last):
            last = auth.fetch_token()
        self._token = last
        return last

    async def _guard(self, what: str, call: Callable[[], Any]) -> Any:
        """`call()` (SDK work) in a worker thread, its failures as paygate's errors."""
        try:
            return await asyncio.to_thread(call)
        except requests.ConnectionError as error:
            if _never_sent(error):
                raise BankNotReached(f"PayPal not reached for the {what}") from None
            raise BankUnavailable(f"PayPal's answer to the {what} was lost") from None
        except requests.Timeout:
            raise BankUnavailable(f"PayPal did not answer the {what} in time") from None
        except requests.RequestException:
            raise BankUnavailable(f"PayPal's answer to the {what} was lost") from None
        except ApiException as error:
            raise self._refused(error, what) from None
        except (ValueError, TypeError, KeyError, AttributeError):  # the SDK could not read it
            raise BankUnavailable(f"PayPal's answer to the {what} could not be read") from None

    async def _call(self, what: str, call: Callable[[dict[str, Any]], Any], **options: Any) -> Any:
        """One SDK endpoint call with `options`; PayPal's JSON answer."""
        return await self._guard(what, lambda: json.loads(call(options).text or "{}"))

    def _refused(self, error: ApiException, what: str) -> Exception:
        status = error.response_code
        name, issue, text = _error_of(error)
        if status == 503:
            return ProcessorDown(f"PayPal is unavailable ({name}); the {what} was not made")
        if status >= 500:
            return BankUnavailable(f"PayPal failed on the {what} ({name}); outcome unknown")
        if status == 401:
            return BankRefused(f"PayPal refused paygate's credentials ({issue}): {_CREDENTIALS}")
        if status == 404:
            return _NotFound(issue)
        if status == 422 and issue in DECLINE_FOR_ISSUE:
            return _Declined(issue)
        refused = _Invalid if status == 400 else BankRefused
        return refused(f"PayPal refused the {what}: {issue} ({text})")

    async def _order(self, reference: str) -> dict[str, Any]:
        try:
            order: dict[str, Any] = await self._call(
                "order lookup", self._client.orders.get_order, id=reference
            )
        except _NotFound:
            raise BankRefused(f"PayPal has no order {reference}") from None
        return order

    # -- ports.Connector -----------------------------------------------------------------------
    async def authorize(self, charge: ConnectorCharge) -> ConnectorResult:
        """A card order (authorized or captured as it is made); without a card, a PayPal
        checkout order for the payer to approve (`requires_action`, its approve link)."""
        if charge.method != "card":
            raise BankRefused(f"PayPal takes cards here, not {charge.method}")
        unit: dict[str, Any] = {
            "reference_id": "default",
            "custom_id": charge.payment_id,
            "invoice_id": charge.payment_id,
            "amount": {
                "currency_code": charge.currency,
                "value": paypal_value(charge.amount, charge.currency),
            },
        }
        if charge.description:
            unit["description"] = charge.description[:127]
        body: dict[str, Any] = {
            "intent": "CAPTURE" if charge.capture else "AUTHORIZE",
            "purchase_units": [unit],
        }
        if charge.card is not None:
            card = charge.card
            source = {
                "number": card.pan.get_secret_value(),
                "expiry": f"{card.exp_year:04d}-{card.exp_month:02d}",
            }
            if card.cvv is not None:
                source["security_code"] = card.cvv.get_secret_value()
            if card.holder:
                source["name"] = card.holder
            body["payment_source"] = {"card": source}
        try:
            order = await self._call(
                "authorization",
                self._client.orders.create_order,
                body=json.dumps(body),
                paypal_request_id=charge.idempotency_key,
                prefer=_PREFER,
            )
        except _Declined as decline:
            return declined("", decline.issue, None)
        return await self._settled(order)

    async def _settled(self, order: Mapping[str, Any]) -> ConnectorResult:
        """Where `order` stands, once an order the payer approved (after 3-D Secure or
        PayPal's approval) is authorized or captured as its intent says: PayPal leaves
        that step to the merchant. Its PayPal-Request-Id comes from the order id, so
        doing it again is the same authorization or capture."""
        if order.get("status") != "APPROVED":
            return order_result(order)
        sale = order.get("intent") == "CAPTURE"
        call = self._client.orders.capture_order if sale else self._client.orders.authorize_order
        try:
            done = await self._call(
                "capture" if sale else "authorization",
                call,
                id=order["id"],
                paypal_request_id=f"paygate-complete-{order['id']}",
                prefer=_PREFER,
            )
        except _Declined as decline:
            return declined(str(order["id"]), decline.issue, None)
        return order_result(done)

    async def capture(self, reference: str, amount: int, idempotency_key: str) -> ConnectorResult:
        order = await self._order(reference)
        auths = _payments(order, "authorizations")
        if not auths:
            return order_result(order)  # a sale: captured when it was made
        currency = str(auths[-1]["amount"]["currency_code"])
        body = {"amount": {"currency_code": currency, "value": paypal_value(amount, currency)}}
        try:
            capture = await self._call(
                "capture",
                self._client.payments.capture_authorized_payment,
                authorization_id=auths[-1]["id"],
                body=json.dumps(body | {"final_capture": True}),
                paypal_request_id=idempotency_key,
                prefer=_PREFER,
            )
        except _Declined as decline:
            return declined(reference, decline.issue, None)
        if capture.get("status") in ("DECLINED", "FAILED"):
            code = (capture.get("processor_response") or {}).get("response_code")
            return declined(reference, str(capture["status"]), code)
        return order_result(await self._order(reference))

    async def void(self, reference: str, idempotency_key: str) -> ConnectorResult:
        order = await self._order(reference)
        auths = _payments(order, "authorizations")
        if not auths and order.get("status") in _WAITING:
            # Orders v2 has no cancel: an order never authorized or captured expires.
            return replace(order_result(order), status="canceled", message="Canceled")
        if not auths:
            return order_result(order)  # a sale (captured when made), or declined
        if auths[-1].get("status") != "VOIDED":
            await self._call(
                "void",
                self._client.payments.void_payment,
                authorization_id=auths[-1]["id"],
                paypal_request_id=idempotency_key,
                prefer=_PREFER,
            )
        return order_result(await self._order(reference))

    async def refund(
        self, reference: str, refund_id: str, amount: int, idempotency_key: str
    ) -> ConnectorRefund:
        order = await self._order(reference)
        captures = [
            c
            for c in _payments(order, "captures")
            if c.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
        ]
        if not captures:
            raise BankRefused(f"PayPal order {reference} has no capture to refund")
        currency = str(captures[-1]["amount"]["currency_code"])
        body = {"amount": {"currency_code": currency, "value": paypal_value(amount, currency)}}
        refund = await self._call(
            "refund",
            self._client.payments.refund_captured_payment,
            capture_id=captures[-1]["id"],
            body=json.dumps(body),
            paypal_request_id=refund_id,
            prefer=_PREFER,
        )
        value = refund["amount"]
        return ConnectorRefund(
            reference=str(refund["id"]),
            amount=minor_units(str(value["value"]), str(value["currency_code"])),
            status=_REFUND_STATUS.get(str(refund.get("status")), "failed"),
        )

    async def status(
        self, *, reference: str | None = None, idempotency_key: str | None = None
    ) -> ConnectorResult | None:
        try:
            if reference is not None:
                order = await self._call("lookup", self._client.orders.get_order, id=reference)
            elif idempotency_key is not None:
                order = await self._call(
                    "lookup",
                    self._client.orders.create_order,
                    body=json.dumps({"intent": "CAPTURE", "purchase_units": []}),
                    paypal_request_id=idempotency_key,
                    prefer=_PREFER,
                )
            else:
                raise BankRefused("a PayPal lookup needs the order id or the idempotency key")
        except _NotFound:
            return None
        except _Invalid:
            if reference is not None:
                raise
            return None  # PayPal refused the probe's body: no order has that request id
        return await self._settled(order)

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ConnectorEvent:
        seen = {key.lower(): value for key, value in headers.items()}
        fields = ("id", "time", "sig")
        names = [f"paypal-transmission-{field}" for field in fields]
        names += ["paypal-cert-url", "paypal-auth-algo"]
        missing = [name.upper() for name in names if not seen.get(name)]
        if missing:
            raise SignatureRefused(f"not a PayPal webhook: no {missing[0]}")
        try:
            sent = datetime.fromisoformat(seen["paypal-transmission-time"].replace("Z", "+00:00"))
            event = json.loads(body)
        except ValueError:
            raise SignatureRefused("a PayPal webhook with an unreadable time or body") from None
        if sent.tzinfo is None or abs(self._clock.now() - sent) > WEBHOOK_TOLERANCE:
            raise SignatureRefused("a PayPal webhook sent too long ago (or in the future)")
        if not isinstance(event, dict) or not isinstance(event.get("resource"), dict):
            raise SignatureRefused("a PayPal webhook without an event")
        check = {
            "auth_algo": seen["paypal-auth-algo"],
            "cert_url": seen["paypal-cert-url"],
            "transmission_id": seen["paypal-transmission-id"],
            "transmission_sig": seen["paypal-transmission-sig"],
            "transmission_time": seen["paypal-transmission-time"],
            "webhook_id": self._webhook_id,
            "webhook_event": event,
        }
        if await self._verify(check) != "SUCCESS":
            raise SignatureRefused("PayPal did not verify the webhook's signature")
        resource = event["resource"]
        reference, result = event_result(str(event.get("event_type")), resource)
        return ConnectorEvent(
            provider=self.name,
            event_id=str(event.get("id")),
            type=str(event.get("event_type")),
            reference=reference,
            result=result,
            created_at=datetime.fromisoformat(
                str(event.get("create_time", seen["paypal-transmission-time"])).replace(
                    "Z", "+00:00"
                )
            ).astimezone(UTC),
        )

    async def _verify(self, check: dict[str, Any]) -> str:
        """PayPal's `POST /v1/notifications/verify-webhook-signature` (not in the SDK)."""
        oauth = self._client.oauth_2
        token = await self._guard("webhook check", lambda: self._provide_token(self._token, oauth))
        url = f"{self._base_url}/v1/notifications/verify-webhook-signature"
        try:
            answer = await self._http.post(
                url, json=check, headers={"Authorization": f"Bearer {token.access_token}"}
            )
        except httpx.ConnectError:
            raise BankNotReached("PayPal not reached to verify a webhook") from None
        except httpx.HTTPError:
            raise BankUnavailable("PayPal did not answer the webhook check") from None
        if answer.status_code == 503:
            raise ProcessorDown("PayPal is unavailable to verify a webhook")
        if answer.status_code >= 500:
            raise BankUnavailable("PayPal failed on the webhook check")
        if answer.status_code != 200:
            raise SignatureRefused(f"PayPal refused the webhook check ({answer.status_code})")
        return str(answer.json().get("verification_status"))

    async def close(self) -> None:
        await self._http.aclose()
        await asyncio.to_thread(self._client.config.http_client.session.close)
