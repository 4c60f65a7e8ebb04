"""How the command line shows net banking: a payment's bank lines (bank, the bank's
transaction and reference, the account masked, expiry and status checks), what to do
with a pending one (the bank's page, the test logins), and the test banks and logins.
A customer's login or password never reaches the gateway, so none is ever shown."""

from __future__ import annotations

from gateway_core.money import Money
from gateway_core.netbanking_api import TEST_ACCOUNTS, TEST_BANKS, TEST_PASSWORD
from gateway_core.payments import Payment
from gateway_core.presentation import format_money, time_text
from gateway_core.settings import Settings


def nb_tender_text(payment: Payment) -> str | None:
    """ "Net banking Demo Bank A XXXX4321" (the account once known); None if not NB."""
    nb = payment.netbanking
    if nb is None:
        return None
    return " ".join(["Net banking", nb.bank_name, *([nb.account] if nb.account else [])])


def netbanking_lines(payment: Payment, settings: Settings, *, detailed: bool = False) -> list[str]:
    """A net banking payment's bank, the bank's transaction and reference; its expiry
    and the status checks made and due (while it waits, or `detailed`); a late debit's
    refund."""
    nb = payment.netbanking
    if nb is None:
        return []
    parts = [f"netbanking {nb.bank}"]
    if nb.bank_txn:
        parts.append(f"txn {nb.bank_txn}")
    if nb.bank_ref:
        parts.append(f"bank ref {nb.bank_ref}")
    lines = ["  ".join(parts)]
    if detailed or payment.status == "pending":
        checks = f"expires {time_text(nb.expires_at, settings.tz)}  "
        checks += f"status checks {nb.checks} of {settings.netbanking.max_checks}"
        if nb.next_check_at is not None:
            checks += f", next at {time_text(nb.next_check_at, settings.tz)}"
        lines.append(checks)
    if nb.late_refund:
        lines.append(f"a late debit was refunded to the customer: refund {nb.late_refund}")
    return lines


def nb_pending_lines(payment: Payment, settings: Settings) -> list[str]:
    """What to do with a pending net banking payment: the bank's page to open, the test
    login, and the commands that follow."""
    nb = payment.netbanking
    if nb is None or payment.status != "pending" or nb.login_url is None:
        return []
    amount = format_money(Money(payment.amount, payment.currency))
    until = time_text(nb.expires_at, settings.tz)
    return [
        f"pay {amount} at {nb.bank_name} before {until}: open {nb.login_url}",
        f"test login at the bank: demo / {TEST_PASSWORD} (others: paygate netbanking banks)",
        f"then: paygate status {payment.id}   (or give up: paygate cancel {payment.id})",
    ]


def bank_rows() -> list[tuple[str, str]]:
    """(code, name) of each simulated bank."""
    return list(TEST_BANKS.items())


def login_rows() -> list[tuple[str, str, str]]:
    """(login, password, behaviour) of the test logins every up bank has."""
    return [(login, TEST_PASSWORD, does) for login, does in TEST_ACCOUNTS.items()]


NB_NOTE = (
    "Every bank's page also has a Cancel button (CX); a wrong password shows the login "
    "again (55), the third in a day locks the account (75). Bank DOWN never answers: its "
    "payments expire."
)
