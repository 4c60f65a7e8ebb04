"""One call of the Stripe-compatible API: who calls (the terminal's paygate key as the
secret key: `Authorization: Bearer KEY`, or basic auth with the key as the user, as
Stripe takes it), its parameters (`stripe_form`), and every failure as a Stripe error
(`stripe_errors`): never a 500 with a traceback, never a value of the request echoed.

`reading` wraps a GET handler; `writing` a POST handler, with Stripe's `Idempotency-Key`
(`stripe_replays`): the same key with the same parameters answers the object the first
call made (`Idempotent-Replayed: true`), with others `idempotency_error`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway_core.audit import mask_card_numbers
from gateway_core.errors import InputError, PaygateError
from gateway_core.gateway import Gateway
from gateway_core.logs import bind_log_context
from gateway_core.ports import Approval
from gateway_core.service.dependencies import Service, Terminal
from gateway_core.service.models import check_idempotency_key
from gateway_core.service.stripe_errors import StripeError, from_paygate, internal
from gateway_core.service.stripe_form import Form, Params, invalid, parse_form
from gateway_core.service.stripe_replays import Replays

log = logging.getLogger("paygate.service")
APPROVAL_HEADER = "Paygate-Approval"  # a manager's `ID:PIN` for a void or a refund


@dataclass
class Call:
    """An authenticated call: its terminal, parameters and path."""

    request: Request
    terminal: Terminal
    form: Form
    params: Params

    @property
    def gateway(self) -> Gateway:
        return self.terminal.rt.gateway

    @property
    def operator(self) -> str:
        return self.terminal.operator(None)

    def path(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def approval(self) -> Approval | None:
        """The manager's approval the `Paygate-Approval: ID:PIN` header carries."""
        user, _, pin = self.request.headers.get(APPROVAL_HEADER, "").partition(":")
        return Approval(user, pin) if user and pin else None


@dataclass
class Done:
    """What a write answers, and the id of the object it made or changed (a replay of
    its idempotency key answers that object again)."""

    object_id: str
    response: Response


Reader = Callable[[Call], Awaitable[Response]]
Writer = Callable[[Call], Awaitable[Done]]
Replay = Callable[[Call, str], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def answer(body: object, status: int = 200) -> JSONResponse:
    """A JSON answer."""
    return JSONResponse(body, status_code=status)


def _token(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user.partition(":")[0] or None
    return None


async def _call(request: Request, post: bool) -> Call:
    service: Service = request.app.state.service
    address = request.client.host if request.client else "unknown"
    key = service.auth.check(_token(request.headers.get("authorization", "")), address)
    bind_log_context(merchant_id=key.merchant_id, terminal_id=key.terminal_id)
    form = parse_form(await request.body() if post else request.url.query.encode())
    return Call(request, Terminal(key, service.rt), form, Params(form))


async def _guarded(request: Request, run: Callable[[], Awaitable[Response]]) -> Response:
    try:
        return await run()
    except StripeError as exc:
        return exc.response()
    except PaygateError as exc:
        error = from_paygate(exc)
        if error.status == 500:  # a system failure: said in the log, in one line
            text = mask_card_numbers(exc.message)
            log.error("%s %s failed: %s", request.method, request.url.path, text)
        return error.response()
    except Exception as exc:  # a bug of ours: one line in the log, no traceback, no detail
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return internal().response()


def reading(handler: Reader) -> Endpoint:
    """A GET endpoint: its query string as the parameters."""

    async def endpoint(request: Request) -> Response:
        async def run() -> Response:
            return await handler(await _call(request, post=False))

        return await _guarded(request, run)

    return endpoint


def writing(handler: Writer, replay: Replay) -> Endpoint:
    """A POST endpoint, idempotent by its `Idempotency-Key` (answered again by `replay`)."""

    async def endpoint(request: Request) -> Response:
        async def run() -> Response:
            call = await _call(request, post=True)
            sent = request.headers.get("idempotency-key")
            if sent is None:
                return (await handler(call)).response
            try:
                check_idempotency_key(sent)
            except InputError as exc:
                raise invalid(None, exc.message) from None
            replays: Replays = request.app.state.replays
            scoped = f"{call.terminal.merchant_id}/stripe:{sent}"
            seen = replays.made(scoped, request.url.path, call.form)
            if seen is not None:
                replayed = replay(call, seen)
                replayed.headers["Idempotent-Replayed"] = "true"
                return replayed
            with replays.busy(scoped):
                done = await handler(call)
                await replays.remember(scoped, request.url.path, call.form, done.object_id)
            return done.response

        return await _guarded(request, run)

    return endpoint
