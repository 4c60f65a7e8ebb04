"""The UPI switch: transactions between the payee PSP and the remitter banks, their
states and timers, status checks, reversals and refunds.

A transaction is `awaiting` (nobody paid yet: PENDING until it expires, U69), `inflight`
(the payer approved, the bank has not answered: slow@payer, or BT while bankdown@payer's
bank is down), `debited` (the payer's money is in transit, the credit unconfirmed: RB
DEEMED, or UT PENDING) or `final`. Timers are resolved lazily: whenever the switch is
asked anything after a timer's moment, everything due by then happens first, in order,
at the moment it was due (so a late resolution still lands on the right day). A final
outcome (SUCCESS, FAILURE, EXPIRED, REVERSED) queues a signed callback to the merchant.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from bank_sim.config import BankConfig
from bank_sim.upi.books import Books
from bank_sim.upi.errors import UpiNotFound
from bank_sim.upi.payers import Payers, check_pin
from bank_sim.upi.psp import Psp
from gateway_core.clock import business_day_at
from gateway_core.errors import InputError
from gateway_core.ports import Record
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents
from gateway_core.upi_api import (
    UpiRefund,
    UpiRefundRequest,
    UpiTransaction,
    UpiTransactionRequest,
)
from gateway_core.upi_link import PaymentLink, check_vpa, rupees

CALLBACK_STATES = frozenset({"SUCCESS", "FAILURE", "EXPIRED", "REVERSED"})


def new_txn_id() -> str:
    """A switch transaction id: 35 characters, as NPCI's."""
    return "PGB" + secrets.token_hex(16).upper()


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


_CLOSED_WORDS = {
    "SUCCESS": "paid",
    "FAILURE": "declined",
    "CANCELED": "canceled",
    "REVERSED": "reversed",
    "DEEMED": "being paid",
    "PENDING": "being paid",
}


