"""The Stripe fake as served: `StripeFake(directory, clock)` with its `router()` for
`/stripe/v1/...` (secret-key auth, form-encoded params, idempotency keys, faults) and,
for tests, its `faults`, `webhooks` and `account`."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bank_sim.processors.faults import ErrorBodies, Faults
from bank_sim.processors.stripe import errors
from bank_sim.processors.stripe.errors import StripeError, invalid, missing
from bank_sim.processors.stripe.forms import FormError, parse_form
from bank_sim.processors.stripe.intents import Params, StripeAccount, integer
from bank_sim.processors.stripe.state import StripeState
from bank_sim.processors.stripe.webhooks import Delivery, Webhooks
from gateway_core.clock import Clock
from gateway_core.settings import ProcessorSettings

DEFAULT_KEY = "sk_test_paygate"  # the secret key the local fake takes when none is set
BODIES = ErrorBodies(down=errors.down, error=errors.server_error)
_ID = r"([A-Za-z0-9_]+)"
Handler = Callable[[StripeAccount, Params, str | None, list[str]], Any]


def _list(objects: list[dict[str, Any]], params: Params, url: str) -> dict[str, Any]:
    """Stripe's list page: `limit` (1 to 100, default 10) after `starting_after`."""
    limit = integer(params, "limit") or 10
    if limit > 100:
        raise invalid("This value must be less than or equal to 100.", "limit")
    after = params.get("starting_after")
    if after:
        ids = [obj["id"] for obj in objects]
        objects = objects[ids.index(after) + 1 :] if after in ids else []
    return {"object": "list", "data": objects[:limit], "has_more": len(objects) > limit, "url": url}


def _intents(account: StripeAccount, params: Params, key: str | None, ids: list[str]) -> Any:
    """The list, `created` filtered as Stripe's (an exact time or gt/gte/lt/lte)."""
    intents = account.state.of("payment_intent")
    created = params.get("created")
    bounds = created if isinstance(created, dict) else {"eq": created} if created else {}
    tests = {
        "gt": int.__gt__,
        "gte": int.__ge__,
        "lt": int.__lt__,
        "lte": int.__le__,
        "eq": int.__eq__,
    }
    for op, value in bounds.items():
        if op not in tests or not str(value).isdigit():
            raise invalid(f"Invalid created[{op}]: {value}", "created")
        intents = [i for i in intents if tests[op](i["created"], int(value))]
    return _list(intents, params, "/v1/payment_intents")


def _search(account: StripeAccount, params: Params, key: str | None, ids: list[str]) -> Any:
    found = account.search(params)
    limit = integer(params, "limit") or 10
    page = {"object": "search_result", "data": found[:limit], "has_more": len(found) > limit}
    return page | {"next_page": None, "url": "/v1/payment_intents/search"}


def _refunds(account: StripeAccount, params: Params, key: str | None, ids: list[str]) -> Any:
    refunds = account.state.of("refund")
    for field in ("payment_intent", "charge"):
        if params.get(field):
            refunds = [r for r in refunds if r[field] == params[field]]
    return _list(refunds, params, "/v1/refunds")


def _add_endpoint(account: StripeAccount, params: Params, key: str | None, ids: list[str]) -> Any:
    url, events = params.get("url"), params.get("enabled_events")
    if not isinstance(url, str) or not re.match(r"https?://", url):
        raise invalid("Missing required param: url.", "url", "parameter_missing")
    if not isinstance(events, list) or not events:
        raise invalid(
            "Missing required param: enabled_events.", "enabled_events", "parameter_missing"
        )
    return account.webhooks.add(url, events, account.now())


def _remove_endpoint(
    account: StripeAccount, params: Params, key: str | None, ids: list[str]
) -> Any:
    return account.webhooks.remove(ids[0]) or missing("webhook_endpoint", ids[0])


def _event(account: StripeAccount, params: Params, key: str | None, ids: list[str]) -> Any:
    found = next((e for e in account.state.events if e["id"] == ids[0]), None)
    if found is None:
        raise missing("event", ids[0])
    return found


# (method, path under /v1) -> handler(account, params, idempotency key, path ids)
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (m, re.compile(p), h)
    for m, p, h in [
        ("POST", "payment_intents", lambda a, p, k, i: a.create_intent(p, k)),
        (
            "GET",
            "payment_intents",
            lambda a, p, k, i: _list(a.state.of("payment_intent"), p, "/v1/payment_intents"),
        ),
        ("GET", "payment_intents/search", _search),
        ("GET", f"payment_intents/{_ID}", lambda a, p, k, i: a.intent(i[0])),
        ("POST", f"payment_intents/{_ID}/confirm", lambda a, p, k, i: a.confirm(i[0], p, k)),
        ("POST", f"payment_intents/{_ID}/capture", lambda a, p, k, i: a.capture(i[0], p, k)),
        ("POST", f"payment_intents/{_ID}/cancel", lambda a, p, k, i: a.cancel(i[0], p, k)),
        (
            "POST",
            f"payment_intents/{_ID}/_authenticate",
            lambda a, p, k, i: a.authenticate(i[0], p, k),
        ),
        ("POST", "refunds", lambda a, p, k, i: a.refund(p, k)),
        ("GET", "refunds", _refunds),
        ("GET", f"refunds/{_ID}", lambda a, p, k, i: a.state.get("re", i[0])),
        ("GET", f"charges/{_ID}", lambda a, p, k, i: a.state.get("ch", i[0])),
        ("GET", f"payment_methods/{_ID}", lambda a, p, k, i: a.state.get("pm", i[0])),
        ("POST", "webhook_endpoints", _add_endpoint),
        (
            "GET",
            "webhook_endpoints",
            lambda a, p, k, i: _list(
                list(a.webhooks.endpoints.values()), p, "/v1/webhook_endpoints"
            ),
        ),
        ("DELETE", f"webhook_endpoints/{_ID}", _remove_endpoint),
        ("GET", "events", lambda a, p, k, i: _list(a.state.events[::-1], p, "/v1/events")),
        ("GET", f"events/{_ID}", _event),
    ]
]


