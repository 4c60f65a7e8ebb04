"""The net banking wire: what the gateway and the banks (bank_sim's, or real ones) say
to each other server to server, the signed redirect that brings a customer back, and
what the banks' codes mean.

A customer pays by net banking in the bank's own pages: the gateway creates the
transaction server to server and sends the customer's browser to `login_url`; the
customer signs in, confirms, and the bank answers its final POST with 303 to the
gateway's `return_url` carrying an `NbReturn` in the query string, signed. The redirect
alone never decides: the gateway verifies the signature, then asks the bank for the
transaction's status before it marks the payment.

Paths (the banks app serves them; `{bank}` is a bank code such as DEMOA):

    GET  /netbanking/v1/banks                      → list[NbBank]
    POST /netbanking/v1/merchants                  NbMerchant → NbMerchant (board; idempotent)
    POST /netbanking/v1/transactions               NbTransactionRequest → NbTransaction
                                                   (the same bank + payment_id: the same one)
    GET  /netbanking/v1/transactions/{bank}/{payment_id} → NbTransaction (status check)
    POST /netbanking/v1/refunds                    NbRefundRequest → NbRefund (same refund_id:
                                                   the same one)
    GET  /netbanking/v1/refunds/{bank}/{refund_id} → NbRefund
    GET  /netbanking/v1/settlement/{bank}/{day}    → list[NbSettlementLine] (the bank's file)
    GET  /netbanking/v1/ledger/check               → NbLedgerCheck
    GET  /nb/{bank}/pay/{bank_txn}                 the bank's login page (HTML)
    POST /nb/{bank}/pay/{bank_txn}/login           user, password → the confirm page
    POST /nb/{bank}/pay/{bank_txn}/confirm         → 303 return_url?<NbReturn fields>
    POST /nb/{bank}/pay/{bank_txn}/cancel          → 303 return_url?<NbReturn, CANCELED>

Amounts are integers in paise (INR only). A refused request answers 4xx with
{"error": "<one line>"}; an unknown id 404. The return's `signature` is the hex
HMAC-SHA512, with the secret the bank shares with that merchant (given at boarding),
over `return_payload`: merchant_id|payment_id|bank_ref|amount|status.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from typing import Final, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

NbState = Literal["CREATED", "SUCCESS", "FAILURE", "CANCELED", "EXPIRED", "REFUNDED"]
"""CREATED: the customer has not finished at the bank; SUCCESS: debited, the merchant
will be credited; FAILURE: the bank declined (code says why); CANCELED: the customer
canceled at the bank; EXPIRED: nobody finished in time; REFUNDED: fully given back."""

FINAL_STATES: Final[frozenset[str]] = frozenset({"SUCCESS", "FAILURE", "CANCELED", "EXPIRED"})

TEST_LOGIN: Final = "demo"  # every test account's password is "demo"
TEST_PASSWORD: Final = "demo"
TEST_BALANCE: Final = 2_00_000_00  # paise, each test account's opening balance
MAX_NB_AMOUNT: Final = 10_00_000_00  # paise: ₹10,00,000.00 per payment


class NbReason(NamedTuple):
    """What a bank's code means to a cashier, and the Stripe-style code."""

    text: str
    decline_code: str | None


NB_CODES: Final[dict[str, NbReason]] = {
    "00": NbReason("Paid", None),
    "51": NbReason("Insufficient funds in the customer's account", "insufficient_funds"),
    "55": NbReason("Wrong login or password at the bank", "incorrect_pin"),
    "75": NbReason("Too many wrong logins: the account is locked for today", "pin_try_exceeded"),
    "61": NbReason("Over the account's net banking limit", "card_velocity_exceeded"),
    "CX": NbReason("The customer canceled at the bank", "customer_canceled"),
    "EX": NbReason("The customer did not finish at the bank in time", "expired"),
    "91": NbReason("The bank is unavailable", "issuer_not_available"),
}
"""The codes the simulated banks answer (a FAILURE, CANCELED or EXPIRED carries one)."""


