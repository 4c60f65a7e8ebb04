"""The core's ports: what the gateway offers and what it needs, as `typing.Protocol`s.

One module, one section per port family. Adapters satisfy a Protocol structurally (no
inheritance); tests check each adapter against its port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from gateway_core.clock import Clock
from gateway_core.keys import KeyVersion

if TYPE_CHECKING:
    from gateway_core.acquirer_api import (
        AuthorizationRequest,
        AuthorizationResponse,
        Boarding,
        Challenge,
        Frame,
        OperationResponse,
        OtpVerifyResponse,
        ReversalReason,
        Sms,
    )
    from gateway_core.payments import ChargeRequest, Payment
    from gateway_core.upi_api import (
        CollectView,
        PayResult,
        TestPayer,
        UpiCallback,
        UpiLedgerCheck,
        UpiMerchant,
        UpiRefund,
        UpiRefundRequest,
        UpiSettlementLine,
        UpiTransaction,
        UpiTransactionRequest,
    )

__all__ = [
    "ASGIApp",
    "ApiKeyRepository",
    "Approval",
    "AuditRepository",
    "BankSettings",
    "BanksFactory",
    "Clock",
    "ClosingRepository",
    "DocumentTable",
    "EmbeddedBanks",
    "FailedAuthRepository",
    "GatewayAPI",
    "GatewayBank",
    "IdempotencyRepository",
    "KeyProvider",
    "OpenPaymentRepository",
    "Opened",
    "PayerApp",
    "PaymentRepository",
    "Processor",
    "Record",
    "RefundRepository",
    "Refunded",
    "RiskKey",
    "RiskRepository",
    "Tender",
    "TenderHost",
    "TokenRepository",
    "UpiPsp",
    "UserRepository",
]


# ---------------------------------------------------------------------------- gateway API
# What the terminal, the console and the CLI call: `Gateway` in process, `RemoteGateway`
# over HTTP, both checked by mypy (the end of `service/client.py`) and by one contract
# suite (tests/service/test_gateway_contract.py).
class Approval(NamedTuple):
    """A manager's ID and PIN, offered to approve a void or refund."""

    user_id: str
    pin: str


class GatewayBank(Protocol):
    """What a gateway's user reads from the banks behind it."""

    async def outbox(self, phone: str | None = None) -> list[Sms]:
        """The simulated phones' text messages, newest first (demo banks only)."""
        ...

    async def frames(self, payment_id: str) -> list[Frame]:
        """A payment's ISO 8583 frames, card masked."""
        ...

    async def close(self) -> None:
        """Close the connections."""
        ...


class GatewayAPI(Protocol):
    """Take a payment and everything after it; read payments back.

    The writes are awaitable (the payment's id positional: `Gateway` runs a payment's
    operations one at a time by it); `get` and `list_day` are synchronous (run them in a
    thread from an event loop when the gateway is remote). Refusals raise the same exception
    classes on every implementation (`UnknownPayment`, `NotAllowed`, `WrongOtp`, ...).
    """

    @property
    def bank(self) -> GatewayBank:
        """The banks, as far as a gateway's user sees them."""
        ...

    async def charge(self, req: ChargeRequest) -> Payment:
        """Authorize (and, for a sale, capture) a payment; a declined one is returned."""
        ...

    def confirm_otp(
        self, payment_id: str, /, otp: str, *, operator: str = "cli"
    ) -> Awaitable[Payment]:
        """Finish a payment the issuer stepped up, with the code the cardholder got."""
        ...

    def resend_otp(self, payment_id: str, /, *, operator: str = "cli") -> Awaitable[Payment]:
        """Ask the issuer for a new code."""
        ...

    def capture(
        self, payment_id: str, /, amount: int | None = None, *, operator: str = "cli"
    ) -> Awaitable[Payment]:
        """Capture an authorization, all of it when `amount` is None (once)."""
        ...

    def void(
        self, payment_id: str, /, *, operator: str = "cli", approval: Approval | None = None
    ) -> Awaitable[Payment]:
        """Cancel before capture, with a manager's approval."""
        ...

    def refund(
        self,
        payment_id: str,
        /,
        amount: int | None = None,
        *,
        operator: str = "cli",
        approval: Approval | None = None,
    ) -> Awaitable[Payment]:
        """Refund part or all of the capture, with a manager's approval."""
        ...

    def refresh(self, payment_id: str, /) -> Awaitable[Payment]:
        """The payment as it stands now: for one waiting for an asynchronous answer (UPI),
        its callbacks applied and any status check that is due made."""
        ...

    def cancel(self, payment_id: str, /, *, operator: str = "cli") -> Awaitable[Payment]:
        """Give up on a payment still waiting for the customer (`pending`: a UPI QR,
        intent or collect): the processor is told, nothing was taken (a debit already
        made is given back). No approval: no money moved."""
        ...

    async def repair(self) -> list[str]:
        """Settle what was left open; one line per payment touched."""
        ...

    def get(self, payment_id: str) -> Payment:
        """One payment with its refunds; `UnknownPayment` when there is none."""
        ...

    def list_day(self, day: date | None = None) -> list[Payment]:
        """The payments of a business day (today by default), oldest first."""
        ...


