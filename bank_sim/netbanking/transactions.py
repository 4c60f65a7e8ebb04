"""The banks' net banking transactions: created server to server, finished by the customer
in the bank's pages (sign in, confirm or cancel), checked, expired and refunded.

A transaction is CREATED until the customer confirms (SUCCESS, or FAILURE: 51, 61),
cancels (CANCELED, CX), signs in wrong a third time (FAILURE, 75) or `expires_at` passes
(EXPIRED, EX). The expiry is resolved lazily: whatever the bank is asked after it, the
transaction expires first, at its own moment. A SUCCESS debits the customer and credits
the merchant in one step; a refund gives part or all of it back (REFUNDED when all).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime
from typing import Final
from urllib.parse import urlencode, urlsplit, urlunsplit

from bank_sim.config import BankConfig
from bank_sim.netbanking.books import Books
from bank_sim.netbanking.customers import LOGIN_TRIES, Customers, masked
from bank_sim.netbanking.errors import NbNotFound
from bank_sim.netbanking.merchants import Merchants
from gateway_core.clock import business_day_at
from gateway_core.errors import InputError
from gateway_core.netbanking_api import (
    MAX_NB_AMOUNT,
    TEST_BANKS,
    NbReturn,
    NbTransaction,
    NbTransactionRequest,
    sign_return,
)
from gateway_core.ports import Record
from gateway_core.presentation import money_text
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents

EMBEDDED_URL: Final = "http://banks"  # the embedded client's base (no `nb_public_url`)
STATE_WORDS: Final = {
    "SUCCESS": "paid",
    "FAILURE": "declined",
    "CANCELED": "canceled",
    "EXPIRED": "expired",
    "REFUNDED": "paid and refunded",
}


def check_bank(bank: str) -> str:
    """A bank code the simulator knows (`NbNotFound` otherwise)."""
    if bank not in TEST_BANKS:
        raise NbNotFound(f"no bank {bank[:8]!r} takes net banking here")
    return bank


def check_id(value: str, what: str) -> str:
    """A caller's id: 1 to 64 printable characters."""
    if not (0 < len(value) <= 64 and value.isprintable()):
        raise InputError(f"{what} has 1 to 64 printable characters")
    return value