def nb_reason(code: str | None) -> NbReason:
    """The meaning of a net banking code (an unknown code is a generic decline)."""
    if code is None:
        return NbReason("Waiting for the customer at the bank", None)
    return NB_CODES.get(code, NbReason(f"Declined by the bank ({code})", "generic_decline"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NbBank(_Model):
    """A bank that takes net banking payments: its code, name and whether it is up."""

    code: str  # e.g. "DEMOA": 4 to 8 capitals and digits
    name: str
    up: bool = True  # False: its pages never load (the DOWN test bank)


class NbMerchant(_Model):
    """A merchant as the banks board it: the secret it signs returns with (answered
    only at boarding; a second boarding answers the same secret)."""

    merchant_id: str
    name: str
    secret: str | None = None  # hex; None when the gateway asks (the bank makes it)


class NbTransactionRequest(_Model):
    """Start a net banking payment at `bank` for one gateway payment."""

    bank: str
    merchant_id: str
    payment_id: str  # the gateway's: one transaction per bank and payment id
    amount: int
    currency: str = "INR"
    return_url: str  # where the bank sends the customer back (absolute)
    expires_at: datetime  # after it, the bank refuses the login (EXPIRED)


class NbTransaction(_Model):
    """A net banking transaction as the bank holds it."""

    bank: str
    bank_txn: str  # the bank's id of the attempt (in the login URL)
    payment_id: str
    merchant_id: str
    amount: int
    currency: str = "INR"
    state: NbState
    code: str | None = None  # 00 on SUCCESS; why, on FAILURE / CANCELED / EXPIRED
    bank_ref: str | None = None  # the bank's reference of the debit (SUCCESS)
    login_url: str  # absolute: the customer's browser goes there
    account: str | None = None  # the customer's account, masked (XXXX1234), once known
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    refunded: int = 0


class NbReturn(_Model):
    """What the bank's 303 to `return_url` carries in its query string: the result of
    the customer's visit, signed (`sign_return`). Never trusted alone: the gateway
    checks the signature, then asks the bank for the status."""

    merchant_id: str
    payment_id: str
    bank: str
    bank_ref: str  # "" when nothing was debited (canceled, failed)
    amount: int
    status: Literal["SUCCESS", "FAILURE", "CANCELED"]
    code: str
    signature: str


class NbRefundRequest(_Model):
    """Give back (part of) a debit, as a new bank transaction against its reference."""

    bank: str
    refund_id: str  # the gateway's: the same id again is the same refund
    merchant_id: str
    payment_id: str
    bank_ref: str  # the original debit's
    amount: int


class NbRefund(_Model):
    """A refund as the bank made it."""

    bank: str
    refund_id: str
    payment_id: str
    bank_ref: str  # the original debit's
    refund_ref: str  # the bank's reference of the credit back
    amount: int
    state: Literal["SUCCESS", "FAILURE"]
    code: str
    created_at: datetime


class NbSettlementLine(_Model):
    """One line of a bank's settlement file for a merchant's day: a debit credited to
    the merchant, or a refund taken back from it."""

    bank: str
    kind: Literal["credit", "refund"]
    merchant_id: str
    payment_id: str
    bank_ref: str  # the debit's (a refund line: the original debit's)
    refund_id: str | None = None
    amount: int  # paise, always positive
    day: date
    at: datetime


class NbLedgerCheck(_Model):
    """Whether the net banking books balance: customers' debits = merchants' credits +
    refunds given back + money in transit."""

    ok: bool
    debits: int
    credits: int
    refunds: int
    in_transit: int
    problems: list[str] = []


TEST_BANKS: Final[dict[str, str]] = {
    "DEMOA": "Demo Bank A",
    "DEMOB": "Bharat Demo Bank",
    "DEMOC": "Coastal Demo Bank",
    "DOWN": "Offline Demo Bank (always down: its pages never load)",
}
"""The simulated banks. DOWN never answers: a payment there expires."""

TEST_ACCOUNTS: Final[dict[str, str]] = {
    "demo": "pays (success)",
    "poor": "insufficient funds (51)",
    "limit": "over the net banking limit above ₹50,000.00 (61)",
    "noreturn": "debits, but the redirect back never arrives (the status check finds it)",
}
"""The test logins (password `demo` for each) at every up bank. Any bank's page also has
a Cancel button (CANCELED, CX); a wrong password gives 55, the third in a day 75."""


def return_payload(ret: NbReturn) -> bytes:
    """What the signature covers: merchant|payment|bank_ref|amount|status."""
    fields = (ret.merchant_id, ret.payment_id, ret.bank_ref, str(ret.amount), ret.status)
    return "|".join(fields).encode()


def sign_return(ret: NbReturn, secret: str) -> NbReturn:
    """`ret` with its signature: hex HMAC-SHA512 over `return_payload` with `secret`."""
    digest = hmac.new(bytes.fromhex(secret), return_payload(ret), hashlib.sha512).hexdigest()
    return ret.model_copy(update={"signature": digest})


def return_is_signed(ret: NbReturn, secret: str) -> bool:
    """Whether `ret` carries the signature `secret` makes (compared in constant time)."""
    expected = sign_return(ret, secret).signature
    return hmac.compare_digest(expected, ret.signature)