# ---------------------------------------------------------------------------- tenders
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


# ---------------------------------------------------------------------------- UPI
# The UPI tender's processor: the merchant's payee PSP, on the switch (bank_sim's, over
# the banks app's `/upi/v1`; wire models in `gateway_core.upi_api`). Same errors as the
# acquirer client: `BankUnavailable` (maybe reached), `BankNotReached` (never sent),
# `BankRefused` (4xx: the PSP refused the request).


@runtime_checkable
class UpiPsp(Protocol):
    """The payee PSP as the UPI tender reaches it."""

    timeout_s: float

    async def board(self, merchant: UpiMerchant) -> UpiMerchant:
        """Enrol the merchant's VPA and callback secret (again: the same answer)."""
        ...

    async def create(self, req: UpiTransactionRequest) -> UpiTransaction:
        """Start a QR / intent transaction or push a collect request (the same
        `reference` again: the transaction already made)."""
        ...

    async def status(self, txn_id: str) -> UpiTransaction:
        """A status check with the switch (what NPCI calls ChkTxn)."""
        ...

    async def cancel(self, txn_id: str) -> UpiTransaction:
        """Withdraw a transaction nobody paid yet (CANCELED), or, when the payer was
        debited and the credit never confirmed, have the debit reversed (REVERSED)."""
        ...

    async def reverse(self, txn_id: str) -> UpiTransaction:
        """Give back a debit never confirmed to the payee (after the last check)."""
        ...

    async def refund(self, req: UpiRefundRequest) -> UpiRefund:
        """A refund as a new credit to the payer (the same `refund_id`: the same one)."""
        ...

    async def refund_status(self, refund_id: str) -> UpiRefund:
        """Where a refund stands."""
        ...

    async def callbacks(self, merchant_id: str) -> list[UpiCallback]:
        """Outcomes pushed to the merchant and not yet acknowledged, oldest first."""
        ...

    async def ack(self, merchant_id: str, ids: list[str]) -> None:
        """The callbacks the gateway stored (never sent again)."""
        ...

    async def settlement(self, day: date) -> list[UpiSettlementLine]:
        """The switch's settlement file of a day."""
        ...

    async def close(self) -> None:
        """Close the connection."""
        ...


@runtime_checkable
class PayerApp(Protocol):
    """A customer's UPI app on the simulated network (the terminal's demo phone, `paygate
    upi pay`): pay a link or a collect request with a VPA and UPI PIN."""

    async def pay(
        self, vpa: str, pin: str, *, link: str | None = None, request_id: str | None = None
    ) -> PayResult:
        """Approve a scanned link or a collect request with the payer's PIN."""
        ...

    async def decline(self, vpa: str, request_id: str) -> PayResult:
        """Decline a collect request."""
        ...

    async def inbox(self, vpa: str) -> list[CollectView]:
        """The collect requests waiting for `vpa`."""
        ...

    async def payers(self) -> list[TestPayer]:
        """The test VPAs and what each does."""
        ...

    async def ledger_check(self) -> UpiLedgerCheck:
        """Whether the UPI books balance."""
        ...


# ---------------------------------------------------------------------------- processor
# Who moves the money for a tender: the acquirer client (in process or over httpx).

# An ASGI application (the embedded banks' HTTP face): scope, receive, send.
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


