"""How every refusal leaves the API: `{"error": {...}}` with its status (and headers).

`install_error_handlers` maps the gateway's exceptions (through `errors.describe`),
FastAPI's validation errors, Starlette's HTTP errors and anything unexpected (a 500 that
names nothing) onto that one shape; `ERROR_RESPONSES` documents it in the OpenAPI file.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from gateway_core.audit import mask_card_numbers
from gateway_core.errors import PaygateError
from gateway_core.service.errors import (
    AuthenticationFailed,
    ErrorBody,
    ErrorDetail,
    RateLimited,
    describe,
)

log = logging.getLogger("paygate.service")

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
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
HTTP_CODES = {404: "resource_missing", 405: "method_not_allowed", 413: "body_too_large"}
_PLAIN_NAME = re.compile(r"[A-Za-z_]{1,40}")
# A part of a location shown as it is: a plain name, an index, pydantic's "[key]" (a
# mapping's key itself, say a stray newline, is "?": the error stays one line).
_SHOWN_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}|[0-9]{1,6}|\[key\]")


def error_response(status: int, detail: ErrorDetail, **headers: str) -> JSONResponse:
    """The error body as a response."""
    body = ErrorBody(error=detail).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers=headers or None)


def invalid(
    where: str, name: str, message: str, *, missing: bool = False
) -> RequestValidationError:
    """A 422 for parameter `name` (in "query", "header"...), worded by `message`
    (`missing`: its code is parameter_missing)."""
    kind = "missing" if missing else "value_error"
    return RequestValidationError([{"type": kind, "loc": (where, name), "msg": message}])


def validation_detail(exc: RequestValidationError) -> tuple[int, ErrorDetail]:
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
    param = ".".join(part if _SHOWN_PART.fullmatch(part) else "?" for part in loc)
    code = "parameter_missing" if err.get("type") == "missing" else "parameter_invalid"
    message = mask_card_numbers(f"{param or 'body'}: {msg}")
    return 422, ErrorDetail(
        type="invalid_request_error", code=code, message=message, param=param or None
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every refusal in the one error shape."""

    @app.exception_handler(PaygateError)
    async def _refused(request: Request, exc: PaygateError) -> JSONResponse:
        status, detail = describe(exc)
        if isinstance(exc, RateLimited):
            return error_response(status, detail, **{"Retry-After": str(exc.retry_after)})
        if isinstance(exc, AuthenticationFailed):
            return error_response(status, detail, **{"WWW-Authenticate": "Bearer"})
        return error_response(status, detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(*validation_detail(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        detail = ErrorDetail(type="invalid_request_error", code=code, message=str(exc.detail))
        return error_response(exc.status_code, detail)

    @app.exception_handler(Exception)
    async def _crashed(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        detail = ErrorDetail(type="api_error", code="internal_error", message="internal error")
        return error_response(500, detail)
