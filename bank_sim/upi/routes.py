"""The UPI network's HTTP face: `/upi/v1/...` as `gateway_core.upi_api` lists it."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from bank_sim.upi.network import UpiNetwork
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


def upi_router(upi: UpiNetwork) -> APIRouter:
    """The routes of `upi` (errors are the banks app's handlers')."""
    router = APIRouter(prefix="/upi/v1")
    switch = upi.switch

    @router.post("/merchants")
    async def board(merchant: UpiMerchant) -> UpiMerchant:
        return upi.psp.board(merchant)

    @router.post("/transactions")
    async def create(req: UpiTransactionRequest) -> UpiTransaction:
        return switch.create(req)

    @router.get("/transactions/{txn_id}")
    async def status(txn_id: str) -> UpiTransaction:
        return switch.status(txn_id)

    @router.post("/transactions/{txn_id}/cancel")
    async def cancel(txn_id: str) -> UpiTransaction:
        return switch.withdraw(txn_id)

    @router.post("/transactions/{txn_id}/reverse")
    async def reverse(txn_id: str) -> UpiTransaction:
        return switch.withdraw(txn_id)

    @router.post("/refunds")
    async def refund(req: UpiRefundRequest) -> UpiRefund:
        return switch.refund(req)

    @router.get("/refunds/{refund_id}")
    async def refund_status(refund_id: str) -> UpiRefund:
        return switch.refund_status(refund_id)

    @router.get("/callbacks")
    async def callbacks(merchant_id: str) -> list[UpiCallback]:
        return upi.callbacks(merchant_id)

    @router.post("/callbacks/ack")
    async def ack(req: CallbackAck) -> dict[str, int]:
        return {"acknowledged": upi.psp.ack(req.merchant_id, req.ids)}

    @router.get("/settlement/{day}")
    async def settlement(day: date) -> list[UpiSettlementLine]:
        return upi.settlement(day)

    @router.post("/payer/pay")
    async def pay(req: PayRequest) -> PayResult:
        return upi.payer_app.pay(req)

    @router.get("/payer/inbox")
    async def inbox(vpa: str) -> list[CollectView]:
        return upi.payer_app.inbox(vpa)

    @router.post("/payer/decline")
    async def decline(req: DeclineRequest) -> PayResult:
        return upi.payer_app.decline(req)

    @router.get("/payers")
    async def payers() -> list[TestPayer]:
        return upi.payers.views()

    @router.get("/ledger/check")
    async def ledger_check() -> UpiLedgerCheck:
        return upi.ledger_check()

    return router