@runtime_checkable
class Processor(Protocol):
    """The acquirer as the card tender reaches it (`BankClient`): every call has a
    deadline and raises `BankUnavailable` (maybe reached) or `BankNotReached` (never sent)."""

    timeout_s: float

    async def authorize(self, req: AuthorizationRequest) -> AuthorizationResponse:
        """0100 → 0110."""
        ...

    async def reverse(self, payment_id: str, reason: ReversalReason) -> OperationResponse:
        """0400 → 0410: release whatever is held for the payment."""
        ...

    async def capture(
        self, payment_id: str, amount: int, day: date | None = None
    ) -> OperationResponse:
        """Complete `amount` of the hold, clearing on business day `day`."""
        ...

    async def refund(
        self, payment_id: str, refund_id: str, amount: int, day: date | None = None
    ) -> OperationResponse:
        """Credit `amount` back, clearing on business day `day`."""
        ...

    async def verify_otp(self, challenge_id: str, otp: str) -> OtpVerifyResponse:
        """Check a cardholder's code."""
        ...

    async def resend_otp(self, challenge_id: str) -> Challenge:
        """Ask for a new code."""
        ...

    async def frames(self, payment_id: str) -> list[Frame]:
        """The payment's ISO 8583 frames, masked."""
        ...

    async def clearing(self, day: date) -> list[dict[str, Any]]:
        """The acquirer's clearing file for a business day."""
        ...

    async def board(self, merchant_id: str, terminal_ids: Iterable[str]) -> Boarding:
        """Enrol a merchant and its terminals."""
        ...

    async def close(self) -> None:
        """Close the connection."""
        ...


@runtime_checkable
class EmbeddedBanks(Protocol):
    """Banks running in this process (the simulator): reached without sockets, closed
    with the runtime."""

    def asgi_app(self) -> ASGIApp:
        """Their HTTP face, for an in-process client."""
        ...

    def close(self) -> None:
        """Close their store."""
        ...


class BankSettings(Protocol):
    """What the embedded banks are opened with (`Settings` has it)."""

    @property
    def data_dir(self) -> Path: ...
    @property
    def bank_latency_ms(self) -> float: ...
    @property
    def tz(self) -> tzinfo | None: ...
    @property
    def merchant_id(self) -> str: ...
    @property
    def merchant_name(self) -> str: ...


@runtime_checkable
class BanksFactory(Protocol):
    """Opens the embedded banks of a data dir; the composition root passes one to
    `Runtime.open` (bank_sim's `simulated_banks`). The core never imports the banks."""

    def preload(self) -> None:
        """Import what opening the banks needs (slow; may run in a thread)."""
        ...

    def open(self, settings: BankSettings, clock: Clock) -> EmbeddedBanks:
        """The banks of `settings.data_dir`, on `clock`."""
        ...

    def country_of(self, bin6: str) -> str | None:
        """The issuing country of a BIN-6 (the risk rules' foreign-card check), None
        when unknown."""
        ...


# ---------------------------------------------------------------------------- repositories
# Everything stored, so that nothing outside gateway_core/store/ imports the database.
# Records cross these ports as plain JSON-ready dicts, never as the database's documents.
# A merchant id of None (or the home merchant's) names the home merchant's records.

Record = dict[str, Any]


class PaymentRepository(Protocol):
    """Payments by id, filed under the business day they were created on."""

    def save(self, day: date, payment: Record) -> None: ...
    def get(self, day: date, payment_id: str) -> Record | None: ...
    def for_day(self, day: date) -> list[Record]: ...
    def each(self, day: date) -> Iterator[Record]: ...
    def forget_indexes(self) -> None: ...


class RefundRepository(Protocol):
    """Refunds, each filed under the business day it happened on."""

    def add(self, day: date, refund: Record) -> None: ...
    def for_payment(self, payment_id: str) -> list[Record]: ...
    def for_day(self, day: date) -> list[Record]: ...


class AuditRepository(Protocol):
    """The audit events in order, plus the chain head kept apart from them."""

    def append(self, day: date, event: Record) -> None: ...
    def events(self) -> Iterator[tuple[date, Record]]: ...
    def on(self, day: date) -> list[Record]: ...
    def last(self) -> tuple[date, Record] | None: ...
    def head(self) -> Record | None: ...
    def set_head(self, head: Record) -> None: ...


