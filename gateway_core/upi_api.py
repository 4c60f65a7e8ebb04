"""The UPI wire: what the gateway and its payee PSP (bank_sim's, or a real one) say to
each other, what a payer app says to the switch, and what the NPCI response codes mean.

Paths (the banks app serves them under `/upi/v1`):

    POST /upi/v1/merchants                    UpiMerchant → UpiMerchant   (board; idempotent)
    POST /upi/v1/transactions                 UpiTransactionRequest → UpiTransaction
    GET  /upi/v1/transactions/{txn_id}        → UpiTransaction   (status check with the switch)
    POST /upi/v1/transactions/{txn_id}/cancel → UpiTransaction   (the payee gives up)
    POST /upi/v1/transactions/{txn_id}/reverse → UpiTransaction  (debit unconfirmed: give it back)
    POST /upi/v1/refunds                      UpiRefundRequest → UpiRefund (same refund_id: same)
    GET  /upi/v1/refunds/{refund_id}          → UpiRefund
    GET  /upi/v1/callbacks?merchant_id=M      → list[UpiCallback] (unacknowledged, oldest first)
    POST /upi/v1/callbacks/ack                CallbackAck → {"acknowledged": n}
    GET  /upi/v1/settlement/{day}             → list[UpiSettlementLine] (the switch's file)
    POST /upi/v1/payer/pay                    PayRequest → PayResult      (the payer app)
    GET  /upi/v1/payer/inbox?vpa=V            → list[CollectView]
    POST /upi/v1/payer/decline                DeclineRequest → PayResult
    GET  /upi/v1/payers                       → list[TestPayer]
    GET  /upi/v1/ledger/check                 → UpiLedgerCheck

Amounts are integers in paise (INR only). A refused request answers 4xx with
{"error": "<one line>"}; an unknown id 404. Callbacks are signed: `signature` is the hex
HMAC-SHA256, with the merchant's `callback_secret` (given at boarding), over
`callback_payload(cb)` (canonical JSON of every other field, keys sorted).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from typing import Final, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

UpiFlow = Literal["qr", "intent", "collect"]
UpiState = Literal["PENDING", "DEEMED", "SUCCESS", "FAILURE", "EXPIRED", "CANCELED", "REVERSED"]
"""PENDING: no final answer yet (waiting for the payer, or a bank did not answer: BT/UT);
DEEMED: the payer was debited, the credit is not confirmed (RB); SUCCESS: credited to
the payee; FAILURE: declined (code says why); EXPIRED: nobody paid in time (U69);
CANCELED: the payee withdrew it before any debit; REVERSED: a debit given back to the
payer (never confirmed, or the payee gave up after it)."""

FINAL_STATES: Final[frozenset[str]] = frozenset(
    {"SUCCESS", "FAILURE", "EXPIRED", "CANCELED", "REVERSED"}
)

TEST_PIN: Final = "1234"
TEST_BALANCE: Final = 50_000_00  # paise, each test payer's opening balance
MAX_UPI_AMOUNT: Final = 1_00_000_00  # paise: ₹1,00,000.00 per payment (P2M)


class UpiReason(NamedTuple):
    """What an NPCI response code means to a cashier, and the Stripe-style code."""

    text: str
    decline_code: str | None


UPI_CODES: Final[dict[str, UpiReason]] = {
    "00": UpiReason("Paid", None),
    "U30": UpiReason("The payer's bank could not debit the account", "debit_failed"),
    "Z9": UpiReason("Insufficient funds in the payer's account", "insufficient_funds"),
    "ZM": UpiReason("Wrong UPI PIN", "incorrect_pin"),
    "Z8": UpiReason("Over the payer's per-payment limit", "card_velocity_exceeded"),
    "ZA": UpiReason("Declined by the payer", "payer_declined"),
    "XH": UpiReason("The payer's account does not exist", "invalid_account"),
    "U69": UpiReason("The collect request expired", "expired"),
    "BT": UpiReason("The payer's bank is unavailable: waiting for it", None),
    "UT": UpiReason("The payer's bank did not answer: waiting for it", None),
    "RB": UpiReason("Debited, credit not confirmed yet (deemed)", None),
    "ZD": UpiReason("The payer's UPI PIN is locked for today", "pin_try_exceeded"),
}
"""The NPCI codes paygate's switch answers. BT, UT and RB are not final: the payment
stays pending and is resolved by a callback or a status check."""


def upi_reason(code: str | None) -> UpiReason:
    """The meaning of a UPI response code (an unknown one is a generic decline)."""
    if code is None:
        return UpiReason("Waiting for the payer", None)
    return UPI_CODES.get(
        code, UpiReason(f"Declined by the UPI network ({code})", "generic_decline")
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UpiMerchant(_Model):
    """A merchant as its PSP knows it: boarded once, answered as stored."""

    merchant_id: str
    vpa: str  # the payee VPA links carry (`pa`)
    name: str  # `pn`
    mcc: str = "5411"
    callback_secret: str | None = None  # hex; never echoed back (None in answers)


class UpiTransactionRequest(_Model):
    """A payment asked of the payee PSP: a dynamic QR / intent link to be paid, or a
    collect request pushed to `payer_vpa`. `reference` is the link's `tr` (the payment
    id); the same `reference` again answers the transaction already made."""

    merchant_id: str
    reference: str
    amount: int
    currency: Literal["INR"] = "INR"
    note: str = ""
    flow: UpiFlow
    payer_vpa: str | None = None  # collect only
    expires_at: datetime


class UpiTransaction(_Model):
    """Where a transaction stands at the switch."""

    txn_id: str  # the switch's id (35 characters at most)
    reference: str
    merchant_id: str
    payee_vpa: str
    payer_vpa: str | None = None
    amount: int
    currency: Literal["INR"] = "INR"
    flow: UpiFlow
    note: str = ""
    status: UpiState
    response_code: str | None = None
    rrn: str | None = None  # 12 digits, once a payer's bank took it
    expires_at: datetime
    created_at: datetime
    updated_at: datetime


class UpiRefundRequest(_Model):
    """A refund: a new UPI credit to the payer, carrying the original's txn id."""

    refund_id: str
    txn_id: str  # the original payment's
    amount: int
    note: str = ""


