"""The Razorpay fake over HTTP, under `/razorpay/v1` as the official SDK reaches it
(`Client(base_url=".../razorpay")`): basic auth with the account's key id and secret,
Razorpay's JSON shapes, error bodies and codes, and the faults it is told to make.

The fake's own (not Razorpay's): `POST /razorpay/_faults` (faults.py),
`POST /razorpay/_webhooks {"url", "secret"}` (where events go), and
`POST /razorpay/_payments/{id}/complete {"success": bool}` (a UPI payer or a bank page
answering a waiting payment). The customer's page a payment's `authenticate` link opens
(an OTP form for a card, Success / Failure for net banking and UPI, as Razorpay's test
mode) needs no API key, as a browser reaches it."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from bank_sim.processors.razorpay.errors import ERROR_BODIES, RazorpayError, unauthorized
from bank_sim.processors.razorpay.fake import RazorpayAccount

Handler = Callable[[RazorpayAccount, re.Match[str], dict[str, Any], Request], dict[str, Any]]
PREFIX = "/razorpay"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _count(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name, str(default))
    if not value.isdigit():
        raise RazorpayError(f"The {name} must be an integer.", field=name)
    return int(value)


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("POST", re.compile(r"orders"), lambda f, m, b, r: f.create_order(b, r.state.key_id)),
    (
        "GET",
        re.compile(r"orders"),
        lambda f, m, b, r: f.list_orders(
            r.query_params.get("receipt"), _count(r, "count", 10), _count(r, "skip", 0)
        ),
    ),
    ("GET", re.compile(r"orders/(order_\w+)"), lambda f, m, b, r: f.fetch_order(m[1])),
    ("GET", re.compile(r"orders/(order_\w+)/payments"), lambda f, m, b, r: f.order_payments(m[1])),
    (
        "POST",
        re.compile(r"payments/create/(?:json|upi)"),
        lambda f, m, b, r: f.create_payment(b, _base(r)),
    ),
    (
        "POST",
        re.compile(r"payments/(pay_\w+)/otp/submit"),
        lambda f, m, b, r: f.submit_otp(m[1], b.get("otp")),
    ),
    (
        "POST",
        re.compile(r"payments/(pay_\w+)/otp/resend"),
        lambda f, m, b, r: f.resend_otp(m[1], _base(r)),
    ),
    (
        "GET",
        re.compile(r"payments/(pay_\w+)(?:/status)?"),
        lambda f, m, b, r: f.fetch_payment(m[1]),
    ),
    ("POST", re.compile(r"payments/(pay_\w+)/capture"), lambda f, m, b, r: f.capture(m[1], b)),
    (
        "POST",
        re.compile(r"payments/(pay_\w+)/refund"),
        lambda f, m, b, r: f.refund(m[1], b, r.headers.get("x-refund-idempotency")),
    ),
    ("GET", re.compile(r"payments/(pay_\w+)/refunds"), lambda f, m, b, r: f.payment_refunds(m[1])),
    (
        "GET",
        re.compile(r"payments/(pay_\w+)/refunds/(rfnd_\w+)"),
        lambda f, m, b, r: f.fetch_refund(m[2], m[1]),
    ),
    ("GET", re.compile(r"refunds/(rfnd_\w+)"), lambda f, m, b, r: f.fetch_refund(m[1])),
]


def _authenticated(fake: RazorpayAccount, request: Request) -> bool:
    """Whether the request's basic auth is a key of the account (kept as `key_id`)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        key_id, _, secret = base64.b64decode(token, validate=True).decode().partition(":")
    except ValueError:  # not base64, not ASCII, not UTF-8
        return False
    request.state.key_id = key_id
    return fake.authenticates(key_id, secret)


async def _body(request: Request) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RazorpayError("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RazorpayError("The request body must be a JSON object")
    return body


FORMS = {
    "otp": '<form method="post"><label>OTP (4 to 10 digits) <input name="otp"></label>'
    "<button>Submit</button></form>",
    "customer": '<form method="post"><button name="outcome" value="success">Success</button>'
    '<button name="outcome" value="failure">Failure</button></form>',
}


def _page(content: str) -> str:
    """The customer's page around `content` (HTML)."""
    return f"<!doctype html><title>Razorpay (paygate fake)</title><h1>Razorpay</h1>{content}"


class _Webhook(BaseModel):
    url: str | None = None
    secret: str


class _Completion(BaseModel):
    success: bool


class RazorpayFake(RazorpayAccount):
    """The Razorpay fake as the processors' app serves it (`processors/app.py` adds
    its `/razorpay/_faults`)."""

    def router(self) -> APIRouter:
        return razorpay_router(self)


def razorpay_router(fake: RazorpayAccount) -> APIRouter:
    """The fake's routes, under /razorpay."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    async def handle(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        try:
            if not _authenticated(fake, request):
                raise unauthorized()
            body = await _body(request)
            for method, pattern, handler in ROUTES:
                match = pattern.fullmatch(path)
                if match and method == request.method:
                    return JSONResponse(handler(fake, match, body, request))
            raise RazorpayError("The requested URL was not found on the server.", status=404)
        except RazorpayError as error:
            return JSONResponse(error.body, status_code=error.status)

    @router.api_route("/v1/payments/{payment_id}/authenticate", methods=["GET", "POST"])
    async def authenticate(request: Request, payment_id: str) -> Response:
        """The customer's page (no API key: a browser comes here): an OTP form for a
        card, Success / Failure for a bank page or a UPI payer, as Razorpay's test mode."""
        if request.method == "POST":
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            try:
                if "otp" in form:
                    fake.submit_otp(payment_id, form["otp"][0])
                else:
                    fake.complete(payment_id, form.get("outcome") == ["success"])
            except RazorpayError as error:
                return HTMLResponse(_page(f"<p>{escape(str(error))}</p>"), error.status)
            status = fake.fetch_payment(payment_id)["status"]
            done = _page(f"<p>Payment {escape(payment_id)}: {status}</p>")
            return HTMLResponse(done, background=BackgroundTask(fake.webhooks.send))
        waiting = fake.waiting_for(payment_id)
        if waiting is None:
            return HTMLResponse(_page("<p>This payment is not waiting for you.</p>"), 404)
        return HTMLResponse(_page(FORMS[waiting]))

    @router.api_route("/v1/{path:path}", methods=["GET", "POST"])
    async def api(request: Request, path: str) -> Response:
        moves_money = request.method == "POST" and path.startswith("payments/")
        if fake.faults.hits(moves_money):
            response = await fake.faults.around(ERROR_BODIES, request, handle)
        else:
            response = await handle(request)
        response.background = BackgroundTask(fake.webhooks.send)
        return response

    @router.post("/_webhooks")
    async def register_webhook(hook: _Webhook) -> dict[str, str | None]:
        fake.webhooks.register(hook.url, hook.secret)
        return {"url": hook.url}

    @router.post("/_payments/{payment_id}/complete")
    async def complete(payment_id: str, completion: _Completion) -> Response:
        try:
            answer = fake.complete(payment_id, completion.success)
            return JSONResponse(answer, background=BackgroundTask(fake.webhooks.send))
        except RazorpayError as error:
            return JSONResponse(error.body, status_code=error.status)

    return router
