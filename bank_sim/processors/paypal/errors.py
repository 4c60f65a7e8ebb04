"""PayPal's error answers: `{"name", "message", "debug_id", "details": [{"field",
"location", "issue", "description"}], "links"}` with their HTTP codes."""

from __future__ import annotations

import secrets

from bank_sim.processors.faults import ErrorBodies

_MESSAGES = {
    "INVALID_REQUEST": (
        400,
        "Request is not well-formed, syntactically incorrect, or violates schema.",
    ),
    "AUTHENTICATION_FAILURE": (
        401,
        "Authentication failed due to invalid authentication credentials or a missing"
        " Authorization header.",
    ),
    "RESOURCE_NOT_FOUND": (404, "The specified resource does not exist."),
    "UNPROCESSABLE_ENTITY": (
        422,
        "The requested action could not be performed, semantically incorrect, or failed"
        " business validation.",
    ),
    "INTERNAL_SERVER_ERROR": (500, "An internal server error occurred."),
    "SERVICE_UNAVAILABLE": (503, "Service Unavailable."),
}


class PaypalError(Exception):
    """One PayPal error answer: `name` sets the HTTP code; `issue` goes in details."""

    def __init__(
        self, name: str, issue: str | None = None, description: str = "", field: str | None = None
    ) -> None:
        super().__init__(issue or name)
        self.name, self.issue, self.description, self.field = name, issue, description, field

    @property
    def status(self) -> int:
        return _MESSAGES[self.name][0]

    def body(self) -> dict[str, object]:
        body = error_body(self.name)
        if self.issue:
            detail: dict[str, str] = {"issue": self.issue, "description": self.description}
            if self.field:
                detail |= {"field": self.field, "location": "body"}
            body["details"] = [detail]
            body["links"] = [_link(self.issue)]
        return body


def error_body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "message": _MESSAGES[name][1],
        "debug_id": secrets.token_hex(7),
        "links": [_link(name)],
    }


def _link(issue: str) -> dict[str, str]:
    href = f"https://developer.paypal.com/docs/api/orders/v2/#error-{issue}"
    return {"href": href, "rel": "information_link", "method": "GET"}


def not_found(what: str) -> PaypalError:
    return PaypalError(
        "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", f"Specified {what} ID does not exist."
    )


def unprocessable(issue: str, description: str) -> PaypalError:
    return PaypalError("UNPROCESSABLE_ENTITY", issue, description)


def invalid(issue: str, description: str, field: str | None = None) -> PaypalError:
    return PaypalError("INVALID_REQUEST", issue, description, field)


FAULT_BODIES = ErrorBodies(
    down=lambda: (503, error_body("SERVICE_UNAVAILABLE")),
    error=lambda: (500, error_body("INTERNAL_SERVER_ERROR")),
)
