"""The UPI world over the banks' own store: payers, PSP, switch, books and payer app."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from bank_sim.config import BankConfig
from bank_sim.ledger import Ledger
from bank_sim.upi.books import Books
from bank_sim.upi.payer_app import PayerApp
from bank_sim.upi.payers import Payers
from bank_sim.upi.psp import Psp
from bank_sim.upi.switch import Switch
from gateway_core.keys import KeyVersion
from gateway_core.store import JournaledDB
from gateway_core.upi_api import UpiCallback, UpiLedgerCheck, UpiSettlementLine


def _derived(key: bytes, purpose: str) -> bytes:
    """A key of its own for one purpose, from one of the banks' keys."""
    return hmac.new(key, f"paygate-upi:{purpose}".encode(), hashlib.sha256).digest()


class UpiNetwork:
    """Every part of the simulated UPI network, sharing the banks' database and ledger."""

    def __init__(
        self, db: JournaledDB, ledger: Ledger, keys: KeyVersion, config: BankConfig
    ) -> None:
        self.payers = Payers(db, ledger, _derived(keys.fp, "pin"), config)
        self.psp = Psp(db, _derived(keys.enc, "callback-secret"))
        self.books = Books(db, ledger)
        self.switch = Switch(db, self.payers, self.psp, self.books, config)
        self.payer_app = PayerApp(self.switch, self.psp)

    def callbacks(self, merchant_id: str) -> list[UpiCallback]:
        """The merchant's unacknowledged callbacks, after everything due has happened."""
        self.switch.tick()
        return self.psp.pending(merchant_id)

    def settlement(self, day: date) -> list[UpiSettlementLine]:
        """The switch's settlement file of `day`, after everything due has happened."""
        self.switch.tick()
        return self.books.settlement(day)

    def ledger_check(self) -> UpiLedgerCheck:
        """Whether the UPI books balance (`Books.check`); changes nothing."""
        return self.books.check(self.switch.transactions(), self.payers.all())