class UpiRefund(_Model):
    """A refund's own transaction at the switch (PENDING while the payer's bank is down)."""

    refund_id: str
    txn_id: str  # the refund's own
    original_txn_id: str
    amount: int
    status: UpiState
    response_code: str | None = None
    rrn: str | None = None
    created_at: datetime
    updated_at: datetime


class UpiCallback(_Model):
    """A transaction's outcome pushed to the payee (signed with its callback secret)."""

    id: str
    merchant_id: str
    txn_id: str
    reference: str
    status: UpiState
    response_code: str | None = None
    rrn: str | None = None
    payer_vpa: str | None = None
    amount: int
    sent_at: datetime
    signature: str = ""


class CallbackAck(_Model):
    """The callbacks the payee has stored; they are not sent again."""

    merchant_id: str
    ids: list[str]


class UpiSettlementLine(_Model):
    """One line of the switch's settlement file for a day."""

    day: date
    kind: Literal["credit", "refund", "reversal"]
    txn_id: str
    original_txn_id: str | None = None  # refunds and reversals
    reference: str  # the payment's (the link's `tr`)
    rrn: str | None = None
    merchant_id: str
    payer_vpa: str
    payee_vpa: str
    amount: int  # paise, always positive; `kind` says which way
    response_code: str


class PayRequest(_Model):
    """The payer app approves a link (scanned or opened) or a collect request with a PIN."""

    link: str | None = None  # upi://pay?...
    request_id: str | None = None  # a collect request's txn_id
    vpa: str
    pin: str


class DeclineRequest(_Model):
    """The payer declines a collect request."""

    request_id: str
    vpa: str


class PayResult(_Model):
    """What the payer app shows after the PIN."""

    txn_id: str
    reference: str
    status: UpiState
    response_code: str | None = None
    message: str
    rrn: str | None = None
    payee_vpa: str
    payee_name: str
    amount: int


class CollectView(_Model):
    """A collect request waiting in a payer's app."""

    request_id: str
    payee_vpa: str
    payee_name: str
    amount: int
    note: str = ""
    expires_at: datetime


class TestPayer(_Model):
    """A test VPA and what paying with it does."""

    vpa: str
    bank: str
    balance: int
    behaviour: str  # e.g. "00: pays", "Z9: balance ₹10.00"


class UpiLedgerCheck(_Model):
    """payer debits = payee credits + reversals (+ refunds the other way), per day."""

    ok: bool
    debits: int
    credits: int
    reversals: int
    refunds: int
    problem: str | None = None


TEST_VPAS: Final[dict[str, str]] = {
    "success@payer": "00: pays",
    "insufficient@payer": "Z9: balance ₹10.00",
    "limit@payer": "Z8: above ₹2,000.00 a payment",
    "decline@payer": "ZA: the payer declines",
    "noaccount@payer": "XH: no such account",
    "debitfail@payer": "U30: the debit fails",
    "slow@payer": "pending 30 s, then 00",
    "bankdown@payer": "BT: bank down 2 min (pending), then 00",
    "deemed@payer": "RB: debited, credit confirmed at the first status check",
    "timeout@payer": "UT: debited, never confirmed: failed and reversed",
}
"""The test payers every simulated remitter bank holds (UPI PIN 1234, ₹50,000.00); a
wrong PIN gives ZM and three lock the payer for the day (ZD); a collect request nobody
answers expires (U69)."""


def callback_payload(callback: UpiCallback) -> bytes:
    """The bytes a callback's signature covers: every field but `signature`, as JSON
    with sorted keys and no spaces."""
    fields = callback.model_dump(mode="json", exclude={"signature"})
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign_callback(callback: UpiCallback, secret: str) -> UpiCallback:
    """The callback with its signature (hex HMAC-SHA256 of `callback_payload`)."""
    digest = hmac.new(bytes.fromhex(secret), callback_payload(callback), hashlib.sha256)
    return callback.model_copy(update={"signature": digest.hexdigest()})


def callback_is_signed(callback: UpiCallback, secret: str) -> bool:
    """Whether `callback` carries the signature of `secret` (constant-time compare)."""
    expected = sign_callback(callback, secret).signature
    return hmac.compare_digest(expected, callback.signature)
