"""The banks' books: double entry over cardholder, hold, merchant and fee accounts.

Every movement is one posting whose lines sum to zero, so money is never created or
lost: the total over all accounts always equals what the banks were opened with.
Account names: `card:<account id>` (available funds or credit), `hold:<account id>`,
`merchant:<merchant id>`, `fees:<acquirer>`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from gateway_core.acquirer_api import LedgerCheck
from gateway_core.errors import SystemFailure

Line = tuple[str, int]


class Unbalanced(SystemFailure):
    """A posting whose lines do not sum to zero (a bug, never applied)."""


class Ledger:
    """Balances kept in the banks' main database, one posting per movement."""

    def __init__(self, db) -> None:
        self._balances = db.table("balances")
        self._postings = db.table("postings")
        self._meta = db.table("ledger_meta")
        self._doc_ids = {doc["account"]: doc.doc_id for doc in self._balances}

    def open_account(self, account: str, opening: int) -> None:
        """Create an account with its opening balance (counted in the opening total)."""
        self._doc_ids[account] = self._balances.insert({"account": account, "balance": opening})
        meta = self._meta.get(doc_id=1) or {"opening_total": 0}
        self._meta.upsert(_doc({"opening_total": meta["opening_total"] + opening}, 1))

    def balance(self, account: str) -> int:
        """Current balance of one account (0 when it never moved)."""
        doc_id = self._doc_ids.get(account)
        return 0 if doc_id is None else self._balances.get(doc_id=doc_id)["balance"]

    def post(self, kind: str, ref: str, lines: Iterable[Line]) -> None:
        """Apply one balanced posting."""
        lines = [(account, amount) for account, amount in lines if amount]
        if sum(amount for _, amount in lines) != 0:
            raise Unbalanced(f"posting {kind} for {ref} does not balance")
        if not lines:
            return
        self._postings.insert({"kind": kind, "ref": ref, "lines": lines})
        for account, amount in lines:
            if account not in self._doc_ids:
                self._doc_ids[account] = self._balances.insert({"account": account, "balance": 0})
            doc_id = self._doc_ids[account]
            balance = self._balances.get(doc_id=doc_id)["balance"]
            self._balances.update({"balance": balance + amount}, doc_ids=[doc_id])

    def check(self, live_holds: dict[str, int]) -> LedgerCheck:
        """Prove the books: totals match the opening, postings replay to the balances,
        and every hold account equals the live authorizations on it."""
        opening = (self._meta.get(doc_id=1) or {"opening_total": 0})["opening_total"]
        balances = {doc["account"]: doc["balance"] for doc in self._balances}
        total = sum(balances.values())
        if total != opening:
            return LedgerCheck(
                ok=False,
                opening_total=opening,
                current_total=total,
                problem=f"accounts total {total}, opened with {opening}",
            )
        replay: dict[str, int] = defaultdict(int)
        for doc in self._postings:
            for account, amount in doc["lines"]:
                replay[account] += amount
        for account, balance in sorted(balances.items()):
            opened = balance - replay.get(account, 0)
            if account.startswith(("hold:", "merchant:", "fees:")) and opened != 0:
                return _problem(opening, total, f"{account} moved without a posting")
            if account.startswith("hold:"):
                expected = live_holds.get(account, 0)
                if balance != expected:
                    return _problem(
                        opening,
                        total,
                        f"{account} holds {balance} but live authorizations hold {expected}",
                    )
        for account, amount in live_holds.items():
            if balances.get(account, 0) != amount:
                return _problem(opening, total, f"{account} should hold {amount}")
        return LedgerCheck(ok=True, opening_total=opening, current_total=total)


def _problem(opening: int, total: int, text: str) -> LedgerCheck:
    return LedgerCheck(ok=False, opening_total=opening, current_total=total, problem=text)


def _doc(record: dict[str, Any], doc_id: int):
    from tinydb.table import Document

    return Document(record, doc_id=doc_id)
