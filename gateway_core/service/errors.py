"""One error shape for the whole API: `{"error": {"type", "code", "message", "param"}}`.

`KINDS` maps each exception class of the gateway to its HTTP status, Stripe-style type
and code. The server picks the first class an exception is an instance of; the client
turns a code back into that class, so a caller of `RemoteGateway` catches the same
exceptions as a caller of `Gateway`. Messages are masked: never a full card number.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel

from gateway_core.access import AccessError, NotPermitted, UnknownUser, UserLocked, WrongPin
from gateway_core.audit import mask_card_numbers
from gateway_core.bill_models import BillError
from gateway_core.bills import BillNotOpen, UnknownBill
from gateway_core.cards import CardError
from gateway_core.errors import (
    BankRefused,
    BankUnavailable,
    InputError,
    PaygateError,
    SystemFailure,
)
from gateway_core.gateway import (
    DayClosed,
    IdempotencyConflict,
    NotAllowed,
    UnknownPayment,
    WrongOtp,
)
from gateway_core.service.keys import UnknownKey
from gateway_core.shift_models import ShiftError


class AuthenticationFailed(InputError):
    """The API key is missing, unknown or revoked (HTTP 401)."""


class RateLimited(InputError):
    """Too many failed authentications from one address (HTTP 429, `Retry-After`)."""

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GatewayUnreachable(SystemFailure):
    """The gateway service did not answer: no connection, or no answer in time."""


class ErrorDetail(BaseModel):
    """What went wrong, for a program (`type`, `code`, `param`) and a person (`message`)."""

    type: str
    code: str
    message: str
    param: str | None = None


class ErrorBody(BaseModel):
    """Every error response of the API."""

    error: ErrorDetail


class Kind(NamedTuple):
    """How one exception class travels: HTTP status, error type and code."""

    exc: type[PaygateError]
    status: int
    type: str
    code: str


# Most specific first: the server takes the first class the exception is an instance of.
KINDS: tuple[Kind, ...] = (
    Kind(UnknownPayment, 404, "invalid_request_error", "resource_missing"),
    Kind(UnknownKey, 404, "invalid_request_error", "api_key_missing"),
    Kind(UnknownBill, 404, "invalid_request_error", "bill_missing"),
    Kind(BillNotOpen, 409, "invalid_request_error", "bill_not_open"),
    Kind(BillError, 400, "invalid_request_error", "bill_invalid"),
    Kind(DayClosed, 409, "invalid_request_error", "day_closed"),
    Kind(NotAllowed, 409, "invalid_request_error", "payment_unexpected_state"),
    Kind(IdempotencyConflict, 409, "idempotency_error", "idempotency_key_in_use"),
    # A wrong OTP is a wrong value in the request, and the payment still waits for the
    # right one: 400, not 402 (402 says the payment failed).
    Kind(WrongOtp, 400, "card_error", "incorrect_otp"),
    Kind(CardError, 400, "card_error", "card_error"),  # the code is the CardError's own
    Kind(UnknownUser, 403, "approval_error", "unknown_user"),
    Kind(WrongPin, 403, "approval_error", "incorrect_pin"),
    Kind(UserLocked, 403, "approval_error", "user_locked"),
    Kind(NotPermitted, 403, "approval_error", "not_permitted"),
    Kind(AccessError, 403, "approval_error", "approval_refused"),
    Kind(AuthenticationFailed, 401, "authentication_error", "invalid_api_key"),
    Kind(RateLimited, 429, "rate_limit_error", "rate_limited"),
    Kind(BankRefused, 409, "bank_error", "bank_refused"),
    Kind(BankUnavailable, 503, "api_error", "bank_unavailable"),
    Kind(ShiftError, 400, "invalid_request_error", "shift_error"),
    Kind(InputError, 400, "invalid_request_error", "invalid_request"),
    Kind(SystemFailure, 500, "api_error", "internal_error"),
)
_BY_CODE = {kind.code: kind.exc for kind in KINDS}
PARAMS = {WrongOtp: "otp", AccessError: "approval"}


def describe(exc: PaygateError) -> tuple[int, ErrorDetail]:
    """The status and error detail of a gateway exception (its message masked)."""
    kind = next((k for k in KINDS if isinstance(exc, k.exc)), KINDS[-1])
    code, param = kind.code, next((p for c, p in PARAMS.items() if isinstance(exc, c)), None)
    if isinstance(exc, CardError):
        code, param = exc.code, f"card.{exc.field}"
    if isinstance(exc, IdempotencyConflict):  # its text names the key as scoped on the server
        message = "this Idempotency-Key was used for a different payment"
    else:
        message = mask_card_numbers(exc.message)
    return kind.status, ErrorDetail(type=kind.type, code=code, message=message, param=param)


def to_exception(status: int, detail: ErrorDetail) -> PaygateError:
    """The exception a caller of `Gateway` would have caught for this error response."""
    if detail.type == "card_error" and detail.code != "incorrect_otp":
        error = CardError(detail.message)
        error.code = detail.code
        error.field = (detail.param or "card.number").removeprefix("card.")
        return error
    cls = _BY_CODE.get(detail.code)
    if cls is None:
        cls = SystemFailure if status >= 500 else InputError
    return cls(detail.message)