def _session_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Transactions:
    """Transactions in the banks' main database, on the banks' clock."""

    def __init__(
        self,
        db: JournaledDB,
        customers: Customers,
        merchants: Merchants,
        books: Books,
        config: BankConfig,
    ) -> None:
        self._db, self._customers, self._merchants = db, customers, merchants
        self._books, self._config = books, config
        self._txns = Documents(db, "nb_txns", key="bank_txn")
        self._refs = Documents(db, "nb_refs", key="ref")
        self._seq = Documents(db, "nb_seq", key="bank")
        self._open = dict.fromkeys(d["bank_txn"] for d in self._txns if d["state"] == "CREATED")

    # -- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._config.clock.now()

    def day(self, moment: datetime) -> date:
        """The banks' business day of `moment` (the merchant's timezone)."""
        return business_day_at(moment, self._config.tz)

    def tick(self) -> None:
        """Expire every transaction whose customer did not finish by its `expires_at`."""
        now, due = self.now(), []
        for bank_txn in list(self._open):
            doc = self._txns.get(bank_txn)
            if doc is None or doc["state"] != "CREATED":
                self._open.pop(bank_txn, None)
            elif (moment := datetime.fromisoformat(doc["expires_at"])) <= now:
                due.append((moment, bank_txn))
        for moment, bank_txn in sorted(due):
            with self._db.journal.atomic():
                self._finish(self.get(bank_txn), "EXPIRED", "EX", moment)

    # -- records --------------------------------------------------------------------------
    def get(self, bank_txn: str) -> Record:
        """A transaction by the bank's id; `NbNotFound` otherwise."""
        doc = self._txns.get(bank_txn)
        if doc is None:
            raise NbNotFound(f"no net banking transaction {bank_txn[:40]}")
        return doc

    def of_payment(self, bank: str, payment_id: str) -> Record | None:
        """The transaction `bank` holds for a gateway payment, if any."""
        ref = self._refs.get(f"{check_bank(bank)}/{payment_id}")
        return None if ref is None else self._txns.get(ref["bank_txn"])

    def all(self) -> list[Record]:
        """Every transaction, oldest first."""
        return list(self._txns)

    def view(self, doc: Record) -> NbTransaction:
        """A transaction as the bank answers it."""
        fields = NbTransaction.model_fields
        return NbTransaction(
            **{k: v for k, v in doc.items() if k in fields}, login_url=self.login_url(doc)
        )

    def login_url(self, doc: Record) -> str:
        """Where the customer's browser goes: the bank's login page, absolute."""
        base = (self._config.nb_public_url or EMBEDDED_URL).rstrip("/")
        return f"{base}/nb/{doc['bank']}/pay/{doc['bank_txn']}"

    def _next_ref(self, bank: str) -> int:
        n = (self._seq.get(bank) or {"n": 0})["n"] + 1
        self._seq.put({"bank": bank, "n": n})
        return n

    def new_ref(self, bank: str, kind: str) -> str:
        """The bank's next reference: the bank's code, D (debit) or R (refund), 10 digits."""
        return f"{bank}{kind}{self._next_ref(bank):010d}"

    # -- server to server -----------------------------------------------------------------
    def create(self, req: NbTransactionRequest) -> NbTransaction:
        """Start a payment (the same bank and payment id again: the one already made)."""
        self.tick()
        check_bank(req.bank)
        check_id(req.payment_id, "a payment id")
        merchant = self._merchants.merchant(req.bank, req.merchant_id)
        known = self.of_payment(req.bank, req.payment_id)
        if known is not None:
            if (known["merchant_id"], known["amount"]) != (req.merchant_id, req.amount):
                raise InputError(f"{req.payment_id} was started at {req.bank} otherwise")
            return self.view(known)
        if req.currency != "INR":
            raise InputError(f"net banking is in INR only, not {req.currency[:3]}")
        if not 0 < req.amount <= MAX_NB_AMOUNT:
            raise InputError(
                f"an amount is more than ₹0.00 and at most {money_text(MAX_NB_AMOUNT, 'INR')}"
            )
        url = urlsplit(req.return_url)
        if url.scheme not in ("http", "https") or not url.netloc or len(req.return_url) > 500:
            raise InputError("return_url is an absolute http(s) URL of at most 500 characters")
        now = self.now()
        if req.expires_at.tzinfo is None or req.expires_at <= now:
            raise InputError("expires_at is a moment to come, with its timezone")
        doc: Record = {
            "bank_txn": "NB" + secrets.token_hex(10).upper(),
            "bank": req.bank,
            "payment_id": req.payment_id,
            "merchant_id": req.merchant_id,
            "merchant_name": merchant["name"],
            "amount": req.amount,
            "currency": "INR",
            "state": "CREATED",
            "code": None,
            "bank_ref": None,
            "login": None,
            "account": None,
            "return_url": req.return_url,
            "expires_at": req.expires_at.isoformat(),
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
            "refunded": 0,
            "wrong_logins": 0,
            "session": None,
        }
        with self._db.journal.atomic():
            self._txns.add(doc)
            self._refs.add({"ref": f"{req.bank}/{req.payment_id}", "bank_txn": doc["bank_txn"]})
            self._open[doc["bank_txn"]] = None
        return self.view(doc)

    def status(self, bank: str, payment_id: str) -> NbTransaction:
        """The status check: where the payment's transaction stands."""
        self.tick()
        doc = self.of_payment(bank, payment_id)
        if doc is None:
            raise NbNotFound(f"{bank} has no transaction for payment {payment_id[:40]}")
        return self.view(doc)

    # -- the customer's visit -------------------------------------------------------------
    def visit(self, bank: str, bank_txn: str) -> Record:
        """The transaction a page of `bank` is about (expired first if its time is up)."""
        self.tick()
        doc = self._txns.get(bank_txn)
        if doc is None or doc["bank"] != bank:
            raise NbNotFound("no such payment at this bank")
        return doc

    def sign_in(self, doc: Record, login: str, password: str) -> str | None:
        """The customer signs in to pay `doc`: a session token for the confirm page, or
        None when refused (55: `doc` stays CREATED; 75: it is a FAILURE)."""
        now = self.now()
        with self._db.journal.atomic():
            customer = self._customers.sign_in(doc["bank"], login, password, self.day(now))
            if customer == "55":
                doc["wrong_logins"] += 1
                if doc["wrong_logins"] < LOGIN_TRIES:
                    self._save(doc, now)
                    return None
                customer = "75"
            if isinstance(customer, str):
                self._finish(doc, "FAILURE", customer, now)
                return None
            token = secrets.token_urlsafe(18)
            session = _session_hash(token)
            self._save(doc, now, login=login, account=masked(customer), session=session)
        return token

    def signed_in(self, doc: Record, token: str) -> bool:
        """Whether `token` is the session of the customer who signed in to pay `doc`."""
        stored = doc["session"]
        return stored is not None and hmac.compare_digest(stored, _session_hash(token))

    def confirm(self, doc: Record) -> Record:
        """The signed-in customer confirms: the debit (SUCCESS), or 61 / 51 (FAILURE)."""
        now = self.now()
        with self._db.journal.atomic():
            code = self._customers.debit_code(doc["bank"], doc["login"], doc["amount"])
            if code is not None:
                return self._finish(doc, "FAILURE", code, now)
            doc["bank_ref"] = self.new_ref(doc["bank"], "D")
            day = self.day(now)
            self._books.move("debit", doc, doc["amount"], now, day)
            self._books.move("credit", doc, doc["amount"], now, day)
            return self._finish(doc, "SUCCESS", "00", now)

    def cancel(self, doc: Record) -> Record:
        """The customer cancels at the bank (CANCELED, CX)."""
        with self._db.journal.atomic():
            return self._finish(doc, "CANCELED", "CX", self.now())

    def answer(self, doc: Record) -> NbReturn:
        """The signed result the bank's 303 carries back to the merchant."""
        ret = NbReturn(
            merchant_id=doc["merchant_id"],
            payment_id=doc["payment_id"],
            bank=doc["bank"],
            bank_ref=doc["bank_ref"] or "",
            amount=doc["amount"],
            status=doc["state"],
            code=doc["code"],
            signature="",
        )
        return sign_return(ret, self._merchants.secret(doc["bank"], doc["merchant_id"]))

    @staticmethod
    def return_to(doc: Record, ret: NbReturn) -> str:
        """`doc`'s return_url with `ret`'s fields added to its query string."""
        url = urlsplit(doc["return_url"])
        fields = urlencode(ret.model_dump(mode="json"))
        return urlunsplit(url._replace(query=f"{url.query}&{fields}" if url.query else fields))

    # -- refunds (see `refunds`) ------------------------------------------------------------
    def refunded(self, doc: Record, amount: int, refund_id: str, now: datetime) -> None:
        """Give `amount` of `doc`'s debit back to the customer (REFUNDED when all is)."""
        self._books.move("refund", doc, amount, now, self.day(now), refund_id=refund_id)
        doc["refunded"] += amount
        state = "REFUNDED" if doc["refunded"] == doc["amount"] else doc["state"]
        self._save(doc, now, state=state)

    # -- internals ------------------------------------------------------------------------
    def _save(self, doc: Record, moment: datetime, **fields: object) -> Record:
        doc.update(fields, updated_at=moment.isoformat())
        self._txns.put(doc)
        return doc

    def _finish(self, doc: Record, state: str, code: str, moment: datetime) -> Record:
        self._open.pop(doc["bank_txn"], None)
        return self._save(doc, moment, state=state, code=code, session=None)
