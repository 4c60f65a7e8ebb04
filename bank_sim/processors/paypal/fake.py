"""The PayPal fake's HTTP face: PayPal's REST paths under /paypal (OAuth2 client
credentials, Orders v2, Payments v2, webhook signature verification), PayPal's error
bodies, its faults (set in process, or by `POST|DELETE /paypal/_faults` where the fakes'
app serves it) and one test hook standing in for the
payer: `POST /paypal/_simulate/approve/{order_id}` (`{"declined": true}`: the payer's
funding is declined at capture, 422 INSTRUMENT_DECLINED)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bank_sim.processors.faults import Faults
from bank_sim.processors.paypal import shapes
from bank_sim.processors.paypal.book import PaypalBook
from bank_sim.processors.paypal.errors import FAULT_BODIES, PaypalError, invalid
from bank_sim.processors.paypal.store import PaypalStore
from bank_sim.processors.paypal.webhooks import CERT_ID, SentWebhook, Webhooks
from gateway_core.clock import Clock, SystemClock
from gateway_core.connectors.paypal_mapping import FAKE_CLIENT, FAKE_WEBHOOK_ID
from gateway_core.settings import ProcessorSettings

Handler = Callable[[Request], Awaitable[Response]]
_ORDERS, _PAYMENTS = "/v2/checkout/orders", "/v2/payments"


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


class PaypalFake:
    """PayPal's API for paygate's connector: `router()` (mount it on an app), `faults`,
    and `webhooks.sent` (every event sent, with its headers, for tests). It takes its
    own test client (`FAKE_CLIENT`) and the client id and secret of `settings`."""

    def __init__(
        self,
        directory: Path,
        clock: Clock | None = None,
        settings: ProcessorSettings | None = None,
        *,
        webhook_url: str | None = None,
    ) -> None:
        settings = settings or ProcessorSettings()
        self._clients = {FAKE_CLIENT[0]: FAKE_CLIENT[1]}
        client_id, secret = _secret(settings.api_key), _secret(settings.api_secret)
        if client_id and secret:
            self._clients[client_id] = secret
        now = (clock or SystemClock()).now
        self.store = PaypalStore(directory)
        self.book = PaypalBook(self.store, now)
        webhook_id = _secret(settings.webhook_secret) or FAKE_WEBHOOK_ID
        self.webhooks = Webhooks(self.store.signing_seed, webhook_id, now)
        if webhook_url:
            self.webhooks.deliver = lambda sent: _post_later(webhook_url, sent)
        self.faults = Faults()

    # -- authentication ------------------------------------------------------------------
    def _token(self, client_id: str) -> str:
        digest = hmac.new(self.store.signing_seed, client_id.encode(), hashlib.sha256)
        return "A21AA" + digest.hexdigest()[:40]

    async def _oauth(self, request: Request) -> Response:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            client_id = secret = ""
        known = self._clients.get(client_id)
        if scheme.lower() != "basic" or known is None or not hmac.compare_digest(known, secret):
            body = {"error": "invalid_client", "error_description": "Client Authentication failed"}
            return JSONResponse(body, status_code=401)
        return JSONResponse(
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": self._token(client_id),
                "token_type": "Bearer",
                "app_id": "APP-PAYGATEFAKE",
                "expires_in": 32400,
                "nonce": "paygate-fake",
            }
        )

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        tokens = (self._token(client_id) for client_id in self._clients)
        return scheme.lower() == "bearer" and any(hmac.compare_digest(token, t) for t in tokens)

    # -- plumbing --------------------------------------------------------------------------
    def _base(self, request: Request) -> str:
        return str(request.base_url).rstrip("/") + "/paypal"

    def _answer(self, request: Request, kind: str, record: dict[str, Any], status: int) -> Response:
        """Commit (a change), then answer `record` in PayPal's shape: whole for a GET or
        with `Prefer: return=representation`, else PayPal's default minimal answer."""
        if request.method != "GET":
            self._commit(request)
        shown = shapes.RENDER[kind](self.store, record, self._base(request))
        whole = request.method == "GET" or "return=representation" in request.headers.get(
            "prefer", ""
        )
        if not whole:
            shown = {key: shown[key] for key in ("id", "status", "links")}
        return JSONResponse(shown, status_code=status)

    def _commit(self, request: Request) -> None:
        """Save, and send the events the change made."""
        base = self._base(request)
        self.store.save()
        for event_type, event_kind, record_id in self.book.outbox:
            item = self.store.get(event_kind, record_id)
            if item is not None:
                resource = shapes.RENDER[event_kind](self.store, item, base)
                self.webhooks.emit(event_type, resource, f"{base}/v1/notifications/certs/{CERT_ID}")
        self.book.outbox.clear()

    def _api(self, handler: Handler) -> Handler:
        """`handler` behind PayPal's bearer token, its error bodies and the faults."""

        async def guarded(request: Request) -> Response:
            if not self._authorized(request):
                body = {
                    "error": "invalid_token",
                    "error_description": "Token signature verification failed",
                }
                return JSONResponse(body, status_code=401)
            await request.body()  # read before the lock (the handlers then reuse it)
            try:
                with self.store.lock:
                    return await handler(request)
            except PaypalError as error:
                self.book.outbox.clear()
                return JSONResponse(error.body(), status_code=error.status)

        async def endpoint(request: Request) -> Response:
            return await self.faults.around(FAULT_BODIES, request, guarded)

        return endpoint

    # -- handlers ----------------------------------------------------------------------------
    async def _create_order(self, request: Request) -> Response:
        order, new = self.book.create_order(await _json(request), _request_id(request))
        return self._answer(request, "orders", order, 201 if new else 200)

    async def _get(self, request: Request, kind: str, what: str) -> Response:
        return self._answer(
            request, kind, self.book.find(kind, request.path_params["id"], what), 200
        )

    async def _complete(self, request: Request, intent: str) -> Response:
        order = self.book.complete_order(request.path_params["id"], intent, _request_id(request))
        return self._answer(request, "orders", order, 201)

    async def _capture(self, request: Request) -> Response:
        body = await _json(request)
        capture = self.book.capture_authorization(
            request.path_params["id"], body, _request_id(request)
        )
        return self._answer(request, "captures", capture, 201)

    async def _void(self, request: Request) -> Response:
        auth = self.book.void_authorization(request.path_params["id"], _request_id(request))
        if "return=representation" in request.headers.get("prefer", ""):
            return self._answer(request, "authorizations", auth, 200)
        self._commit(request)
        return Response(status_code=204)

    async def _refund(self, request: Request) -> Response:
        body = await _json(request)
        refund = self.book.refund_capture(request.path_params["id"], body, _request_id(request))
        return self._answer(request, "refunds", refund, 201)

    async def _verify(self, request: Request) -> Response:
        body = await _json(request)
        ok = self.webhooks.verify(body)
        return JSONResponse({"verification_status": "SUCCESS" if ok else "FAILURE"})

    async def _approve(self, request: Request) -> Response:
        try:
            body = await _json(request)
            with self.store.lock:
                order = self.book.approve(request.path_params["id"], bool(body.get("declined")))
                return self._answer(request, "orders", order, 200)
        except PaypalError as error:
            return JSONResponse(error.body(), status_code=error.status)

    async def _cert(self, request: Request) -> Response:
        return PlainTextResponse(self.webhooks.public_pem())

    def router(self) -> APIRouter:
        """PayPal's paths under /paypal (the fakes' app adds `/paypal/_faults`)."""
        router = APIRouter(prefix="/paypal", include_in_schema=False)
        add = router.add_api_route
        api = self._api
        add("/v1/oauth2/token", self._oauth, methods=["POST"])
        add(_ORDERS, api(self._create_order), methods=["POST"])
        add(_ORDERS + "/{id}", api(lambda r: self._get(r, "orders", "order")), methods=["GET"])
        add(
            _ORDERS + "/{id}/authorize",
            api(lambda r: self._complete(r, "AUTHORIZE")),
            methods=["POST"],
        )
        add(
            _ORDERS + "/{id}/capture", api(lambda r: self._complete(r, "CAPTURE")), methods=["POST"]
        )
        auths = _PAYMENTS + "/authorizations/{id}"
        add(auths, api(lambda r: self._get(r, "authorizations", "authorization")), methods=["GET"])
        add(auths + "/capture", api(self._capture), methods=["POST"])
        add(auths + "/void", api(self._void), methods=["POST"])
        captures = _PAYMENTS + "/captures/{id}"
        add(captures, api(lambda r: self._get(r, "captures", "capture")), methods=["GET"])
        add(captures + "/refund", api(self._refund), methods=["POST"])
        refunds = _PAYMENTS + "/refunds/{id}"
        add(refunds, api(lambda r: self._get(r, "refunds", "refund")), methods=["GET"])
        add("/v1/notifications/verify-webhook-signature", api(self._verify), methods=["POST"])
        add("/v1/notifications/certs/{cert_id}", self._cert, methods=["GET"])
        add("/_simulate/approve/{id}", self._approve, methods=["POST"])
        return router


def _request_id(request: Request) -> str | None:
    return request.headers.get("paypal-request-id") or None


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.") from None
    if not isinstance(body, dict):
        raise invalid("MALFORMED_REQUEST_JSON", "The request body must be a JSON object.")
    return body


def _post_later(url: str, sent: SentWebhook) -> None:
    """Deliver one event in the background (a failed delivery is only lost)."""

    def post() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(url, content=sent.body, headers=sent.headers, timeout=5.0)

    threading.Thread(target=post, name="paypal-webhook", daemon=True).start()
