"""The remitter banks' side of UPI: the test payers' accounts, UPI PINs, limits and locks.

Every test VPA (`TEST_VPAS`) is a payer at a remitter bank (its handle names the bank),
with UPI PIN 1234 and ₹50,000.00, except `insufficient@payer` (₹10.00), `limit@payer`
(₹2,000.00 a payment) and `noaccount@payer` (no account: XH, like any VPA not listed).
A PIN is kept only as HMAC-SHA256 under the banks' own key (with a salt); three wrong
PINs in a business day lock the payer until the next one (ZD). Balances live in the
banks' ledger as `upi:<vpa>`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta
from typing import Final

from bank_sim.config import BankConfig
from bank_sim.ledger import Ledger
from gateway_core.errors import InputError
from gateway_core.ports import Record
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents
from gateway_core.upi_api import MAX_UPI_AMOUNT, TEST_BALANCE, TEST_PIN, TEST_VPAS, TestPayer

REMITTER_BANKS: Final = {"payer": "Payer Bank"}  # a VPA's handle → the bank holding it
PIN_TRIES: Final = 3  # wrong PINs a day before the lock
BALANCES: Final = {"insufficient@payer": 10_00, "noaccount@payer": 0}
TXN_LIMITS: Final = {"limit@payer": 2_000_00}


def account_name(vpa: str) -> str:
    """The payer's account in the banks' ledger."""
    return f"upi:{vpa}"


def check_pin(pin: str) -> str:
    """A UPI PIN as typed: 4 or 6 digits (`InputError` otherwise; the PIN is not shown)."""
    if not (isinstance(pin, str) and len(pin) in (4, 6) and pin.isascii() and pin.isdigit()):
        raise InputError("a UPI PIN has 4 or 6 digits")
    return pin


class Payers:
    """The test payers at their remitter banks, kept in the banks' main database."""

    def __init__(self, db: JournaledDB, ledger: Ledger, key: bytes, config: BankConfig) -> None:
        self._db, self._ledger, self._key, self._config = db, ledger, key, config
        self._docs = Documents(db, "upi_payers", key="vpa")
        if not self._docs:
            self._seed()

    def _seed(self) -> None:
        with self._db.journal.atomic():
            for vpa in TEST_VPAS:
                handle, _, bank = vpa.partition("@")
                salt = secrets.token_hex(8)
                balance = BALANCES.get(vpa, TEST_BALANCE)
                doc = {
                    "vpa": vpa,
                    "kind": handle,
                    "bank": REMITTER_BANKS[bank],
                    "account": vpa != "noaccount@payer",
                    "opening": balance,
                    "salt": salt,
                    "txn_limit": TXN_LIMITS.get(vpa, MAX_UPI_AMOUNT),
                    "daily_count": self._config.upi_daily_count,
                    "daily_amount": self._config.upi_daily_amount,
                    "wrong_pins": {"day": None, "count": 0},
                    "locked_day": None,
                    "spent": {"day": None, "count": 0, "amount": 0},
                    "down_until": None,
                }
                doc["pin_hash"] = self._pin_hash(doc, TEST_PIN)
                self._docs.add(doc)
                if doc["account"]:
                    self._ledger.open_account(account_name(vpa), balance)

    def _pin_hash(self, doc: Record, pin: str) -> str:
        message = f"upi-pin:{doc['salt']}:{doc['vpa']}:{pin}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def account(self, vpa: str) -> Record | None:
        """The payer of `vpa` if a remitter bank holds an account for it."""
        doc = self._docs.get(vpa)
        return doc if doc is not None and doc["account"] else None

    def balance(self, vpa: str) -> int:
        """The payer's balance now."""
        return self._ledger.balance(account_name(vpa))

    def all(self) -> list[Record]:
        """Every payer, in the order of `TEST_VPAS`."""
        return list(self._docs)

    def views(self) -> list[TestPayer]:
        """The test VPAs as the payer app lists them."""
        return [
            TestPayer(
                vpa=doc["vpa"],
                bank=doc["bank"],
                balance=self.balance(doc["vpa"]),
                behaviour=TEST_VPAS.get(doc["vpa"], ""),
            )
            for doc in self._docs
        ]

    def verify_pin(self, doc: Record, pin: str, day: date) -> str | None:
        """None when `pin` is the payer's; ZM for a wrong one, ZD when this wrong one is
        the third of the day or the payer is locked for `day` already."""
        if doc["locked_day"] == day.isoformat():
            return "ZD"
        wrong = doc["wrong_pins"] if doc["wrong_pins"]["day"] == day.isoformat() else {}
        if hmac.compare_digest(self._pin_hash(doc, pin), doc["pin_hash"]):
            if wrong.get("count"):
                self._docs.update(doc["vpa"], {"wrong_pins": {"day": None, "count": 0}})
            return None
        count = wrong.get("count", 0) + 1
        fields: Record = {"wrong_pins": {"day": day.isoformat(), "count": count}}
        if count >= PIN_TRIES:
            fields["locked_day"] = day.isoformat()
        self._docs.update(doc["vpa"], fields)
        return "ZD" if count >= PIN_TRIES else "ZM"

    def limit_code(self, doc: Record, amount: int, day: date) -> str | None:
        """Z8 above the per-payment limit or past the day's count or amount, Z9 when the
        balance is short, else None."""
        spent = doc["spent"] if doc["spent"]["day"] == day.isoformat() else {}
        if amount > doc["txn_limit"]:
            return "Z8"
        if spent.get("count", 0) + 1 > doc["daily_count"]:
            return "Z8"
        if spent.get("amount", 0) + amount > doc["daily_amount"]:
            return "Z8"
        return self.funds_code(doc["vpa"], amount)

    def funds_code(self, vpa: str, amount: int) -> str | None:
        """Z9 when the balance is short of `amount`."""
        return "Z9" if self.balance(vpa) < amount else None

    def count_debit(self, vpa: str, amount: int, day: date) -> None:
        """Count a debit against the payer's daily limits."""
        doc = self._docs.get(vpa)
        if doc is None:
            return
        spent = doc["spent"] if doc["spent"]["day"] == day.isoformat() else {}
        total = {"count": spent.get("count", 0) + 1, "amount": spent.get("amount", 0) + amount}
        self._docs.update(vpa, {"spent": {"day": day.isoformat(), **total}})

    def bank_back_at(self, vpa: str, now: datetime) -> datetime | None:
        """When the payer's bank answers again if it is down now, else None. Reaching
        bankdown@payer's bank while it is up takes it down for `upi_bank_down_s`."""
        doc = self._docs.get(vpa)
        if doc is None or doc["kind"] != "bankdown":
            return None
        until = doc["down_until"] and datetime.fromisoformat(doc["down_until"])
        if until and until > now:
            return until
        until = now + timedelta(seconds=self._config.upi_bank_down_s)
        self._docs.update(vpa, {"down_until": until.isoformat()})
        return until
