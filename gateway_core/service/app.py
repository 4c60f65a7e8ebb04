"""The gateway's HTTP face: `create_app(runtime)` is the FastAPI app `paygate serve` runs.

Every `/v1` request carries a terminal's API key (`Authorization: Bearer pk_...`); the
key names a merchant and a terminal, and the request sees only that merchant's
payments, users, reports and OTP texts (another merchant's payment id is a 404, as if it
did not exist; another merchant's user is unknown). Errors are
`{"error": {...}}` (see `errors`); a declined payment is a 200 with the payment.
Handlers are all `async`: the store is used from the event loop's thread only. (No
`from __future__ import annotations` here: FastAPI reads the handlers' annotations,
and `Caller` is local to `create_app`.)
"""

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_core.access import ADMINS, Approval, User
from gateway_core.acquirer_api import Frame, Sms
from gateway_core.audit import mask_card_numbers
from gateway_core.bank_client import BankClient
from gateway_core.cards import CardInput
from gateway_core.errors import BankRefused, BankUnavailable, InputError, PaygateError
from gateway_core.gateway import ChargeRequest, UnknownPayment
from gateway_core.payments import Payment
from gateway_core.runtime import Runtime
from gateway_core.service.auth import Authenticator, FailedAuthLimiter
from gateway_core.service.errors import (
    AuthenticationFailed,
    ErrorBody,
    ErrorDetail,
    RateLimited,
    describe,
)
from gateway_core.service.keys import ApiKey, ApiKeys, UnknownKey
from gateway_core.service.models import (
    IDEMPOTENCY_KEY_RULE,
    MAX_JSON_DEPTH,
    ApprovalBody,
    CaptureBody,
    ConfirmBody,
    Health,
    IssuedKey,
    KeyCreate,
    KeyRevoke,
    LoginBody,
    Operated,
    PaymentCreate,
    PaymentList,
    RefundBody,
    Repaired,
    VoidBody,
    check_idempotency_key,
)
from gateway_core.settlement import DayReport, Settlement, parse_day
from gateway_core.store.auth_failures import TinyFailedAuthRepository

log = logging.getLogger("paygate.service")

MAX_BODY_BYTES = 16 * 1024  # the largest request is a payment of a few hundred bytes
ERROR_RESPONSES = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "invalid request, or JSON nested too deep"),
        (401, "missing, unknown or revoked API key"),
        (403, "a manager's or admin's approval, or a login, refused"),
        (404, "no such payment (for this merchant)"),
        (409, "not allowed in the payment's state, day closed, idempotency key reused"),
        (413, "the body is too large"),
        (422, "a parameter is missing or invalid"),
        (429, "too many failed authentications"),
        (500, "internal error"),
        (503, "the banks cannot be reached"),
    )
}
PaymentId = Annotated[str, Path(min_length=1, max_length=64)]
HTTP_CODES = {404: "resource_missing", 405: "method_not_allowed", 413: "body_too_large"}
_PLAIN_NAME = re.compile(r"[A-Za-z_]{1,40}")


def _invalid(where: str, name: str, message: str) -> RequestValidationError:
    """A 422 for parameter `name` (in "query", "header"...), worded by `message`."""
    return RequestValidationError([{"type": "value_error", "loc": (where, name), "msg": message}])


def _day(
    text: Annotated[
        str | None, Query(alias="date", max_length=20, description="YYYY-MM-DD (default: today)")
    ] = None,
) -> date | None:
    """`?date=`, read by the parser the CLI's `--date` uses (range included)."""
    try:
        return None if text is None else parse_day(text)
    except InputError as exc:
        raise _invalid("query", "date", exc.message) from None


def _idempotency_key(
    key: Annotated[
        str | None, Header(alias="Idempotency-Key", description=IDEMPOTENCY_KEY_RULE)
    ] = None,
) -> str | None:
    """The Idempotency-Key header: printable ASCII (other bytes would come back garbled)."""
    try:
        return None if key is None else check_idempotency_key(key)
    except InputError as exc:
        raise _invalid("header", "Idempotency-Key", exc.message) from None


