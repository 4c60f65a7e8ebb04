"""In-memory net banking banks (satisfies `NetbankingBanks`) that a test drives by hand:
the customer pays, fails, cancels, or never comes; the bank is down; returns signed (or
forged) as the bank's final POST would send them. For the net banking tender's edge
cases; the real banks are bank_sim's (tests through `nb_sim_support`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from gateway_core.clock import Clock
from gateway_core.errors import BankRefused, BankUnavailable
from gateway_core.netbanking_api import (
    TEST_BANKS,
    NbBank,
    NbLedgerCheck,
    NbMerchant,
    NbRefund,
    NbRefundRequest,
    NbReturn,
    NbSettlementLine,
    NbState,
    NbTransaction,
    NbTransactionRequest,
    sign_return,
)


@dataclass
class FakeBanks:
    clock: Clock
    timeout_s: float = 1.0
    secrets: dict[tuple[str, str], str] = field(default_factory=dict)  # (merchant, bank) →
    txns: dict[tuple[str, str], NbTransaction] = field(default_factory=dict)  # (bank, pay) →
    refunds: dict[str, NbRefund] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)  # payment → return_url
    down: bool = False  # every call raises BankUnavailable
    refuse_create: bool = False  # create answers 4xx
    refund_state: str = "SUCCESS"
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.down:
            raise BankUnavailable("the bank did not answer in time")

    # -- the port ----------------------------------------------------------------------
    async def banks(self) -> list[NbBank]:
        self._call("banks")
        return [NbBank(code=c, name=n, up=c != "DOWN") for c, n in TEST_BANKS.items()]

    async def board(self, bank: str, merchant: NbMerchant) -> NbMerchant:
        self._call("board")
        key = (merchant.merchant_id, bank)
        if key in self.secrets and merchant.secret not in (None, self.secrets[key]):
            raise BankRefused(f"the bank refused: boarded at {bank} with another secret")
        secret = self.secrets.setdefault(key, merchant.secret or "5e" * 32)
        return merchant.model_copy(update={"secret": secret})

    async def create(self, req: NbTransactionRequest) -> NbTransaction:
        self._call("create")
        if self.refuse_create or (req.merchant_id, req.bank) not in self.secrets:
            raise BankRefused("the bank refused: merchant not boarded")
        if (req.bank, req.payment_id) in self.txns:
            return self.txns[req.bank, req.payment_id]
        now = self.clock.now()
        bank_txn = f"{req.bank}T{next(self._ids):08d}"
        txn = NbTransaction(
            bank=req.bank,
            bank_txn=bank_txn,
            payment_id=req.payment_id,
            merchant_id=req.merchant_id,
            amount=req.amount,
            state="CREATED",
            login_url=f"http://banks.test/nb/{req.bank}/pay/{bank_txn}",
            expires_at=req.expires_at,
            created_at=now,
            updated_at=now,
        )
        self.txns[req.bank, req.payment_id] = txn
        self.returns[req.payment_id] = req.return_url
        return txn

    async def status(self, bank: str, payment_id: str) -> NbTransaction:
        self._call("status")
        if (bank, payment_id) not in self.txns:
            raise BankRefused("the bank refused: no such transaction")
        return self.txns[bank, payment_id]

    async def refund(self, req: NbRefundRequest) -> NbRefund:
        self._call("refund")
        if req.refund_id in self.refunds:
            return self.refunds[req.refund_id]
        refund = NbRefund(
            bank=req.bank,
            refund_id=req.refund_id,
            payment_id=req.payment_id,
            bank_ref=req.bank_ref,
            refund_ref=f"RF{next(self._ids):010d}",
            amount=req.amount,
            state="SUCCESS" if self.refund_state == "SUCCESS" else "FAILURE",
            code="00" if self.refund_state == "SUCCESS" else "51",
            created_at=self.clock.now(),
        )
        self.refunds[req.refund_id] = refund
        return refund

    async def refund_status(self, bank: str, refund_id: str) -> NbRefund:
        self._call("refund_status")
        return self.refunds[refund_id]

    async def settlement(self, bank: str, day: date) -> list[NbSettlementLine]:
        self._call("settlement")
        return []

    async def ledger_check(self) -> NbLedgerCheck:
        self._call("ledger_check")
        return NbLedgerCheck(ok=True, debits=0, credits=0, refunds=0, in_transit=0)

    async def close(self) -> None:
        return None

    # -- what a test makes happen ------------------------------------------------------
    def txn(self, payment_id: str) -> NbTransaction:
        (txn,) = [t for t in self.txns.values() if t.payment_id == payment_id]
        return txn

    def set(
        self, payment_id: str, state: NbState, code: str | None = None, **update: object
    ) -> NbTransaction:
        """Move a transaction at the bank (the customer paid, failed, canceled...)."""
        txn = self.txn(payment_id)
        fields: dict[str, object] = {"state": state, "code": code, "updated_at": self.clock.now()}
        if state == "SUCCESS":
            fields.update(code="00", bank_ref=txn.bank_ref or f"{txn.bank}{next(self._ids):010d}")
            fields["account"] = "XXXX4321"
        fields.update(update)
        txn = self.txns[txn.bank, txn.payment_id] = txn.model_copy(update=fields)
        return txn

    def answer(self, of: str, /, *, secret: str | None = None, **update: object) -> NbReturn:
        """The signed return the bank's final POST sends for the transaction as it stands
        (`update`: fields changed before signing; `secret`: sign with another)."""
        txn = self.txn(of)
        status = txn.state if txn.state in ("SUCCESS", "FAILURE", "CANCELED") else "FAILURE"
        ret = NbReturn(
            merchant_id=txn.merchant_id,
            payment_id=txn.payment_id,
            bank=txn.bank,
            bank_ref=txn.bank_ref or "",
            amount=txn.amount,
            status=status,
            code=txn.code or "00",
            signature="",
        ).model_copy(update=update)
        return sign_return(ret, secret or self.secrets[txn.merchant_id, txn.bank])
