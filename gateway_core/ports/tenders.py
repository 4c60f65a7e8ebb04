"""One port per payment method, and what the gateway lends it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from gateway_core.payments import ChargeRequest, Payment


# One per payment method (card, later UPI, net banking, cash): authorize / confirm /
# capture / void / refund / status; the gateway adds what every method shares.


@dataclass(frozen=True)
class RiskKey:
    """Who pays, as the risk rules count them (a card: its fingerprint and BIN)."""

    fingerprint: str
    bin6: str


@dataclass(frozen=True)
class Opened:
    """A method's checked input as the new payment keeps it: its detail fields (e.g.
    {"card": CardDetail}), what the audit event of its creation shows of it, and who
    pays for the risk rules (None: the rules do not apply to the method)."""

    detail: dict[str, Any] = field(default_factory=dict)  # Payment fields: models
    shown: dict[str, str] = field(default_factory=dict)
    risk: RiskKey | None = None


@dataclass(frozen=True)
class Refunded:
    """A refund the processor made: its amount (a repeated refund keeps its first) and
    the processor's reference for it."""

    amount: int
    reference: str | None = None


@runtime_checkable
class TenderHost(Protocol):
    """What the gateway lends a tender: the one way to change a payment durably."""

    def save(self, payment: Payment) -> Payment:
        """Store `payment` (stamped now); the state machine checks its move first
        (`IllegalTransition`). A payment no longer open leaves the open index."""
        ...

    def step(self, payment_id: str) -> AbstractContextManager[None]:
        """One durable write for the block: its saves, audit events and risk records
        are stored together or not at all."""
        ...

    def record(self, actor: str, action: str, subject: str, **details: Any) -> None:
        """Write an audit event (e.g. "payment.pending") about `subject`."""
        ...

    def learn(self, payment: Payment) -> None:
        """Tell the risk rules how an attempt ended."""
        ...

    def today(self, merchant_id: str) -> date:
        """The merchant's business day now (what a capture or refund clears on)."""
        ...

    def now(self) -> datetime:
        """The gateway clock's time."""
        ...

    def amend(self, payment: Payment) -> Payment:
        """Store what changed of a payment that keeps its state, an ended one too (a UPI
        late credit's refund): `IllegalTransition` if its state differs from the stored."""
        ...


@runtime_checkable
class Tender(Protocol):
    """A payment method. The gateway checks amounts, the business day, idempotency,
    risk, approvals and states, stores the new payment as `unknown`, and calls these;
    each step saves through the host what it changed and returns the payment as saved."""

    method: str

    def check(self, req: ChargeRequest, today: date) -> object:
        """The method's part of a request, checked (`InputError` otherwise). Nothing is
        stored; secrets (a PAN, a CVV) stay in the returned object, in memory only."""
        ...

    def digest(self, checked: object) -> tuple[str, ...]:
        """What idempotency compares of the checked input (lookups only: a replayed
        request creates nothing)."""
        ...

    def open(self, checked: object) -> Opened:
        """The checked input as the new payment keeps it (a card is tokenized here)."""
        ...

    async def authorize(
        self, host: TenderHost, payment: Payment, checked: object, *, step_up: bool
    ) -> Payment:
        """Ask the processor for the stored `unknown` payment (`step_up`: the risk rules
        want the customer authenticated). Ends `succeeded`, `requires_capture`,
        `requires_action`, `pending`, `declined`, or `unknown` when the answer is lost."""
        ...

    async def confirm(
        self, host: TenderHost, payment: Payment, answer: str, operator: str
    ) -> Payment:
        """The customer's step for a `requires_action` payment (a card: the OTP)."""
        ...

    async def resend(self, host: TenderHost, payment: Payment, operator: str) -> Payment:
        """Ask again for the customer's step (a card: a new OTP)."""
        ...

    async def capture(
        self, host: TenderHost, payment: Payment, amount: int, operator: str
    ) -> Payment:
        """Capture `amount` (checked) of a `requires_capture` payment."""
        ...

    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        """Cancel a payment not captured yet (checked and approved by the gateway)."""
        ...

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        """Give `amount` (checked) back; the same `refund_id` again is the same refund.
        The gateway files the refund record."""
        ...

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        """Find out where an open payment stands and settle what can be (a pending
        answer, a lost one, a capture to retry, a step that expired): a note of what
        changed, None when nothing did. `repair` and `Gateway.refresh` call it."""
        ...


@runtime_checkable
class Polled(Protocol):
    """A method whose pending payments resolve by themselves (callbacks, status checks
    on a schedule: UPI, net banking): `Gateway.poll` asks it which are due."""

    method: str

    async def due(
        self,
        host: TenderHost,
        open_ids: Iterable[str],
        get: Callable[[str], Payment],
        now: datetime,
    ) -> list[str]:
        """The payments of this method to settle now (their `status` is called next)."""
        ...


@runtime_checkable
class Returning(Protocol):
    """A method whose customer comes back through the browser with a signed answer
    (net banking's redirect from the bank)."""

    method: str

    async def returned(self, host: TenderHost, payment: Payment, answer: object) -> Payment:
        """Check the answer (signature, amount, payment, reference never used before),
        then confirm with the processor server to server before anything changes; a
        refused answer is audited, changes nothing and raises `InputError`."""
        ...
