"""The UPI tender's processor (the payee PSP) and a customer's UPI app."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
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
