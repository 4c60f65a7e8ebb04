"""The net banking tender's processor: the banks, server to server."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from gateway_core.netbanking_api import (
        NbBank,
        NbLedgerCheck,
        NbMerchant,
        NbRefund,
        NbRefundRequest,
        NbSettlementLine,
        NbTransaction,
        NbTransactionRequest,
    )


# The banks as the net banking tender reaches them (bank_sim's, over the banks app's
# `/netbanking/v1`; wire models in `gateway_core.netbanking_api`). Same errors as the
# acquirer client: `BankUnavailable` (maybe reached), `BankNotReached` (never sent),
# `BankRefused` (4xx: the bank refused the request).


@runtime_checkable
class NetbankingBanks(Protocol):
    """The net banking banks, server to server."""

    timeout_s: float

    async def banks(self) -> list[NbBank]:
        """The banks that take net banking, with their codes."""
        ...

    async def board(self, bank: str, merchant: NbMerchant) -> NbMerchant:
        """Enrol the merchant at `bank`; the answer carries the shared secret the bank
        signs returns with (again: the same secret)."""
        ...

    async def create(self, req: NbTransactionRequest) -> NbTransaction:
        """Start a payment at the bank: the answer's `login_url` is where the customer
        goes (the same bank and payment id again: the transaction already made)."""
        ...

    async def status(self, bank: str, payment_id: str) -> NbTransaction:
        """Where the bank's transaction for a payment stands (the server-to-server check
        a redirect is confirmed by, and the only way to learn of a lost redirect)."""
        ...

    async def refund(self, req: NbRefundRequest) -> NbRefund:
        """Give back part or all of a debit (the same `refund_id`: the same refund)."""
        ...

    async def refund_status(self, bank: str, refund_id: str) -> NbRefund:
        """Where a refund stands."""
        ...

    async def settlement(self, bank: str, day: date) -> list[NbSettlementLine]:
        """A bank's settlement file of a day."""
        ...

    async def ledger_check(self) -> NbLedgerCheck:
        """Whether the net banking books balance."""
        ...

    async def close(self) -> None:
        """Close the connection."""
        ...
