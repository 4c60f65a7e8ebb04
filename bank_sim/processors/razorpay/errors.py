"""Razorpay's error answers: `{"error": {code, description, field, source, step,
reason, metadata}}` with its HTTP status."""

from __future__ import annotations

from bank_sim.processors.faults import ErrorBodies


class RazorpayError(Exception):
    """An error answer of the fake, in Razorpay's shape."""

    def __init__(
        self,
        description: str,
        *,
        status: int = 400,
        code: str = "BAD_REQUEST_ERROR",
        field: str | None = None,
        source: str = "business",
        step: str = "payment_initiation",
        reason: str = "input_validation_failed",
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.body: dict[str, object] = {
            "error": {
                "code": code,
                "description": description,
                "field": field,
                "source": source,
                "step": step,
                "reason": reason,
                "metadata": metadata or {},
            }
        }


def not_found(what: str = "id") -> RazorpayError:
    """Razorpay's answer for an id it does not have."""
    return RazorpayError(
        f"The {what} provided does not exist", field=what if what != "id" else None
    )


def unauthorized() -> RazorpayError:
    """Razorpay's answer to a missing or wrong key id and secret."""
    return RazorpayError("Authentication failed", status=401, source="NA", step="NA", reason="NA")


def _server_error(status: int, description: str) -> tuple[int, dict[str, object]]:
    error = RazorpayError(
        description,
        status=status,
        code="SERVER_ERROR",
        source="internal",
        step="NA",
        reason="server_error",
    )
    return error.status, error.body


ERROR_BODIES = ErrorBodies(
    down=lambda: _server_error(503, "The server is currently unavailable, please try again later"),
    error=lambda: _server_error(
        500,
        "We are facing some trouble completing your request at the moment. Please try again"
        " shortly.",
    ),
)
