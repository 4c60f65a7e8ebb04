"""The net banking books: every money movement, posted to the banks' ledger and kept as a
line (a bank's settlement file of a day is made of them), and the proof they balance.

Movements: `debit` (the customer → the bank's transit account), `credit` (transit → the
merchant) and `refund` (the merchant → the customer, a new transaction against the
debit's bank_ref). So customers' debits = what the merchants hold + refunds given back +
what is in transit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Final, Literal

from bank_sim.ledger import Ledger
from bank_sim.netbanking.customers import account_name
from gateway_core.netbanking_api import NbLedgerCheck, NbSettlementLine
from gateway_core.ports import Record
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents

Kind = Literal["debit", "credit", "refund"]
PAID: Final = frozenset({"SUCCESS", "REFUNDED"})  # states whose debit is credited
_FLOWS: Final[dict[str, tuple[str, str]]] = {  # kind → (from, to)
    "debit": ("customer", "transit"),
    "credit": ("transit", "merchant"),
    "refund": ("merchant", "customer"),
}


def transit_account(bank: str) -> str:
    """Where a bank's debits wait for their credit, in the banks' ledger."""
    return f"nb_transit:{bank}"


def merchant_account(bank: str, merchant_id: str) -> str:
    """The merchant's net banking account at `bank`, in the banks' ledger."""
    return f"nb_merchant:{bank}:{merchant_id}"


def _sides(line: Record) -> dict[str, str]:
    return {
        "customer": account_name(line["bank"], line["login"]),
        "transit": transit_account(line["bank"]),
        "merchant": merchant_account(line["bank"], line["merchant_id"]),
    }


class Books:
    """The movements table over the banks' ledger."""

    def __init__(self, db: JournaledDB, ledger: Ledger) -> None:
        self._moves = Documents(db, "nb_moves")
        self._ledger = ledger

    def move(
        self,
        kind: Kind,
        txn: Record,
        amount: int,
        at: datetime,
        day: date,
        *,
        refund_id: str | None = None,
    ) -> None:
        """Post one movement of transaction `txn` and file its line."""
        line: Record = {
            "day": day.isoformat(),
            "at": at.isoformat(),
            "kind": kind,
            "bank": txn["bank"],
            "merchant_id": txn["merchant_id"],
            "payment_id": txn["payment_id"],
            "bank_ref": txn["bank_ref"],
            "refund_id": refund_id,
            "login": txn["login"],
            "amount": amount,
        }
        source, target = (_sides(line)[side] for side in _FLOWS[kind])
        ref = refund_id or txn["bank_ref"]
        self._ledger.post(f"nb_{kind}", ref, [(source, -amount), (target, amount)])
        self._moves.add(line)

    def settlement(self, bank: str, day: date) -> list[NbSettlementLine]:
        """`bank`'s settlement file of `day`: the credits and refunds, in order."""
        fields = NbSettlementLine.model_fields
        return [
            NbSettlementLine(**{k: v for k, v in line.items() if k in fields})
            for line in self._moves.where(bank=bank, day=day.isoformat())
            if line["kind"] != "debit"
        ]

    def check(self, txns: Iterable[Record], customers: Iterable[Record]) -> NbLedgerCheck:
        """Whether the books balance: debits = credits + transit; each transit account
        holds its bank's debits not credited yet; every paid transaction has one debit
        and one credit of its amount and no other has any; none is refunded beyond its
        debit; every customer's balance is its opening less debits plus refunds, and
        every merchant's its credits less refunds. `credits` answers what the merchants
        hold (credited less refunded), so debits = credits + refunds + in_transit."""
        totals: Counter[str] = Counter()
        moved: Counter[str] = Counter()
        per_txn: Counter[tuple[str, str, str]] = Counter()
        refunded: Counter[tuple[str, str]] = Counter()
        for line in self._moves:
            kind, amount, sides = line["kind"], line["amount"], _sides(line)
            totals[kind] += amount
            source, target = _FLOWS[kind]
            moved[sides[source]] -= amount
            moved[sides[target]] += amount
            txn_key = (line["bank"], line["payment_id"])
            if kind == "refund":
                refunded[txn_key] += amount
            else:
                per_txn[(*txn_key, kind)] += amount
        transit = sum(v for k, v in moved.items() if k.startswith("nb_transit:"))
        verdict = NbLedgerCheck(
            ok=True,
            debits=totals["debit"],
            credits=totals["credit"] - totals["refund"],
            refunds=totals["refund"],
            in_transit=transit,
        )
        problems = list(self._problems(totals, moved, per_txn, refunded, txns, customers))
        return verdict.model_copy(update={"ok": not problems, "problems": problems})

    def _problems(
        self,
        totals: Counter[str],
        moved: Counter[str],
        per_txn: Counter[tuple[str, str, str]],
        refunded: Counter[tuple[str, str]],
        txns: Iterable[Record],
        customers: Iterable[Record],
    ) -> Iterable[str]:
        if totals["debit"] != totals["credit"] + sum(
            v for k, v in moved.items() if k.startswith("nb_transit:")
        ):
            yield f"debits {totals['debit']} ≠ credits {totals['credit']} + in transit"
        for name, amount in sorted(moved.items()):
            if not name.startswith("nb:") and self._ledger.balance(name) != amount:
                yield f"{name} holds {self._ledger.balance(name)}, its movements {amount}"
        for txn in txns:
            key = (txn["bank"], txn["payment_id"])
            want = txn["amount"] if txn["state"] in PAID else 0
            for kind in ("debit", "credit"):
                if (moved_for := per_txn[(*key, kind)]) != want:
                    yield f"{txn['bank_txn']} is {txn['state']} with {kind}s of {moved_for}"
            if refunded[key] > per_txn[(*key, "debit")] or refunded[key] != txn["refunded"]:
                yield f"{txn['bank_txn']} is refunded {refunded[key]} of a {want} debit"
        for doc in customers:
            name = account_name(doc["bank"], doc["login"])
            if self._ledger.balance(name) != doc["opening"] + moved[name]:
                yield f"{name}'s balance does not follow from its movements"