def _fingerprint(method: str, path: str, params: Params) -> str:
    """What makes two requests "the same" for an idempotency key, with no card number
    or CVC in it (the number's last 4 stand for it)."""
    safe = json.loads(json.dumps(params))
    card = (
        safe.get("payment_method_data", {}).get("card")
        if isinstance(safe.get("payment_method_data"), dict)
        else None
    )
    if isinstance(card, dict):
        card.pop("cvc", None)
        card["number"] = str(card.get("number", ""))[-4:]
    text = json.dumps([method, path, safe], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class StripeFake:
    """A stateful fake Stripe account under `directory`, taking its own test key and
    the secret key of `settings`, if any."""

    name = "stripe"

    def __init__(
        self, directory: Path, clock: Clock, settings: ProcessorSettings | None = None
    ) -> None:
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.account = StripeAccount(StripeState(directory), self.webhooks, clock)
        configured = settings.api_key if settings is not None else None
        self._keys = {DEFAULT_KEY} | ({configured.get_secret_value()} if configured else set())
        self._lock = threading.Lock()

    def add_endpoint(
        self, events: Collection[str] = ("*",), url: str | None = None, secret: str | None = None
    ) -> tuple[str, str]:
        """Register a webhook endpoint in process (no URL: its deliveries are only
        recorded; `secret`: the one the gateway is configured with, else a new one); its
        id and signing secret."""
        with self._lock:
            endpoint = self.webhooks.add(url, list(events), self.account.now(), secret)
        return str(endpoint["id"]), str(endpoint["secret"])

    def sent(self, reference: str, kind: str | None = None) -> list[Delivery]:
        """The webhooks sent about the PaymentIntent `reference` (of `kind` if given)."""
        return self.webhooks.sent(reference, kind)

    def intents(self, payment_id: str) -> list[dict[str, Any]]:
        """The PaymentIntents whose metadata names paygate's `payment_id`."""
        return [
            i
            for i in self.account.state.of("payment_intent")
            if i["metadata"].get("payment_id") == payment_id
        ]

    def router(self) -> APIRouter:
        """`/stripe/v1/...`, every request through `faults`."""
        router = APIRouter(prefix="/stripe/v1", include_in_schema=False)

        @router.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
        async def stripe_api(path: str, request: Request) -> Response:
            return await self.faults.around(BODIES, request, self._serve)

        return router

    async def _serve(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        pairs += parse_qsl(body, keep_blank_values=True)
        path = request.url.path.split("/stripe/v1/", 1)[-1].strip("/")
        key = request.headers.get("idempotency-key")
        before = len(self.webhooks.deliveries)
        with self._lock:
            self.account.base_url = str(request.base_url).rstrip("/")
            response = self._answer(request, path, pairs, key)
            sent = self.webhooks.deliveries[before:]
        self.webhooks.post(sent)
        return response

    def _answer(
        self, request: Request, path: str, pairs: list[tuple[str, str]], key: str | None
    ) -> Response:
        refused = self._refuse_key(request.headers.get("authorization", ""))
        if refused:
            return refused
        method, fingerprint = request.method, ""
        if key and method == "POST":
            saved = self.account.state.idempotency.get(key)
            try:
                fingerprint = _fingerprint(method, path, parse_form(pairs))
            except FormError as exc:
                return _error(invalid(f"Invalid parameter: {exc}", str(exc)))
            if saved is not None:
                if saved["fingerprint"] != fingerprint:
                    return _error(_reused(key))
                headers = {"Idempotent-Replayed": "true", "Idempotency-Key": key}
                return JSONResponse(saved["body"], saved["status"], headers)
        status, answer = self._dispatch(method, path, pairs, key)
        if method != "GET":
            if fingerprint and (status < 300 or status == 402):
                self.account.state.idempotency[key] = {
                    "fingerprint": fingerprint,
                    "status": status,
                    "body": answer,
                }
            self.account.state.save()
        return JSONResponse(answer, status, {"Idempotency-Key": key} if key else None)

    def _dispatch(
        self, method: str, path: str, pairs: list[tuple[str, str]], key: str | None
    ) -> tuple[int, Any]:
        for route_method, pattern, handler in ROUTES:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                try:
                    answer = handler(self.account, parse_form(pairs), key, list(match.groups()))
                except FormError as exc:
                    answer = invalid(f"Invalid parameter: {exc}", str(exc))
                except StripeError as exc:
                    answer = exc
                if isinstance(answer, StripeError):
                    return answer.status, json.loads(json.dumps(answer.body()))
                return 200, json.loads(json.dumps(answer))
        return 404, StripeError(404, f"Unrecognized request URL ({method}: /v1/{path}).").body()

    def _refuse_key(self, authorization: str) -> Response | None:
        """401 unless the request carries a key this fake takes (Bearer or Basic)."""
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                value = base64.b64decode(value).decode().partition(":")[0]
            except ValueError:
                value = ""
        if not value:
            message = "You did not provide an API key (HTTP Authorization: Bearer sk_...)."
        elif value in self._keys:
            return None
        else:
            message = f"Invalid API Key provided: {value[:8]}{'*' * 8}{value[-4:]}"
        return _error(StripeError(401, message))


def _reused(key: str) -> StripeError:
    return StripeError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        type="idempotency_error",
    )


def _error(error: StripeError) -> Response:
    return JSONResponse(error.body(), error.status)