Day = Annotated[date | None, Depends(_day)]
IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]


async def board_merchants(bank: BankClient, keys: ApiKeys) -> None:
    """Board at the acquirer every merchant that holds a live terminal key, with those
    terminals (when the server starts: keys issued while it was stopped)."""
    for merchant_id in sorted({key.merchant_id for key in keys.list()}):
        await bank.board(merchant_id, keys.terminals(merchant_id))


class BodyLimit:
    """Refuse request bodies over `max_bytes` (413) or nested deeper than
    `MAX_JSON_DEPTH` (400 `json_too_deep`), in the API's error shape.

    (FastAPI's own `max_body_size` answers a too-long Content-Length in plain text.)
    A declared length is refused before the body is read; an undeclared (chunked) one
    is counted as it arrives. The body (small by then) is read whole, its nesting
    checked, and handed on to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            return await _error(*_too_large(self.max_bytes))(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return await _error(*_too_large(self.max_bytes))(scope, receive, send)
            more = message.get("more_body", False)
        if json_depth(body) > MAX_JSON_DEPTH:
            return await _error(*_too_deep())(scope, receive, send)
        whole: Message | None = {"type": "http.request", "body": body, "more_body": False}

        async def replay() -> Message:
            nonlocal whole
            if whole is None:
                return await receive()
            message, whole = whole, None
            return message

        await self.app(scope, replay, send)


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped), counted
    in one pass before parsing: Python's parser gives up on a deep one with a
    RecursionError, which FastAPI reports as a bare "error parsing the body"."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def _too_deep() -> tuple[int, ErrorDetail]:
    message = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
    return 400, ErrorDetail(type="invalid_request_error", code="json_too_deep", message=message)


def _too_large(max_bytes: int) -> tuple[int, ErrorDetail]:
    message = f"the request body is over {max_bytes} bytes"
    return 413, ErrorDetail(type="invalid_request_error", code="body_too_large", message=message)


def _error(status: int, detail: ErrorDetail, **headers: str) -> JSONResponse:
    body = ErrorBody(error=detail).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers=headers or None)


def _validation_detail(exc: RequestValidationError) -> tuple[int, ErrorDetail]:
    """The first problem as a 422 naming the parameter; never an input value, nor the
    name of an unknown field unless it is a plain word (a name can be a card number)."""
    err = exc.errors()[0]
    if err.get("type") == "json_invalid":
        message = "the body is not valid JSON"
        return 400, ErrorDetail(type="invalid_request_error", code="invalid_json", message=message)
    loc = [str(part) for part in err.get("loc", ())]
    loc = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        msg = "unknown field"
        if loc and not _PLAIN_NAME.fullmatch(loc[-1]):
            loc.pop()
    param = ".".join(loc)
    code = "parameter_missing" if err.get("type") == "missing" else "parameter_invalid"
    message = mask_card_numbers(f"{param or 'body'}: {msg}")
    return 422, ErrorDetail(
        type="invalid_request_error", code=code, message=message, param=param or None
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PaygateError)
    async def _refused(request: Request, exc: PaygateError) -> JSONResponse:
        status, detail = describe(exc)
        if isinstance(exc, RateLimited):
            return _error(status, detail, **{"Retry-After": str(exc.retry_after)})
        if isinstance(exc, AuthenticationFailed):
            return _error(status, detail, **{"WWW-Authenticate": "Bearer"})
        return _error(status, detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(*_validation_detail(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        detail = ErrorDetail(type="invalid_request_error", code=code, message=str(exc.detail))
        return _error(exc.status_code, detail)

    @app.exception_handler(Exception)
    async def _crashed(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        detail = ErrorDetail(type="api_error", code="internal_error", message="internal error")
        return _error(500, detail)


def create_app(rt: Runtime, *, repair_on_start: bool = True) -> FastAPI:
    """The API over an open writer `Runtime` (its gateway, store and audit log); the
    server's start runs the gateway's repair unless `repair_on_start` is False."""
    gateway, settings = rt.gateway, rt.settings
    keys = ApiKeys(rt.store, rt.keyring, rt.audit, rt.clock)
    limiter = FailedAuthLimiter(TinyFailedAuthRepository(rt.store), rt.clock)
    auth = Authenticator(keys, rt.audit, limiter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await board_merchants(gateway.bank, keys)
        except (BankRefused, BankUnavailable) as exc:
            log.warning("merchants not boarded at the acquirer: %s", exc)
        if repair_on_start:
            for note in await gateway.repair():
                log.warning("repaired: %s", note)
        yield
        await gateway.bank.close()

    app = FastAPI(
        title="paygate gateway",
        version="1",
        summary="Card payments for paygate terminals: sale, pre-authorization, OTP, "
        "capture, void, refund, reports.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    _install_error_handlers(app)
    bearer = HTTPBearer(auto_error=False, description="a terminal's key: pk_...")

    async def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiKey:
        address = request.client.host if request.client else "unknown"
        return auth.check(credentials.credentials if credentials else None, address)

    Caller = Annotated[ApiKey, Depends(caller)]
    v1 = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

    def shown(payment: Payment, key: ApiKey) -> Payment:
        """The payment as its merchant sent it (idempotency keys are scoped per merchant)."""
        sent = payment.idempotency_key
        if sent is None:
            return payment
        return payment.model_copy(
            update={"idempotency_key": sent.removeprefix(f"{key.merchant_id}/")}
        )

    def owned(payment_id: str, key: ApiKey) -> Payment:
        payment = gateway.get(payment_id)
        if payment.merchant_id != key.merchant_id:
            raise UnknownPayment(f"no payment {payment_id}")
        return payment

    def operator(body: Operated | None, key: ApiKey) -> str:
        if body is None or body.operator is None:
            return f"terminal:{key.terminal_id}"
        if body.operator not in {user.id for user in rt.access.of(key.merchant_id).list()}:
            raise InputError(f"operator: no user {body.operator!r}")
        return body.operator

    @v1.post("/payments", summary="Take a card payment (sale or pre-authorization)")
    async def create_payment(
        body: PaymentCreate, key: Caller, idempotency_key: IdempotencyKey
    ) -> Payment:
        card = CardInput(pan=body.card.number, expiry=body.card.expiry, cvv=body.card.cvv)
        request = ChargeRequest(
            amount=body.amount,
            currency=body.currency or settings.currency,
            card=card,
            tip=body.tip,
            capture=body.capture_method,
            terminal_id=key.terminal_id,
            merchant_id=key.merchant_id,
            idempotency_key=f"{key.merchant_id}/{idempotency_key}" if idempotency_key else None,
            operator=operator(body, key),
        )
        return shown(await gateway.charge(request), key)

    @v1.get("/payments/{payment_id}", summary="One payment, with its refunds")
    async def get_payment(payment_id: PaymentId, key: Caller) -> Payment:
        return shown(owned(payment_id, key), key)

    @v1.get("/payments", summary="The payments of a business day (today by default)")
    async def list_payments(key: Caller, day: Day) -> PaymentList:
        payments = gateway.list_day(day)
        return PaymentList(
            data=[shown(p, key) for p in payments if p.merchant_id == key.merchant_id]
        )

    @v1.post("/payments/{payment_id}/confirm", summary="Enter the OTP the bank sent")
    async def confirm(payment_id: PaymentId, body: ConfirmBody, key: Caller) -> Payment:
        owned(payment_id, key)
        done = await gateway.confirm_otp(payment_id, body.otp, operator=operator(body, key))
        return shown(done, key)

    @v1.post("/payments/{payment_id}/resend", summary="Ask the bank for a new OTP")
    async def resend(payment_id: PaymentId, key: Caller, body: Operated | None = None) -> Payment:
        owned(payment_id, key)
        return shown(await gateway.resend_otp(payment_id, operator=operator(body, key)), key)

    @v1.post("/payments/{payment_id}/capture", summary="Capture an authorization (once)")
    async def capture(
        payment_id: PaymentId, key: Caller, body: CaptureBody | None = None
    ) -> Payment:
        owned(payment_id, key)
        amount = body.amount if body else None
        done = await gateway.capture(payment_id, amount, operator=operator(body, key))
        return shown(done, key)

    @v1.post("/payments/{payment_id}/void", summary="Cancel before capture (manager approves)")
    async def void(payment_id: PaymentId, body: VoidBody, key: Caller) -> Payment:
        owned(payment_id, key)
        done = await gateway.void(
            payment_id, operator=operator(body, key), approval=_approval(body)
        )
        return shown(done, key)

    @v1.post("/payments/{payment_id}/refunds", summary="Refund (manager approves)")
    async def refund(payment_id: PaymentId, body: RefundBody, key: Caller) -> Payment:
        owned(payment_id, key)
        done = await gateway.refund(
            payment_id, body.amount, operator=operator(body, key), approval=_approval(body)
        )
        return shown(done, key)

    @v1.get("/payments/{payment_id}/frames", summary="The ISO 8583 frames (card masked)")
    async def frames(payment_id: PaymentId, key: Caller) -> list[Frame]:
        owned(payment_id, key)
        return await gateway.bank.frames(payment_id)

    @v1.post("/repair", summary="Settle payments left open (lost answers, failed captures)")
    async def repair(key: Caller) -> Repaired:
        notes = await gateway.repair()
        mine = [n for n in notes if gateway.get(n.split(":")[0]).merchant_id == key.merchant_id]
        return Repaired(repaired=mine)

    @v1.post("/login", summary="Check a user's PIN at the terminal (5 wrong ones lock)")
    async def login(body: LoginBody, key: Caller) -> User:
        return rt.access.of(key.merchant_id).login(body.user_id, body.pin.get_secret_value())

    def admin(approval: ApprovalBody, action: str, subject: str, key: ApiKey) -> str:
        users = rt.access.of(key.merchant_id)  # the key's merchant's admins only
        return users.approve(
            approval.approver_id,
            approval.pin.get_secret_value(),
            action=action,
            subject=subject,
            operator=f"terminal:{key.terminal_id}",
            roles=ADMINS,
        ).id

    @v1.get("/terminals", summary="The merchant's terminal keys (never a key itself)")
    async def list_keys(key: Caller) -> list[ApiKey]:
        return [k for k in keys.list() if k.merchant_id == key.merchant_id]

    @v1.post("/terminals", summary="Issue a key for a terminal (a merchant admin approves)")
    async def issue_key(body: KeyCreate, key: Caller) -> IssuedKey:
        subject = f"{key.merchant_id}/{body.terminal_id}"
        actor = admin(body.approval, "terminals.add", subject, key)
        await gateway.bank.board(key.merchant_id, [body.terminal_id])  # before the key works
        issued, secret = keys.issue(key.merchant_id, body.terminal_id, actor=actor)
        return IssuedKey(key=issued, secret=secret)

    @v1.post("/terminals/{key_id}/revoke", summary="Revoke a key now (a merchant admin approves)")
    async def revoke_key(
        key_id: Annotated[str, Path(max_length=32)], body: KeyRevoke, key: Caller
    ) -> ApiKey:
        if keys.get(key_id).merchant_id != key.merchant_id:
            raise UnknownKey(f"no API key {key_id!r}")
        return keys.revoke(key_id, actor=admin(body.approval, "terminals.revoke", key_id, key))

    @v1.get("/reports/x", summary="The X report of a business day (today by default)")
    async def x_report(key: Caller, day: Day) -> DayReport:
        mine = Settlement(rt.store, settings, clock=rt.clock, merchant_id=key.merchant_id)
        return mine.x_report(day)

    if rt.banks is not None:

        @v1.get("/demo/outbox", summary="The simulated phones' text messages (demo banks)")
        async def outbox(key: Caller) -> list[Sms]:
            return await gateway.bank.outbox(merchant_id=key.merchant_id)

    app.include_router(v1)

    @app.get("/health", summary="The service answers (no key needed)")
    async def health() -> Health:
        return Health()

    return app


def _approval(body: VoidBody) -> Approval:
    return Approval(body.approval.approver_id, body.approval.pin.get_secret_value())
