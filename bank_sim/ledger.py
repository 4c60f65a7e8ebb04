"""The banks' books: double entry over cardholder, hold, merchant and fee accounts.

Every movement is one posting whose lines sum to zero, so money is never created or
lost: the total over all accounts always equals what the banks were opened with.
Account names: `card:<account id>` (available funds or credit), `hold:<account id>`,
`merchant:<merchant id>`, `fees:<acquirer>`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from gateway_core.acquirer_api import LedgerCheck
from gateway_core.errors import SystemFailure
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents

Line = tuple[str, int]


def merchant_account(merchant_id: str) -> str:
    """A merchant's account in the banks' ledger."""
    return f"merchant:{merchant_id}"


class Unbalanced(SystemFailure):
    """A posting whose lines do not sum to zero (a bug, never applied)."""


class Ledger:
    """Balances kept in the banks' main database, one posting per movement."""

    def __init__(self, db: JournaledDB) -> None:
        self._balances = Documents(db, "balances", key="account")
        self._postings = Documents(db, "postings")
        self._meta = Documents(db, "ledger_meta")

    def open_account(self, account: str, opening: int) -> None:
        """Create an account with its opening balance (counted in the opening total)."""
        self._balances.add({"account": account, "balance": opening})
        meta = self._meta.single() or {"opening_total": 0}
        self._meta.set_single({"opening_total": meta["opening_total"] + opening})

    def balance(self, account: str) -> int:
        """Current balance of one account (0 when it never moved)."""
        doc = self._balances.get(account)
        return 0 if doc is None else int(doc["balance"])

    def post(self, kind: str, ref: str, lines: Iterable[Line]) -> None:
        """Apply one balanced posting."""
        lines = [(account, amount) for account, amount in lines if amount]
        if sum(amount for _, amount in lines) != 0:
            raise Unbalanced(f"posting {kind} for {ref} does not balance")
        if not lines:
            return
        self._postings.add({"kind": kind, "ref": ref, "lines": lines})
        for account, amount in lines:
            self._balances.put({"account": account, "balance": self.balance(account) + amount})

    def check(self, live_holds: dict[str, int]) -> LedgerCheck:
        """Prove the books: totals match the opening, postings replay to the balances,
        and every hold account equals the live authorizations on it."""
        opening = (self._meta.single() or {"opening_total": 0})["opening_total"]
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
