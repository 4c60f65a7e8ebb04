"""Real processors (Stripe, Razorpay, PayPal) as the gateway reaches them: one
`Connector` each, built on the provider's official SDK; the routing tender calls them.

Failures are told apart by what they allow:
- `BankNotReached`: the request never left (refused connection, name not resolved, the
  SDK refused it before sending). Safe to fail over.
- `ProcessorDown`: the provider answered that it did not process the request (503, its
  documented "try again" errors before any state was made). Safe to fail over.
- `BankUnavailable`: sent, answer lost or unclear (timeout, 5xx after accepting). NOT
  safe: ask `status` first; fail over only when it says the payment does not exist.
A decline is not a failure: it is a `ConnectorResult` with `status="declined"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import SecretStr

from gateway_core.errors import BankUnavailable, InputError

ConnectorStatus = Literal[
    "succeeded",  # captured in full (or what was asked)
    "requires_capture",  # authorized, held
    "requires_action",  # the customer must act (3-D Secure, UPI collect, bank page)
    "pending",  # the provider is still working on it
    "declined",
    "canceled",  # voided / authorization released
]


class ProcessorDown(BankUnavailable):
    """The provider said it did not take the request (safe to try the next processor)."""


class SignatureRefused(InputError):
    """A webhook whose signature, timestamp or body does not check out."""


@dataclass(frozen=True)
class ConnectorCard:
    """A card as sent to a provider; in memory only (never stored, logged or shown)."""

    pan: SecretStr
    exp_month: int
    exp_year: int  # four digits
    cvv: SecretStr | None = None
    holder: str | None = None


@dataclass(frozen=True)
class ConnectorCharge:
    """One authorization asked of a provider. `idempotency_key` is passed through as
    the provider's own (Stripe `Idempotency-Key`, PayPal `PayPal-Request-Id`, Razorpay
    the order's `receipt`), so a retry of the same charge is the same provider payment.
    Exactly one source: `card`, `payment_method` (a provider test method such as
    `pm_card_visa`), `vpa` (UPI) or `bank` (net banking)."""

    payment_id: str
    idempotency_key: str
    merchant_id: str
    amount: int  # minor units of `currency`
    currency: str
    capture: bool  # True: a sale (authorize and capture); False: authorize only
    method: Literal["card", "upi", "netbanking"] = "card"
    card: ConnectorCard | None = None
    payment_method: str | None = None
    vpa: str | None = None
    bank: str | None = None
    description: str = ""


@dataclass(frozen=True)
class ConnectorResult:
    """Where the provider's payment stands, in paygate's words. `response_code` is
    paygate's (ISO 8583 style: "00" approved, "05", "51", "54", "91", ...) mapped from
    the provider's decline code, which is kept as `provider_code`."""

    status: ConnectorStatus
    reference: str  # the provider's id (pi_..., pay_..., the PayPal order id)
    response_code: str
    message: str
    amount_captured: int = 0
    amount_refunded: int = 0
    decline_code: str | None = None  # paygate's decline code (payments.reason_for)
    provider_status: str = ""  # the provider's own status word
    provider_code: str | None = None  # the provider's decline / error code
    action_url: str | None = None  # where the customer goes for requires_action


@dataclass(frozen=True)
class ConnectorRefund:
    """A refund the provider made (the same `refund_id` again is the same refund)."""

    reference: str  # the provider's refund id
    amount: int
    status: Literal["succeeded", "pending", "failed"]


@dataclass(frozen=True)
class ConnectorEvent:
    """A provider's webhook, verified: what happened to which provider payment."""

    provider: str
    event_id: str  # the provider's event id (a replayed event has the same one)
    type: str  # the provider's event type ("payment_intent.succeeded", ...)
    reference: str  # the provider's payment id it is about
    result: ConnectorResult | None  # where that payment stands now, when the event says
    created_at: datetime


@runtime_checkable
class Connector(Protocol):
    """One real processor, through its official SDK. Every call has a deadline and
    raises as the module docstring says; amounts are minor units (each provider's
    currency rules applied inside); no card data in any exception or log."""

    name: str  # "stripe", "razorpay", "paypal"
    methods: frozenset[str]  # the paygate methods it takes ("card", "upi", ...)

    async def authorize(self, charge: ConnectorCharge) -> ConnectorResult:
        """Create (and confirm) the provider's payment for `charge`."""
        ...

    async def capture(self, reference: str, amount: int, idempotency_key: str) -> ConnectorResult:
        """Capture `amount` (≤ authorized; less is a partial capture, the rest released)."""
        ...

    async def void(self, reference: str, idempotency_key: str) -> ConnectorResult:
        """Release an uncaptured authorization."""
        ...

    async def refund(
        self, reference: str, refund_id: str, amount: int, idempotency_key: str
    ) -> ConnectorRefund:
        """Give back `amount` of a captured payment (partial; several allowed)."""
        ...

    async def status(
        self, *, reference: str | None = None, idempotency_key: str | None = None
    ) -> ConnectorResult | None:
        """Where the payment stands, found by the provider's id or by the idempotency
        key the charge was sent with; None when the provider says it does not exist.
        Raises `BankUnavailable` when it cannot tell."""
        ...

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ConnectorEvent:
        """Verify (`SignatureRefused` otherwise: bad signature, too old, replayed body
        with another timestamp) and read a webhook the provider sent."""
        ...

    async def close(self) -> None:
        """Release the SDK's connections."""
        ...
