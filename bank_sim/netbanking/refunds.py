"""Net banking refunds: a new bank transaction against a debit's bank_ref, giving part or
all of it back to the customer (several, never more than the debit); the same refund_id
again is the same refund."""

from __future__ import annotations

from bank_sim.netbanking.books import PAID
from bank_sim.netbanking.errors import NbNotFound
from bank_sim.netbanking.transactions import Transactions, check_bank, check_id
from gateway_core.errors import InputError
from gateway_core.netbanking_api import NbRefund, NbRefundRequest
from gateway_core.ports import Record
from gateway_core.presentation import money_text
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents


class Refunds:
    """Refunds in the banks' main database, made through the transactions."""

    def __init__(self, db: JournaledDB, txns: Transactions) -> None:
        self._db, self._txns = db, txns
        self._docs = Documents(db, "nb_refunds", key="key")

    def refund(self, req: NbRefundRequest) -> NbRefund:
        """Give back `req.amount` of the debit `req.bank_ref` (the same refund_id: the
        refund already made)."""
        self._txns.tick()
        key = f"{check_bank(req.bank)}/{check_id(req.refund_id, 'a refund id')}"
        known = self._docs.get(key)
        if known is not None:
            return self.view(known)
        doc = self._txns.of_payment(req.bank, req.payment_id)
        if doc is None or doc["merchant_id"] != req.merchant_id:
            raise NbNotFound(f"{req.bank} has no transaction for payment {req.payment_id[:40]}")
        if doc["state"] not in PAID:
            state = doc["state"].lower()
            raise InputError(
                f"only a paid transaction can be refunded ({req.payment_id} is {state})"
            )
        if doc["bank_ref"] != req.bank_ref:
            raise InputError(f"{req.bank_ref[:40]} is not the debit of {req.payment_id}")
        left = doc["amount"] - doc["refunded"]
        if not 0 < req.amount <= left:
            raise InputError(
                f"a refund is more than ₹0.00 and at most the {money_text(left, 'INR')} left"
            )
        now = self._txns.now()
        refund: Record = {
            "key": key,
            "bank": req.bank,
            "refund_id": req.refund_id,
            "payment_id": req.payment_id,
            "bank_ref": req.bank_ref,
            "refund_ref": None,
            "amount": req.amount,
            "state": "SUCCESS",
            "code": "00",
            "created_at": now.isoformat(),
        }
        with self._db.journal.atomic():
            refund["refund_ref"] = self._txns.new_ref(req.bank, "R")
            self._txns.refunded(doc, req.amount, req.refund_id, now)
            self._docs.add(refund)
        return self.view(refund)

    def status(self, bank: str, refund_id: str) -> NbRefund:
        """Where a refund stands."""
        doc = self._docs.get(f"{check_bank(bank)}/{refund_id}")
        if doc is None:
            raise NbNotFound(f"{bank} has no refund {refund_id[:40]}")
        return self.view(doc)

    @staticmethod
    def view(doc: Record) -> NbRefund:
        """A refund as the bank answers it."""
        return NbRefund(**{k: v for k, v in doc.items() if k in NbRefund.model_fields})
