"""The net banking banks' server-to-server face: `/netbanking/v1/...` as
`gateway_core.netbanking_api` lists it (boarding names its bank: `?bank=DEMOA`)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from bank_sim.netbanking.banks import NetBanking
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


def netbanking_router(nb: NetBanking) -> APIRouter:
    """The routes of `nb` (errors are the banks app's handlers')."""
    router = APIRouter(prefix="/netbanking/v1")

    @router.get("/banks")
    async def banks() -> list[NbBank]:
        return nb.banks()

    @router.post("/merchants")
    async def board(merchant: NbMerchant, bank: str) -> NbMerchant:
        return nb.board(bank, merchant)

    @router.post("/transactions")
    async def create(req: NbTransactionRequest) -> NbTransaction:
        return nb.txns.create(req)

    @router.get("/transactions/{bank}/{payment_id}")
    async def status(bank: str, payment_id: str) -> NbTransaction:
        return nb.txns.status(bank, payment_id)

    @router.post("/refunds")
    async def refund(req: NbRefundRequest) -> NbRefund:
        return nb.refunds.refund(req)

    @router.get("/refunds/{bank}/{refund_id}")
    async def refund_status(bank: str, refund_id: str) -> NbRefund:
        return nb.refunds.status(bank, refund_id)

    @router.get("/settlement/{bank}/{day}")
    async def settlement(bank: str, day: date) -> list[NbSettlementLine]:
        return nb.settlement(bank, day)

    @router.get("/ledger/check")
    async def ledger_check() -> NbLedgerCheck:
        return nb.ledger_check()

    return router
