"""Errors in Stripe's shape: `{"error": {"type", "code", "message", "param", ...}}` with
Stripe's HTTP statuses, so that the `stripe` SDK raises the class it would against
Stripe (402 `CardError`, 400/404 `InvalidRequestError`, 401 `AuthenticationError`,
403 `PermissionError`, 429 `RateLimitError`, `IdempotencyError`, 5xx `APIError`).

`from_paygate` turns the gateway's exceptions into them (messages masked as the
gateway's own API masks them: `errors.describe`)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from gateway_core.access import AccessError
from gateway_core.cards import CardError
from gateway_core.errors import BankUnavailable, InputError, PaygateError
from gateway_core.gateway import IdempotencyConflict, NotAllowed, UnknownPayment
from gateway_core.service.errors import AuthenticationFailed, RateLimited, describe

MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they "
    "were first used with. Try using a key other than this one."
)
CARD_FIELDS = {"number": "number", "expiry": "exp_month", "cvv": "cvc"}


class StripeError(Exception):
    """One Stripe error answer; `extra` joins the error hash (decline_code, payment_intent)."""

    def __init__(
        self,
        status: int,
        type_: str,
        code: str | None,
        message: str,
        param: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.code, self.message = status, type_, code, message
        self.param, self.extra = param, extra
        self.headers: dict[str, str] = {}

    def response(self) -> JSONResponse:
        """The error as Stripe answers it."""
        error = {"type": self.type, "code": self.code, "message": self.message}
        error |= {"param": self.param} if self.param else {}
        body = {"error": error | self.extra}
        return JSONResponse(body, status_code=self.status, headers=self.headers or None)


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    """Stripe's 404 for an id this merchant has no object under."""
    shown = object_id[:64]
    return StripeError(
        404, "invalid_request_error", "resource_missing", f"No such {kind}: '{shown}'", param
    )


def from_paygate(exc: PaygateError, param: str | None = None) -> StripeError:
    """The Stripe error a gateway refusal is; `param`: the parameter an input error is about."""
    detail = describe(exc)[1]
    message = detail.message
    if isinstance(exc, UnknownPayment):
        return StripeError(404, "invalid_request_error", "resource_missing", message, param)
    if isinstance(exc, IdempotencyConflict):
        return StripeError(400, "idempotency_error", "idempotency_key_in_use", MISMATCH)
    if isinstance(exc, NotAllowed):
        code = "payment_intent_unexpected_state"
        return StripeError(400, "invalid_request_error", code, message, param)
    if isinstance(exc, CardError):
        field = f"payment_method_data[card][{CARD_FIELDS.get(exc.field, exc.field)}]"
        return StripeError(402, "card_error", exc.code, message, field)
    if isinstance(exc, AccessError):  # a manager's approval missing or refused
        return StripeError(403, "invalid_request_error", detail.code, message, "Paygate-Approval")
    if isinstance(exc, AuthenticationFailed):
        error = StripeError(401, "invalid_request_error", None, "Invalid API Key provided.")
        error.headers["WWW-Authenticate"] = 'Bearer realm="Stripe"'
        return error
    if isinstance(exc, RateLimited):
        error = StripeError(429, "invalid_request_error", "rate_limit", message)
        error.headers["Retry-After"] = str(exc.retry_after)
        return error
    if isinstance(exc, BankUnavailable):
        return StripeError(503, "api_error", "bank_unavailable", message)
    if isinstance(exc, InputError):
        return StripeError(400, "invalid_request_error", detail.code, message, param)
    return internal()


def internal() -> StripeError:
    """An error of ours: said once, named nowhere (the log has one line)."""
    return StripeError(500, "api_error", None, "An unexpected error occurred.")
