"""The UPI switch's books: every money movement, posted to the banks' ledger and kept as
a line (the settlement file of a day is made of them), and the proof that they balance.

Movements: `debit` (payer → the switch's transit account), `credit` (transit → the
payee), `reversal` (transit → back to the payer: a debit never confirmed) and `refund`
(payee → payer, a new transaction carrying the original's txn id). So payer debits =
payee credits + reversals + what is in transit, and refunds go the other way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Final, Literal

from bank_sim.ledger import Ledger
from bank_sim.upi.payers import account_name
from gateway_core.ports import Record
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents
from gateway_core.upi_api import UpiLedgerCheck, UpiSettlementLine

Kind = Literal["debit", "credit", "reversal", "refund"]
TRANSIT: Final = "upi_transit"  # debited from payers, not yet credited or reversed
_FLOWS: Final[dict[str, tuple[str, str]]] = {  # kind → (from, to)
    "debit": ("payer", "transit"),
    "credit": ("transit", "payee"),
    "reversal": ("transit", "payer"),
    "refund": ("payee", "payer"),
}


def payee_account(merchant_id: str) -> str:
    """The merchant's UPI account at its PSP, in the banks' ledger."""
    return f"upi_payee:{merchant_id}"


class Books:
    """The movements table over the banks' ledger."""

    def __init__(self, db: JournaledDB, ledger: Ledger) -> None:
        self._moves = Documents(db, "upi_moves")
        self._ledger = ledger

    def move(self, kind: Kind, txn: Record, day: date, *, original: str | None = None) -> None:
        """Post one movement of `txn` (a transaction or refund record) and file its line."""
        accounts = {
            "payer": account_name(txn["payer_vpa"]),
            "transit": TRANSIT,
            "payee": payee_account(txn["merchant_id"]),
        }
        source, target = (accounts[side] for side in _FLOWS[kind])
        amount = txn["amount"]
        self._ledger.post(f"upi_{kind}", txn["txn_id"], [(source, -amount), (target, amount)])
        self._moves.add(
            {
                "day": day.isoformat(),
                "kind": kind,
                "txn_id": txn["txn_id"],
                "original_txn_id": original,
                "reference": txn["reference"],
                "rrn": txn.get("rrn"),
                "merchant_id": txn["merchant_id"],
                "payer_vpa": txn["payer_vpa"],
                "payee_vpa": txn["payee_vpa"],
                "amount": amount,
                "response_code": txn.get("response_code") or "00",
            }
        )

    def settlement(self, day: date) -> list[UpiSettlementLine]:
        """The switch's settlement file of `day`: credits, refunds and reversals."""
        lines = self._moves.where(day=day.isoformat())
        return [UpiSettlementLine(**line) for line in lines if line["kind"] != "debit"]

    def check(self, txns: Iterable[Record], payers: Iterable[Record]) -> UpiLedgerCheck:
        """Whether the books balance: debits = credits + reversals + transit, transit
        holds exactly the debited transactions still open, every payer's balance is its
        opening less debits plus reversals and refunds, every payee's is its credits less
        refunds, every SUCCESS has one credit and nothing else has any, and no payment is
        refunded beyond its credit."""
        totals: Counter[str] = Counter()
        per_account: Counter[str] = Counter()
        credits: Counter[str] = Counter()
        refunded: Counter[str] = Counter()
        for line in self._moves:
            kind, amount = line["kind"], line["amount"]
            totals[kind] += amount
            source, target = _FLOWS[kind]
            sides = {"payer": account_name(line["payer_vpa"]), "transit": TRANSIT}
            sides["payee"] = payee_account(line["merchant_id"])
            per_account[sides[source]] -= amount
            per_account[sides[target]] += amount
            if kind == "credit":
                credits[line["txn_id"]] += 1
            if kind == "refund":
                refunded[line["original_txn_id"]] += amount
        verdict = UpiLedgerCheck(
            ok=True,
            debits=totals["debit"],
            credits=totals["credit"],
            reversals=totals["reversal"],
            refunds=totals["refund"],
        )
        problem = self._problem(totals, per_account, credits, refunded, txns, payers)
        return (
            verdict
            if problem is None
            else verdict.model_copy(update={"ok": False, "problem": problem})
        )

    def _problem(
        self,
        totals: Counter[str],
        per_account: Counter[str],
        credits: Counter[str],
        refunded: Counter[str],
        txns: Iterable[Record],
        payers: Iterable[Record],
    ) -> str | None:
        transit = self._ledger.balance(TRANSIT)
        if totals["debit"] != totals["credit"] + totals["reversal"] + transit:
            return f"debits {totals['debit']} ≠ credits + reversals + {transit} in transit"
        open_debits, amounts = 0, defaultdict(int)
        for txn in txns:
            amounts[txn["txn_id"]] = txn["amount"]
            if txn["stage"] == "debited":
                open_debits += txn["amount"]
            want = 1 if txn["status"] == "SUCCESS" else 0
            if credits[txn["txn_id"]] != want:
                return f"{txn['txn_id']} is {txn['status']} with {credits[txn['txn_id']]} credits"
        if transit != open_debits:
            return f"{transit} in transit, but the open debited transactions hold {open_debits}"
        for txn_id, amount in refunded.items():
            if amount > amounts.get(txn_id, 0):
                return f"{txn_id} is refunded {amount}, more than it was paid"
        for payer in payers:
            if payer["account"]:
                name = account_name(payer["vpa"])
                if self._ledger.balance(name) != payer["opening"] + per_account[name]:
                    return f"{payer['vpa']}'s balance does not follow from its movements"
        for name, moved in per_account.items():
            if name.startswith("upi_payee:") and self._ledger.balance(name) != moved:
                return f"{name}'s balance does not follow from its movements"
        return None
