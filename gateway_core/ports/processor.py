"""Who moves a card's money (the acquirer), and the banks a runtime embeds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import date, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gateway_core.clock import Clock

if TYPE_CHECKING:
    from gateway_core.acquirer_api import (
        AuthorizationRequest,
        AuthorizationResponse,
        Boarding,
        CaptureRequest,
        Challenge,
        Frame,
        OperationResponse,
        OtpVerifyResponse,
        RefundRequest,
        ReversalReason,
        ReversalRequest,
    )


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


class Acquiring(Protocol):
    """The embedded acquirer's own handlers, called without HTTP: the API's models in
    and out, and its HTTP face's failures as exceptions (`BankUnavailable` for a 5xx,
    `BankRefused` for a 4xx)."""

    async def authorize(self, req: AuthorizationRequest) -> AuthorizationResponse:
        """0100 → 0110, or for a sale 0200 → 0210 (authorized and captured)."""
        ...

    async def reverse(self, req: ReversalRequest) -> OperationResponse:
        """0400 → 0410."""
        ...

    async def capture(self, req: CaptureRequest) -> OperationResponse:
        """0220 → 0230."""
        ...

    async def refund(self, req: RefundRequest) -> OperationResponse:
        """0200 refund → 0210."""
        ...


@runtime_checkable
class EmbeddedBanks(Protocol):
    """Banks running in this process (the simulator): reached without sockets, closed
    with the runtime."""

    def asgi_app(self) -> ASGIApp:
        """Their HTTP face, for an in-process client."""
        ...

    def acquiring(self) -> Acquiring:
        """The acquirer's handlers, for the card client to call without HTTP."""
        ...

    def processors_url(self) -> str:
        """Where the real processors' local fakes answer (http://127.0.0.1:PORT; the
        fake of NAME under /NAME), served on a loopback port from the first call on."""
        ...

    def close(self) -> None:
        """Close their store (and stop the fakes' server)."""
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
