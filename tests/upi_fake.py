"""An in-memory payee PSP (satisfies `UpiPsp`) that a test drives by hand: pay, fail,
expire, leave pending, send callbacks (signed or forged), be down. For the UPI tender's
edge cases; the real switch is bank_sim's (tests through `open_runtime`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from gateway_core.clock import Clock
from gateway_core.errors import BankRefused, BankUnavailable
from gateway_core.upi_api import (
    UpiCallback,
    UpiMerchant,
    UpiRefund,
    UpiRefundRequest,
    UpiSettlementLine,
    UpiState,
    UpiTransaction,
    UpiTransactionRequest,
    sign_callback,
)

Kind = Literal["credit", "refund", "reversal"]


@dataclass
class FakePsp:
    clock: Clock
    timeout_s: float = 1.0
    secrets: dict[str, str] = field(default_factory=dict)
    txns: dict[str, UpiTransaction] = field(default_factory=dict)  # txn_id →
    refunds: dict[str, UpiRefund] = field(default_factory=dict)
    queue: list[UpiCallback] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    lines: list[UpiSettlementLine] = field(default_factory=list)
    down: bool = False  # every call raises BankUnavailable
    refund_answer: UpiState = "SUCCESS"
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.down:
            raise BankUnavailable("the bank did not answer in time")

    # -- the port ----------------------------------------------------------------------
    async def board(self, merchant: UpiMerchant) -> UpiMerchant:
        self._call("board")
        assert merchant.callback_secret
        self.secrets.setdefault(merchant.merchant_id, merchant.callback_secret)
        return merchant.model_copy(update={"callback_secret": None})

    async def create(self, req: UpiTransactionRequest) -> UpiTransaction:
        self._call("create")
        if req.merchant_id not in self.secrets:
            raise BankRefused("the bank refused: merchant not boarded")
        for txn in self.txns.values():
            if txn.reference == req.reference:
                return txn
        now = self.clock.now()
        txn = UpiTransaction(
            txn_id=f"PSP{next(self._ids):09d}",
            reference=req.reference,
            merchant_id=req.merchant_id,
            payee_vpa="demostore@pgbank",
            payer_vpa=req.payer_vpa,
            amount=req.amount,
            flow=req.flow,
            note=req.note,
            status="PENDING",
            expires_at=req.expires_at,
            created_at=now,
            updated_at=now,
        )
        if req.payer_vpa == "noaccount@payer":
            txn = txn.model_copy(update={"status": "FAILURE", "response_code": "XH"})
        self.txns[txn.txn_id] = txn
        return txn

    async def status(self, txn_id: str) -> UpiTransaction:
        self._call("status")
        return self.txns[txn_id]

    async def cancel(self, txn_id: str) -> UpiTransaction:
        self._call("cancel")
        txn = self.txns[txn_id]
        if txn.status == "DEEMED" or txn.response_code in ("UT", "RB"):
            return self._line(self.set(txn.reference, "REVERSED"), "reversal")
        if txn.status == "PENDING":
            return self.set(txn.reference, "CANCELED")
        return txn

    async def reverse(self, txn_id: str) -> UpiTransaction:
        self._call("reverse")
        txn = self.txns[txn_id]
        if txn.status in ("PENDING", "DEEMED"):
            return self._line(self.set(txn.reference, "REVERSED"), "reversal")
        return txn

    async def refund(self, req: UpiRefundRequest) -> UpiRefund:
        self._call("refund")
        if req.refund_id in self.refunds:
            return self.refunds[req.refund_id]
        original = self.txns[req.txn_id]
        now = self.clock.now()
        refund = UpiRefund(
            refund_id=req.refund_id,
            txn_id=f"RFD{next(self._ids):09d}",
            original_txn_id=req.txn_id,
            amount=req.amount,
            status=self.refund_answer,
            rrn=f"{600000000000 + len(self.refunds)}",
            created_at=now,
            updated_at=now,
        )
        self.refunds[req.refund_id] = refund
        if refund.status == "SUCCESS":
            self.lines.append(
                self._settlement(original, "refund", refund.amount, refund.txn_id, refund.rrn)
            )
        return refund

    async def refund_status(self, refund_id: str) -> UpiRefund:
        self._call("refund_status")
        return self.refunds[refund_id]

    async def callbacks(self, merchant_id: str) -> list[UpiCallback]:
        self._call("callbacks")
        return [c for c in self.queue if c.merchant_id == merchant_id and c.id not in self.acked]

    async def ack(self, merchant_id: str, ids: list[str]) -> None:
        self._call("ack")
        self.acked += ids

    async def settlement(self, day: date) -> list[UpiSettlementLine]:
        self._call("settlement")
        return [line for line in self.lines if line.day == day]

    async def close(self) -> None:
        return None

    # -- what a test makes happen ------------------------------------------------------
    def txn(self, reference: str) -> UpiTransaction:
        (txn,) = [t for t in self.txns.values() if t.reference == reference]
        return txn

    def set(
        self,
        reference: str,
        status: UpiState,
        code: str | None = None,
        *,
        payer: str | None = None,
        callback: bool = False,
        forged: bool = False,
    ) -> UpiTransaction:
        """Move a transaction (a payer paid, failed, ...); with `callback`, queue one."""
        txn = self.txn(reference)
        update: dict[str, object] = {"status": status, "updated_at": self.clock.now()}
        if code is not None:
            update["response_code"] = code
        if payer is not None:
            update["payer_vpa"] = payer
        if status in ("SUCCESS", "DEEMED") or code in ("UT", "RB"):
            update["rrn"] = txn.rrn or f"{500000000000 + int(txn.txn_id[3:])}"
        txn = self.txns[txn.txn_id] = txn.model_copy(update=update)
        if status == "SUCCESS":
            self.lines.append(self._settlement(txn, "credit", txn.amount, txn.txn_id, txn.rrn))
        if callback:
            self.send(txn, forged=forged)
        return txn

    def send(self, txn: UpiTransaction, *, forged: bool = False) -> UpiCallback:
        cb = UpiCallback(
            id=f"cb_{next(self._ids)}",
            merchant_id=txn.merchant_id,
            txn_id=txn.txn_id,
            reference=txn.reference,
            status=txn.status,
            response_code=txn.response_code,
            rrn=txn.rrn,
            payer_vpa=txn.payer_vpa,
            amount=txn.amount,
            sent_at=self.clock.now(),
        )
        secret = "00" * 32 if forged else self.secrets[txn.merchant_id]
        cb = sign_callback(cb, secret)
        self.queue.append(cb)
        return cb

    def _line(self, txn: UpiTransaction, kind: Kind) -> UpiTransaction:
        self.lines.append(self._settlement(txn, kind, txn.amount, f"REV{txn.txn_id}", txn.rrn))
        return txn

    def _settlement(
        self, txn: UpiTransaction, kind: Kind, amount: int, txn_id: str, rrn: str | None
    ) -> UpiSettlementLine:
        return UpiSettlementLine(
            day=self.day(self.clock.now()),
            kind=kind,
            txn_id=txn_id,
            original_txn_id=None if kind == "credit" else txn.txn_id,
            reference=txn.reference,
            rrn=rrn,
            merchant_id=txn.merchant_id,
            payer_vpa=txn.payer_vpa or "unknown@payer",
            payee_vpa=txn.payee_vpa,
            amount=amount,
            response_code=txn.response_code or "00",
        )

    @staticmethod
    def day(moment: datetime) -> date:
        return moment.date()
