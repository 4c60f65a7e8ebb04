"""The banks' net banking customers: every test login (`TEST_ACCOUNTS`) at every bank that
is up, with password `demo` and ₹2,00,000.00, except `poor` (₹10.00) and `limit`
(₹50,000.00 a payment). A password is kept only as HMAC-SHA256 under the banks' own key
(with a salt); the third wrong password in a business day locks the login until the
next one (75). Balances live in the banks' ledger as `nb:<bank>:<login>`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from datetime import date
from typing import Final

from bank_sim.ledger import Ledger
from gateway_core.netbanking_api import TEST_ACCOUNTS, TEST_BALANCE, TEST_BANKS, TEST_PASSWORD
from gateway_core.ports import Record
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents

DOWN_BANKS: Final = frozenset({"DOWN"})  # their pages never load
LOGIN_TRIES: Final = 3  # wrong passwords a day before the lock
BALANCES: Final = {"poor": 10_00}
LIMITS: Final = {"limit": 50_000_00}  # paise a payment
NO_REDIRECT: Final = "noreturn"  # pays, but the bank's page sends nobody back


def account_name(bank: str, login: str) -> str:
    """The customer's account in the banks' ledger."""
    return f"nb:{bank}:{login}"


def masked(doc: Record) -> str:
    """The customer's account number as pages and answers show it: XXXX1234."""
    return "XXXX" + doc["account_no"][-4:]


class Customers:
    """The test logins at each bank, kept in the banks' main database."""

    def __init__(self, db: JournaledDB, ledger: Ledger, key: bytes) -> None:
        self._db, self._ledger, self._key = db, ledger, key
        self._docs = Documents(db, "nb_customers", key="key")
        if not self._docs:
            self._seed()

    def _seed(self) -> None:
        with self._db.journal.atomic():
            for bank in TEST_BANKS:
                if bank in DOWN_BANKS:
                    continue
                for login in TEST_ACCOUNTS:
                    salt = secrets.token_hex(8)
                    balance = BALANCES.get(login, TEST_BALANCE)
                    number = zlib.crc32(f"{bank}/{login}".encode()) % 10**12
                    self._docs.add(
                        {
                            "key": f"{bank}/{login}",
                            "bank": bank,
                            "login": login,
                            "account_no": f"{number:012d}",
                            "salt": salt,
                            "password_hash": self._hash(salt, TEST_PASSWORD),
                            "limit": LIMITS.get(login),
                            "wrong": {"day": None, "count": 0},
                            "locked_day": None,
                            "opening": balance,
                        }
                    )
                    self._ledger.open_account(account_name(bank, login), balance)

    def _hash(self, salt: str, password: str) -> str:
        return hmac.new(self._key, (salt + password).encode(), hashlib.sha256).hexdigest()

    def get(self, bank: str, login: str) -> Record | None:
        """The customer `login` at `bank`, None when there is none."""
        return self._docs.get(f"{bank}/{login}")

    def all(self) -> list[Record]:
        """Every customer at every bank."""
        return list(self._docs)

    def sign_in(self, bank: str, login: str, password: str, day: date) -> Record | str:
        """The customer when `password` is the login's, else the refusal code: 55 for a
        wrong one (or an unknown login), 75 when this wrong one is the third of `day` or
        the login is locked already."""
        doc = self.get(bank, login)
        if doc is None:
            return "55"
        if doc["locked_day"] == day.isoformat():
            return "75"
        if hmac.compare_digest(self._hash(doc["salt"], password), doc["password_hash"]):
            return doc
        wrong = doc["wrong"] if doc["wrong"]["day"] == day.isoformat() else {}
        count = wrong.get("count", 0) + 1
        fields: Record = {"wrong": {"day": day.isoformat(), "count": count}}
        if count >= LOGIN_TRIES:
            fields["locked_day"] = day.isoformat()
        self._docs.update(doc["key"], fields)
        return "75" if count >= LOGIN_TRIES else "55"

    def debit_code(self, bank: str, login: str, amount: int) -> str | None:
        """Why `amount` cannot be debited from `login` at `bank`: 61 over its limit, 51
        over its balance; None when it can."""
        limit = (self.get(bank, login) or {}).get("limit")
        if limit is not None and amount > limit:
            return "61"
        if self._ledger.balance(account_name(bank, login)) < amount:
            return "51"
        return None
