"""The gateway's way to the net banking banks: httpx on the banks app's `/netbanking/v1`
routes (`NbClient`, the net banking tender's `NetbankingBanks`), over the acquirer
client's transport (`HttpBank`: embedded in process, or remote on `bank_url`), raising
what it raises: `BankUnavailable` (maybe reached), `BankNotReached` (never sent),
`BankRefused` (4xx)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from pydantic import BaseModel

from gateway_core.bank_client import HttpBank
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

NB = "/netbanking/v1"


def _body(model: BaseModel) -> dict[str, object]:
    return model.model_dump(mode="json")


def _id(value: str) -> str:
    """An id as one path segment (whatever a caller typed)."""
    return quote(value, safe="")


class NbClient(HttpBank):
    """The banks, server to server: board, transactions, status checks, refunds and
    their settlement files."""

    async def banks(self) -> list[NbBank]:
        """The banks that take net banking."""
        return await self._call("GET", f"{NB}/banks", list[NbBank])

    async def board(self, bank: str, merchant: NbMerchant) -> NbMerchant:
        """Enrol the merchant at `bank`: the answer carries the secret returns are
        signed with (again: the same)."""
        return await self._call(
            "POST", f"{NB}/merchants?bank={_id(bank)}", NbMerchant, _body(merchant)
        )

    async def create(self, req: NbTransactionRequest) -> NbTransaction:
        """Start a payment at the bank (the same bank and payment id: the same one)."""
        return await self._call("POST", f"{NB}/transactions", NbTransaction, _body(req))

    async def status(self, bank: str, payment_id: str) -> NbTransaction:
        """Where the bank's transaction for a payment stands."""
        path = f"{NB}/transactions/{_id(bank)}/{_id(payment_id)}"
        return await self._call("GET", path, NbTransaction)

    async def refund(self, req: NbRefundRequest) -> NbRefund:
        """Give back part or all of a debit (the same `refund_id`: the same refund)."""
        return await self._call("POST", f"{NB}/refunds", NbRefund, _body(req))

    async def refund_status(self, bank: str, refund_id: str) -> NbRefund:
        """Where a refund stands."""
        return await self._call("GET", f"{NB}/refunds/{_id(bank)}/{_id(refund_id)}", NbRefund)

    async def settlement(self, bank: str, day: date) -> list[NbSettlementLine]:
        """A bank's settlement file of a day."""
        path = f"{NB}/settlement/{_id(bank)}/{day.isoformat()}"
        return await self._call("GET", path, list[NbSettlementLine])

    async def ledger_check(self) -> NbLedgerCheck:
        """Whether the net banking books balance."""
        return await self._call("GET", f"{NB}/ledger/check", NbLedgerCheck)
