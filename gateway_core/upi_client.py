"""The gateway's way to the UPI network: httpx on the banks app's `/upi/v1` routes.

`UpiClient` is the merchant's payee PSP (the UPI tender's `UpiPsp`); `PayerClient` a
customer's UPI app on the simulated network (`PayerApp`: the CLI's `paygate upi pay`,
the terminal's demo phone). Both run over the acquirer client's transport (`HttpBank`:
embedded in process, or remote on `bank_url`) and raise what it raises:
`BankUnavailable` (maybe reached), `BankNotReached` (never sent), `BankRefused` (4xx).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

from pydantic import BaseModel

from gateway_core.bank_client import HttpBank
from gateway_core.upi_api import (
    CallbackAck,
    CollectView,
    DeclineRequest,
    PayRequest,
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

UPI = "/upi/v1"


def _body(model: BaseModel) -> dict[str, object]:
    return model.model_dump(mode="json")


def _id(value: str) -> str:
    """An id as one path segment (whatever a caller typed)."""
    return quote(value, safe="")


class UpiClient(HttpBank):
    """The payee PSP: board, transactions, status checks, refunds, callbacks and the
    switch's settlement file."""

    async def board(self, merchant: UpiMerchant) -> UpiMerchant:
        """Enrol the merchant's VPA and callback secret (again: the same answer)."""
        return await self._call("POST", f"{UPI}/merchants", UpiMerchant, _body(merchant))

    async def create(self, req: UpiTransactionRequest) -> UpiTransaction:
        """A QR / intent transaction or a collect request (same `reference`: the same)."""
        return await self._call("POST", f"{UPI}/transactions", UpiTransaction, _body(req))

    async def status(self, txn_id: str) -> UpiTransaction:
        """A status check with the switch."""
        return await self._call("GET", f"{UPI}/transactions/{_id(txn_id)}", UpiTransaction)

    async def cancel(self, txn_id: str) -> UpiTransaction:
        """Withdraw a transaction (a debit already made is reversed)."""
        path = f"{UPI}/transactions/{_id(txn_id)}/cancel"
        return await self._call("POST", path, UpiTransaction)

    async def reverse(self, txn_id: str) -> UpiTransaction:
        """Give back a debit never confirmed to the payee."""
        path = f"{UPI}/transactions/{_id(txn_id)}/reverse"
        return await self._call("POST", path, UpiTransaction)

    async def refund(self, req: UpiRefundRequest) -> UpiRefund:
        """A refund to the payer (the same `refund_id`: the same refund)."""
        return await self._call("POST", f"{UPI}/refunds", UpiRefund, _body(req))

    async def refund_status(self, refund_id: str) -> UpiRefund:
        """Where a refund stands."""
        return await self._call("GET", f"{UPI}/refunds/{_id(refund_id)}", UpiRefund)

    async def callbacks(self, merchant_id: str) -> list[UpiCallback]:
        """The merchant's unacknowledged callbacks, oldest first."""
        query = urlencode({"merchant_id": merchant_id})
        return await self._call("GET", f"{UPI}/callbacks?{query}", list[UpiCallback])

    async def ack(self, merchant_id: str, ids: list[str]) -> None:
        """Callbacks stored: not sent again."""
        body = _body(CallbackAck(merchant_id=merchant_id, ids=ids))
        await self._call("POST", f"{UPI}/callbacks/ack", dict[str, int], body)

    async def settlement(self, day: date) -> list[UpiSettlementLine]:
        """The switch's settlement file of a day."""
        path = f"{UPI}/settlement/{day.isoformat()}"
        return await self._call("GET", path, list[UpiSettlementLine])


class PayerClient(HttpBank):
    """A payer's UPI app on the simulated network. The UPI PIN goes in the request body
    to the remitter bank only; nothing here keeps or logs it."""

    async def pay(
        self, vpa: str, pin: str, *, link: str | None = None, request_id: str | None = None
    ) -> PayResult:
        """Approve a scanned link or a collect request with the payer's PIN."""
        req = PayRequest(link=link, request_id=request_id, vpa=vpa, pin=pin)
        return await self._call("POST", f"{UPI}/payer/pay", PayResult, _body(req))

    async def decline(self, vpa: str, request_id: str) -> PayResult:
        """Decline a collect request."""
        body = _body(DeclineRequest(request_id=request_id, vpa=vpa))
        return await self._call("POST", f"{UPI}/payer/decline", PayResult, body)

    async def inbox(self, vpa: str) -> list[CollectView]:
        """The collect requests waiting for `vpa`."""
        query = urlencode({"vpa": vpa})
        return await self._call("GET", f"{UPI}/payer/inbox?{query}", list[CollectView])

    async def payers(self) -> list[TestPayer]:
        """The test VPAs and what each does."""
        return await self._call("GET", f"{UPI}/payers", list[TestPayer])

    async def ledger_check(self) -> UpiLedgerCheck:
        """Whether the UPI books balance."""
        return await self._call("GET", f"{UPI}/ledger/check", UpiLedgerCheck)