class ClosingRepository(Protocol):
    """Z reports: one per closed business day, written once, never changed."""

    def get(self, day: date) -> Record | None: ...
    def closed_at(self, day: date) -> datetime | None: ...
    def add(self, day: date, report: Record) -> None: ...
    def all(self) -> list[Record]: ...


class TokenRepository(Protocol):
    """Vault token records, by token id and by card fingerprint."""

    def get(self, token: str) -> Record | None: ...
    def find_by_fingerprint(self, fingerprint: str) -> Record | None: ...
    def add(self, record: Record) -> None: ...
    def replace(self, record: Record) -> None: ...
    def all(self) -> Iterator[Record]: ...


class UserRepository(Protocol):
    """Each merchant's users by id (ids are unique within a merchant)."""

    def get(self, merchant_id: str | None, user_id: str) -> Record | None: ...
    def list(self, merchant_id: str | None) -> list[Record]: ...
    def add(self, merchant_id: str | None, user: Record) -> None: ...
    def update(self, merchant_id: str | None, user_id: str, fields: Mapping[str, Any]) -> None: ...


class ApiKeyRepository(Protocol):
    """The terminals' API keys by key id, in the order they were issued."""

    def add(self, key: Record) -> None: ...
    def get(self, key_id: str) -> Record | None: ...
    def all(self) -> list[Record]: ...
    def update(self, key_id: str, fields: Mapping[str, Any]) -> None: ...


class RiskRepository(Protocol):
    """The risk rules' memory: attempts, blocks, and each merchant's usual ticket."""

    def events(self) -> Iterator[Record]: ...
    def add_event(self, merchant_id: str | None, event: Record) -> None: ...
    def blocks(self) -> list[Record]: ...
    def add_block(self, merchant_id: str | None, block: Record) -> None: ...
    def ticket(self, merchant_id: str | None, currency: str) -> Record | None: ...
    def add_ticket(self, merchant_id: str | None, currency: str, amount: int) -> None: ...


class IdempotencyRepository(Protocol):
    """Idempotency keys (hashed) and the payment each one made."""

    def get(self, key_hash: str) -> Record | None: ...
    def add(self, record: Record) -> None: ...
    def remove_before(self, cutoff: datetime) -> None: ...


class OpenPaymentRepository(Protocol):
    """The ids of the payments not yet final: what a repair looks at."""

    def add(self, payment_id: str) -> None: ...
    def discard(self, payment_id: str) -> None: ...
    def ids(self) -> list[str]: ...


class FailedAuthRepository(Protocol):
    """The recent failed authentications of each client address."""

    def failures(self, address: str) -> list[datetime]: ...
    def record(self, address: str, at: datetime, *, since: datetime) -> None: ...


class DocumentTable(Protocol):
    """One table of plain documents, optionally found by the value of a key field: what
    the bank simulator keeps (accounts, holds, postings, OTP challenges, ...)."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Record]: ...
    def get(self, value: object) -> Record | None: ...
    def find(self, **fields: object) -> Record | None: ...
    def where(self, **fields: object) -> list[Record]: ...
    def add(self, doc: Record) -> None: ...
    def put(self, doc: Record) -> None: ...
    def update(self, value: object, fields: Mapping[str, Any]) -> None: ...
    def update_where(
        self, fields: Mapping[str, Any], test: Callable[[Mapping[str, Any]], bool]
    ) -> None: ...
    def single(self) -> Record | None: ...
    def set_single(self, doc: Record) -> None: ...
    def remove_where(self, test: Callable[[Mapping[str, Any]], bool]) -> None: ...


# ---------------------------------------------------------------------------- keys
# Where secret keys come from: the file keyring now; a KMS-style envelope provider later.


class KeyProvider(Protocol):
    """Versioned secret keys: the current version signs and encrypts what is written
    now; older versions stay readable. `Keyring` (the key file) implements it."""

    @property
    def current(self) -> KeyVersion: ...
    @property
    def versions(self) -> list[KeyVersion]: ...
    def get(self, version: int) -> KeyVersion: ...
    def rotate(self) -> KeyVersion: ...
