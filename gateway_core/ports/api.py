"""What the terminal, the console and the CLI call: the gateway API."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

if TYPE_CHECKING:
    from gateway_core.acquirer_api import (
        Frame,
        Sms,
    )
    from gateway_core.bill_models import Bill
    from gateway_core.payments import ChargeRequest, Payment
    from gateway_core.shift_models import Count, DrawerMove, Shift, ShiftReport


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


class ShiftsAPI(Protocol):
    """Cashiers' shifts and their drawers (`gateway_core.shift_models`). A cash payment
    needs an open shift on its terminal; Z refuses while shifts are open."""

    async def open_shift(
        self, *, count: Count, cashier: str, terminal_id: str | None = None
    ) -> Shift:
        """Open a shift on the terminal (the settings' by default) with its counted
        float (`ShiftError` if one is open there)."""
        ...

    async def close_shift(
        self, shift_id: str, /, *, count: Count, operator: str, approval: Approval | None = None
    ) -> ShiftReport:
        """Close it with the counted drawer: over / short against expected, audited; a
        short over the settings' limit needs a manager's approval (`NotPermitted`)."""
        ...

    async def move_cash(
        self,
        shift_id: str,
        /,
        *,
        kind: Literal["paid_in", "paid_out"],
        amount: int,
        reason: str,
        operator: str,
        approval: Approval | None = None,
    ) -> DrawerMove:
        """Put cash in or take it out of the drawer with a reason (a manager approves;
        a paid out never takes more than the drawer is expected to hold)."""
        ...

    def current_shift(self, terminal_id: str | None = None) -> Shift | None:
        """The open shift on a terminal (the settings' by default), None when none."""
        ...

    def shift_report(self, shift_id: str, /) -> ShiftReport:
        """A shift with its drawer's moves and totals (`ShiftError` for an unknown id)."""
        ...

    def shifts(self, day: date | None = None) -> list[Shift]:
        """The shifts opened on a business day (today by default) and those still open,
        oldest first."""
        ...


class BillsAPI(Protocol):
    """Split bills (`gateway_core.bill_models`): one bill, several tenders."""

    async def open_bill(
        self,
        *,
        amount: int,
        currency: str,
        operator: str,
        terminal_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Bill:
        """Start a bill with its total due."""
        ...

    async def pay_bill(self, bill_id: str, /, req: ChargeRequest) -> Bill:
        """Pay part of the balance with one tender (`req.amount` at most the balance,
        the bill's currency); a declined part stays on the bill as declined and the
        balance is still due. The bill is paid when its parts add up to it."""
        ...

    async def cancel_bill(
        self, bill_id: str, /, *, operator: str, approval: Approval | None = None
    ) -> Bill:
        """Give up the bill: void or refund each part already taken (refunds need a
        manager's approval), cancel the pending ones."""
        ...

    def get_bill(self, bill_id: str, /) -> Bill:
        """A bill with its parts as they stand (`BillError` for an unknown id)."""
        ...

    def bills(self, day: date | None = None) -> list[Bill]:
        """The bills of a business day (today by default), oldest first."""
        ...

    async def repair(self) -> list[str]:
        """Finish what a stop left (after `GatewayAPI.repair`): a canceling bill unwound,
        an open bill whose parts add up marked paid; one line per bill touched."""
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

    @property
    def bills(self) -> BillsAPI:
        """Split bills: one bill paid by several tenders."""
        ...

    @property
    def shifts(self) -> ShiftsAPI:
        """Cashiers' shifts and their drawers."""
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