class Switch:
    """Transactions and refunds in the banks' main database, on the banks' clock."""

    def __init__(
        self, db: JournaledDB, payers: Payers, psp: Psp, books: Books, config: BankConfig
    ) -> None:
        self._db, self._payers, self._psp, self._books = db, payers, psp, books
        self._config = config
        self._txns = Documents(db, "upi_txns", key="txn_id")
        self._refs = Documents(db, "upi_refs", key="ref")
        self._refunds = Documents(db, "upi_refunds", key="refund_id")
        self._rrn_seq = Documents(db, "upi_rrn_seq")
        self._open = dict.fromkeys(d["txn_id"] for d in self._txns if d["stage"] != "final")
        self._open_refunds = dict.fromkeys(
            d["refund_id"] for d in self._refunds if d["status"] == "PENDING"
        )

    # -- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._config.clock.now()

    def day(self, moment: datetime) -> date:
        """The banks' business day of `moment` (the merchant's timezone)."""
        return business_day_at(moment, self._config.tz)

    def tick(self) -> None:
        """Resolve every timer due by now, oldest first, each at its own moment."""
        now, due = self.now(), []
        for txn_id in list(self._open):
            doc = self._txns.get(txn_id)
            if doc is None or doc["stage"] == "final":
                self._open.pop(txn_id, None)
                continue
            moment = _at(doc["expires_at"] if doc["stage"] == "awaiting" else doc["due_at"])
            if moment is not None and moment <= now:
                due.append((moment, doc["created_at"], "txn", txn_id))
        for refund_id in list(self._open_refunds):
            doc = self._refunds.get(refund_id)
            if doc is None or doc["status"] != "PENDING":
                self._open_refunds.pop(refund_id, None)
            elif (moment := _at(doc["due_at"])) is not None and moment <= now:
                due.append((moment, doc["created_at"], "refund", refund_id))
        for moment, _, kind, key in sorted(due):
            with self._db.journal.atomic():
                if kind == "refund":
                    self._settle_refund(self._refund(key), moment)
                else:
                    self._resolve(self.get(key), moment)

    def _resolve(self, doc: Record, moment: datetime) -> None:
        if doc["stage"] == "awaiting":
            self._finish(doc, "EXPIRED", "U69", moment)
        elif doc["stage"] == "inflight":
            code = self._payers.funds_code(doc["payer_vpa"], doc["amount"])
            if code:
                self._finish(doc, "FAILURE", code, moment)
            else:
                self._debit(doc, moment)
                self._credit(doc, moment)

    # -- records ----------------------------------------------------------------------------
    def get(self, txn_id: str) -> Record:
        """A transaction's record; `UpiNotFound` for an unknown id."""
        doc = self._txns.get(txn_id)
        if doc is None:
            raise UpiNotFound(f"no UPI transaction {txn_id[:40]}")
        return doc

    def by_reference(self, merchant_id: str, reference: str) -> Record | None:
        """The transaction a merchant made for `reference` (a link's `tr`)."""
        ref = self._refs.get(f"{merchant_id}/{reference}")
        return None if ref is None else self._txns.get(ref["txn_id"])

    def open_collects(self, vpa: str) -> list[Record]:
        """The collect requests waiting for `vpa`, oldest first."""
        docs = (self._txns.get(txn_id) for txn_id in self._open)
        return [
            d
            for d in docs
            if d and d["flow"] == "collect" and d["payer_vpa"] == vpa and d["stage"] == "awaiting"
        ]

    def transactions(self) -> list[Record]:
        """Every transaction, oldest first."""
        return list(self._txns)

    @staticmethod
    def view(doc: Record) -> UpiTransaction:
        """A transaction as the wire carries it."""
        return UpiTransaction(**{k: doc[k] for k in UpiTransaction.model_fields})

    @staticmethod
    def refund_view(doc: Record) -> UpiRefund:
        """A refund as the wire carries it."""
        return UpiRefund(**{k: doc[k] for k in UpiRefund.model_fields})

    def _save(self, doc: Record, moment: datetime, **fields: Any) -> Record:
        doc.update(fields, updated_at=moment.isoformat())
        self._txns.put(doc)
        return doc

    def _finish(self, doc: Record, status: str, code: str | None, moment: datetime) -> Record:
        self._save(doc, moment, status=status, response_code=code, stage="final", due_at=None)
        if status in CALLBACK_STATES:
            self._psp.queue(doc, moment)
        self._open.pop(doc["txn_id"], None)
        return doc

    def _rrn(self, moment: datetime) -> str:
        """A 12-digit RRN: year digit, day of the year, hour, then a running number."""
        seq = ((self._rrn_seq.single() or {"seq": 0})["seq"] + 1) % 1_000_000
        self._rrn_seq.set_single({"seq": seq})
        return f"{moment:%y}"[-1] + f"{moment:%j%H}{seq:06d}"

    # -- money ----------------------------------------------------------------------------
    def _debit(self, doc: Record, moment: datetime) -> None:
        day = self.day(moment)
        self._books.move("debit", doc, day)
        self._payers.count_debit(doc["payer_vpa"], doc["amount"], day)

    def _credit(self, doc: Record, moment: datetime) -> Record:
        doc["response_code"] = "00"
        self._books.move("credit", doc, self.day(moment))
        return self._finish(doc, "SUCCESS", "00", moment)

    # -- the payee's side -----------------------------------------------------------------
    def create(self, req: UpiTransactionRequest) -> UpiTransaction:
        """Start a QR / intent transaction or push a collect request (the same reference
        again: the first transaction)."""
        self.tick()
        merchant = self._psp.merchant(req.merchant_id)
        known = self.by_reference(req.merchant_id, req.reference)
        if known is not None:
            return self.view(known)
        now = self.now()
        PaymentLink(  # the link's rules are the request's: amount, reference, note
            merchant["vpa"], merchant["name"], req.amount, req.reference, req.note, merchant["mcc"]
        )
        if req.expires_at.tzinfo is None:
            raise InputError("expires_at needs a timezone")
        if req.expires_at <= now:
            raise InputError("expires_at is already past")
        if req.flow != "collect" and req.payer_vpa is not None:
            raise InputError("payer_vpa is for collect requests only")
        if req.flow == "collect" and req.payer_vpa is None:
            raise InputError("a collect request needs the payer's VPA (payer_vpa)")
        payer_vpa = None if req.payer_vpa is None else check_vpa(req.payer_vpa)
        doc: Record = {
            "txn_id": new_txn_id(),
            "reference": req.reference,
            "merchant_id": req.merchant_id,
            "payee_vpa": merchant["vpa"],
            "payee_name": merchant["name"],
            "payer_vpa": payer_vpa,
            "amount": req.amount,
            "currency": "INR",
            "flow": req.flow,
            "note": req.note,
            "status": "PENDING",
            "response_code": None,
            "rrn": None,
            "expires_at": req.expires_at.isoformat(),
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
            "stage": "awaiting",
            "due_at": None,
            "refunded": 0,
        }
        with self._db.journal.atomic():
            self._txns.add(doc)
            self._refs.add({"ref": f"{req.merchant_id}/{req.reference}", "txn_id": doc["txn_id"]})
            self._open[doc["txn_id"]] = None
            if payer_vpa is not None and self._payers.account(payer_vpa) is None:
                self._finish(doc, "FAILURE", "XH", now)
        return self.view(doc)

    def status(self, txn_id: str) -> UpiTransaction:
        """A status check: where the transaction stands (a deemed one is confirmed)."""
        self.tick()
        doc = self.get(txn_id)
        if doc["status"] == "DEEMED":
            with self._db.journal.atomic():
                self._credit(doc, self.now())
        return self.view(doc)

    def withdraw(self, txn_id: str) -> UpiTransaction:
        """Cancel or reverse: a transaction nobody paid is CANCELED; a debit never
        confirmed is given back (REVERSED). One the payer approved and whose bank has not
        answered yet (slow, BT) cannot be withdrawn: it stays PENDING and its outcome
        comes later (a late credit if the payee gave up). A final one stays as it is."""
        self.tick()
        doc, now = self.get(txn_id), self.now()
        with self._db.journal.atomic():
            if doc["stage"] == "awaiting":
                self._finish(doc, "CANCELED", None, now)
            elif doc["stage"] == "debited":
                self._books.move("reversal", doc, self.day(now), original=txn_id)
                self._finish(doc, "REVERSED", doc["response_code"], now)
        return self.view(doc)

    # -- the payer's side -----------------------------------------------------------------
    def _closed(self, doc: Record) -> Record:
        """An expired transaction answers EXPIRED (U69); another closed one is refused."""
        if doc["status"] == "EXPIRED":
            return doc
        raise InputError(f"this payment request is {_CLOSED_WORDS[doc['status']]} already")

    def pay(self, doc: Record, vpa: str, pin: str) -> Record:
        """The payer approves `doc` with `pin` (after `tick`): the remitter bank decides."""
        check_pin(pin)
        vpa, now = check_vpa(vpa), self.now()
        if doc["stage"] != "awaiting":
            return self._closed(doc)
        if doc["flow"] == "collect" and vpa != doc["payer_vpa"]:
            raise InputError("this collect request is for another UPI ID")
        with self._db.journal.atomic():
            doc["payer_vpa"] = vpa
            payer = self._payers.account(vpa)
            if payer is None:
                return self._finish(doc, "FAILURE", "XH", now)
            doc["rrn"] = self._rrn(now)
            code = self._refusal(payer, pin, doc["amount"], self.day(now))
            if code is not None:
                return self._finish(doc, "FAILURE", code, now)
            back = self._payers.bank_back_at(vpa, now)
            if back is not None:
                at = back.isoformat()
                return self._save(doc, now, response_code="BT", stage="inflight", due_at=at)
            if payer["kind"] == "slow":
                later = now + timedelta(seconds=self._config.upi_slow_s)
                return self._save(doc, now, stage="inflight", due_at=later.isoformat())
            self._debit(doc, now)
            if payer["kind"] == "deemed":
                return self._save(doc, now, status="DEEMED", response_code="RB", stage="debited")
            if payer["kind"] == "timeout":
                return self._save(doc, now, response_code="UT", stage="debited")
            return self._credit(doc, now)

    def _refusal(self, payer: Record, pin: str, amount: int, day: date) -> str | None:
        """The remitter bank's refusal code, in order: the payer declines in the app (ZA),
        PIN (ZM, ZD), debit failure (U30), limits (Z8), funds (Z9)."""
        if payer["kind"] == "decline":
            return "ZA"
        code = self._payers.verify_pin(payer, pin, day)
        if code is None and payer["kind"] == "debitfail":
            code = "U30"
        return code or self._payers.limit_code(payer, amount, day)

    def decline(self, doc: Record, vpa: str) -> Record:
        """The payer declines a collect request (ZA)."""
        vpa = check_vpa(vpa)
        if doc["flow"] != "collect":
            raise InputError("only a collect request can be declined")
        if vpa != doc["payer_vpa"]:
            raise InputError("this collect request is for another UPI ID")
        if doc["stage"] != "awaiting":
            return self._closed(doc)
        with self._db.journal.atomic():
            return self._finish(doc, "FAILURE", "ZA", self.now())

    # -- refunds --------------------------------------------------------------------------
    def refund(self, req: UpiRefundRequest) -> UpiRefund:
        """A refund as a new credit to the payer (the same refund_id: the same one);
        PENDING (BT) while the payer's bank is down."""
        self.tick()
        known = self._refunds.get(req.refund_id)
        if known is not None:
            return self.refund_view(known)
        original = self.get(req.txn_id)
        if original["status"] != "SUCCESS":
            state = original["status"].lower()
            raise InputError(f"only a paid transaction can be refunded ({req.txn_id} is {state})")
        left = original["amount"] - original["refunded"]
        if not 0 < req.amount <= left:
            raise InputError(f"a refund is more than ₹0.00 and at most the ₹{rupees(left)} left")
        now = self.now()
        keep = ("merchant_id", "reference", "payer_vpa", "payee_vpa")
        doc: Record = {k: original[k] for k in keep} | {
            "refund_id": req.refund_id,
            "txn_id": new_txn_id(),
            "original_txn_id": req.txn_id,
            "amount": req.amount,
            "note": req.note,
            "status": "PENDING",
            "response_code": None,
            "rrn": None,
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
            "due_at": None,
        }
        with self._db.journal.atomic():
            self._txns.update(req.txn_id, {"refunded": original["refunded"] + req.amount})
            doc["rrn"] = self._rrn(now)
            back = self._payers.bank_back_at(doc["payer_vpa"], now)
            if back is None:
                self._settle_refund(doc, now)
            else:
                doc.update(response_code="BT", due_at=back.isoformat())
                self._refunds.add(doc)
                self._open_refunds[req.refund_id] = None
        return self.refund_view(doc)

    def _settle_refund(self, doc: Record, moment: datetime) -> None:
        doc.update(status="SUCCESS", response_code="00", due_at=None)
        doc["updated_at"] = moment.isoformat()
        self._books.move("refund", doc, self.day(moment), original=doc["original_txn_id"])
        self._refunds.put(doc)
        self._open_refunds.pop(doc["refund_id"], None)

    def _refund(self, refund_id: str) -> Record:
        doc = self._refunds.get(refund_id)
        if doc is None:
            raise UpiNotFound(f"no UPI refund {refund_id[:40]}")
        return doc

    def refund_status(self, refund_id: str) -> UpiRefund:
        """Where a refund stands."""
        self.tick()
        return self.refund_view(self._refund(refund_id))
