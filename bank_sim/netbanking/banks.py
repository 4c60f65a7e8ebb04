"""The net banking world over the banks' own store: customers, merchants, books,
transactions and refunds, and what the banks answer about themselves."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from bank_sim.config import BankConfig
from bank_sim.ledger import Ledger
from bank_sim.netbanking.books import Books
from bank_sim.netbanking.customers import DOWN_BANKS, Customers
from bank_sim.netbanking.merchants import Merchants
from bank_sim.netbanking.refunds import Refunds
from bank_sim.netbanking.transactions import Transactions, check_bank
from gateway_core.keys import KeyVersion
from gateway_core.netbanking_api import (
    TEST_BANKS,
    NbBank,
    NbLedgerCheck,
    NbMerchant,
    NbSettlementLine,
)
from gateway_core.store import JournaledDB


def _derived(key: bytes, purpose: str) -> bytes:
    """A key of its own for one purpose, from one of the banks' keys."""
    return hmac.new(key, f"paygate-nb:{purpose}".encode(), hashlib.sha256).digest()


class NetBanking:
    """Every part of the simulated net banking banks, sharing the banks' database and
    ledger."""

    def __init__(
        self, db: JournaledDB, ledger: Ledger, keys: KeyVersion, config: BankConfig
    ) -> None:
        self.config = config
        self.customers = Customers(db, ledger, _derived(keys.fp, "password"))
        self.merchants = Merchants(db, _derived(keys.enc, "merchant-secret"))
        self.books = Books(db, ledger)
        self.txns = Transactions(db, self.customers, self.merchants, self.books, config)
        self.refunds = Refunds(db, self.txns)

    @staticmethod
    def banks() -> list[NbBank]:
        """The banks that take net banking, with their codes."""
        return [NbBank(code=c, name=n, up=c not in DOWN_BANKS) for c, n in TEST_BANKS.items()]

    def board(self, bank: str, merchant: NbMerchant) -> NbMerchant:
        """Enrol `merchant` at `bank` (again: the same secret)."""
        return self.merchants.board(check_bank(bank), merchant)

    def settlement(self, bank: str, day: date) -> list[NbSettlementLine]:
        """`bank`'s settlement file of `day`, after every expiry due."""
        self.txns.tick()
        return self.books.settlement(check_bank(bank), day)

    def ledger_check(self) -> NbLedgerCheck:
        """Whether the net banking books balance (`Books.check`); changes nothing."""
        return self.books.check(self.txns.all(), self.customers.all())
