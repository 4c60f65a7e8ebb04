"""Stripe's error answers: `{"error": {type, code, decline_code, message, param,
payment_intent}}` with its HTTP status."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error Stripe answers with (402 card_error, 400 invalid_request_error, ...)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        payment_intent: dict[str, Any] | None = None,
        charge: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error: dict[str, Any] = {"type": type, "message": message}
        extra = {"code": code, "param": param, "decline_code": decline_code, "charge": charge}
        self.error |= {key: value for key, value in extra.items() if value is not None}
        if payment_intent is not None:
            self.error["payment_intent"] = payment_intent

    def body(self) -> dict[str, Any]:
        return {"error": self.error}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A 400 invalid_request_error."""
    return StripeError(
        400, message, param=param, code=code or ("parameter_invalid" if param else None)
    )


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    """A 404 resource_missing."""
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def unexpected_state(message: str) -> StripeError:
    """A 400 payment_intent_unexpected_state."""
    return StripeError(400, message, code="payment_intent_unexpected_state")


def down() -> tuple[int, dict[str, object]]:
    """The `down` fault: Stripe's 503 api_error (nothing was processed)."""
    error = {"type": "api_error", "message": "Stripe is temporarily unavailable. Try again."}
    return 503, {"error": error}


def server_error() -> tuple[int, dict[str, object]]:
    """The `error` fault: Stripe's 500 api_error (the request may have been processed)."""
    error = {"type": "api_error", "message": "An unknown error occurred."}
    return 500, {"error": error}
