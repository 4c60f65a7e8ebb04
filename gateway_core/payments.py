"""The payment record, what a caller asks for, and the meaning of each response code.

A payment has a `method` (card, UPI, net banking, cash, or a payment link the customer
pays by one of them) and that method's typed detail (`card`: a `CardDetail`, `upi`,
`netbanking`, `cash`, `link`); a stored record without a method is a card's. A payment
that is one part of a split bill carries its `bill_id`.
Its states and the moves between them are in `states`. Refunds are their own records;
a payment carries `amount_refunded`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, NamedTuple, Self

from pydantic import BaseModel, PrivateAttr, model_validator

from gateway_core.acquirer_api import Challenge
from gateway_core.cards import CardInput
from gateway_core.errors import InputError
from gateway_core.money import Money
from gateway_core.presentation import status_word
from gateway_core.risk_models import Assessment
from gateway_core.states import OPEN_STATUSES, Status, check_transition
from gateway_core.upi_api import UpiFlow

__all__ = ["OPEN_STATUSES", "Status"]

Method = Literal["card", "upi", "netbanking", "cash", "link"]
"""`link`: a payment link (the hosted checkout page): the customer picks a method there,
and each try is its own payment of that method (its `link_id` names the link)."""


class UnknownPayment(InputError):
    """No payment with that id."""


class NotAllowed(InputError):
    """The payment is not in a state that allows this."""


class DayClosed(NotAllowed):
    """The business day was closed (Z report): its payments can no longer change."""


class IdempotencyConflict(InputError):
    """An idempotency key reused with other parameters."""


class WrongOtp(InputError):
    """The OTP did not match; the payment still waits for the right one."""


class UpiInput(BaseModel):
    """A UPI payment's part of a request: the flow, and the payer's VPA for a collect."""

    flow: UpiFlow = "qr"
    vpa: str | None = None  # collect: whom to ask (checked by the UPI tender)
    note: str = ""  # the link's `tn` (at most 50 characters)


class NetbankingInput(BaseModel):
    """A net banking payment's part of a request: the customer's bank (a code, DEMOA)."""

    bank: str


class CashInput(BaseModel):
    """A cash payment's part of a request: what the customer handed over (minor units;
    at least the amount due after the currency's rounding)."""

    tendered: int


class ChargeRequest(BaseModel):
    """What a cashier (or a program) asks the gateway to do."""

    amount: int  # the total to authorize, tip included
    currency: str
    card: CardInput | None = None  # a card payment's card (only in memory)
    method: Method = "card"
    upi: UpiInput | None = None  # a UPI payment's flow (None: a dynamic QR)
    netbanking: NetbankingInput | None = None  # a net banking payment's bank
    cash: CashInput | None = None  # a cash payment's tendered amount
    bill_id: str | None = None  # one part of this split bill (`Bills.pay` sets it)
    link_id: str | None = None  # a try at paying this payment link (the checkout page)
    return_url: str | None = None  # where the checkout sends the customer when done
    tip: int = 0  # the part of `amount` that is a tip (reports show it apart)
    capture: Literal["automatic", "manual"] = "automatic"
    terminal_id: str | None = None
    merchant_id: str | None = None  # None: the settings' merchant (the service passes its key's)
    idempotency_key: str | None = None
    operator: str = "cli"

    @model_validator(mode="after")
    def _card_for_a_card(self) -> Self:
        if self.method == "card" and self.card is None:
            raise ValueError("a card payment needs a card")
        if self.method == "netbanking" and self.netbanking is None:
            raise ValueError("a net banking payment needs a bank")
        if self.method == "cash" and self.cash is None:
            raise ValueError("a cash payment needs the amount tendered")
        return self


class Reason(NamedTuple):
    """What a response code means to a cashier and to a program."""

    text: str
    decline_code: str | None


# ISO 8583 DE39 → cashier text and Stripe-style decline code.
RESPONSE_CODES: dict[str, Reason] = {
    "00": Reason("Approved", None),
    "03": Reason("Terminal not set up at the acquirer", "processing_error"),
    "05": Reason("Declined by the bank (do not honor)", "do_not_honor"),
    "12": Reason("Not allowed for this payment now", "invalid_request"),
    "13": Reason("Invalid amount", "invalid_amount"),
    "14": Reason("Invalid card number", "invalid_number"),
    "15": Reason("No bank issues this card", "card_not_supported"),
    "1A": Reason("The bank asks for an OTP", "authentication_required"),
    "25": Reason("The bank has no record of this payment", None),
    "41": Reason("Lost card: keep the card, call the bank", "lost_card"),
    "43": Reason("Stolen card: keep the card, call the bank", "stolen_card"),
    "51": Reason("Insufficient funds", "insufficient_funds"),
    "54": Reason("Expiry date does not match the card", "expired_card"),
    "55": Reason("Incorrect PIN", "incorrect_pin"),
    "57": Reason("Not permitted for this card", "transaction_not_allowed"),
    "61": Reason("Over the card's amount limit", "card_velocity_exceeded"),
    "65": Reason("Over the card's daily count limit", "withdrawal_count_limit_exceeded"),
    "75": Reason("Too many PIN tries", "pin_try_exceeded"),
    "91": Reason("Bank unavailable: try again", "issuer_not_available"),
    "94": Reason("Duplicate transmission", "duplicate_transaction"),
    "96": Reason("Bank system error: try again", "processing_error"),
    "N7": Reason("Security code (CVV) does not match", "incorrect_cvc"),
}


def reason_for(code: str | None) -> Reason:
    """The meaning of a DE39 code (an unknown code is a generic decline)."""
    if code is None:
        return Reason("Waiting for the bank", None)
    return RESPONSE_CODES.get(code, Reason(f"Declined by the bank ({code})", "generic_decline"))


# Stripe-style decline code → DE39, for processors that answer in decline codes; an
# unknown one is "05" (do not honor). A processor's processing_error is a system error
# (96), not a terminal the acquirer does not know (03).
_CODE_FOR_DECLINE = {
    reason.decline_code: code
    for code, reason in reversed(RESPONSE_CODES.items())
    if reason.decline_code is not None
} | {"processing_error": "96"}


def response_code_for(decline_code: str | None) -> str:
    """The DE39 code that means `decline_code` ("insufficient_funds" → "51")."""
    return _CODE_FOR_DECLINE.get(decline_code or "", "05")


class CardDetail(BaseModel):
    """A card payment's card as it may be kept and shown: never more than BIN-6 and
    last-4 (the network, issuer, funding and country the bank answered stay on the
    payment, where stored records have them)."""

    brand: str
    bin6: str
    last4: str
    masked: str
    token: str
    fingerprint: str
    expiry: str


CardSummary = CardDetail  # its earlier name


class UpiDetail(BaseModel):
    """A UPI payment's detail: its flow and link, the switch's transaction, the payer
    once known, its deadline and the status checks made and due."""

    flow: UpiFlow
    link: str | None = None  # upi://pay?... (QR and intent)
    payee_vpa: str
    payer_vpa: str | None = None  # a collect's from the start; else once paid
    txn_id: str | None = None  # the switch's, once the PSP took the payment
    expires_at: datetime
    checks: int = 0  # status checks made
    next_check_at: datetime | None = None  # None: no check due (final, or none left)
    late_refund: str | None = None  # a credit after expiry, refunded: its refund's id


class NetbankingDetail(BaseModel):
    """A net banking payment's detail: the bank, the bank's transaction and login page,
    the debit's reference once confirmed, its deadline and the status checks."""

    bank: str  # the bank's code (DEMOA)
    bank_name: str
    bank_txn: str | None = None  # the bank's id of the attempt, once created
    login_url: str | None = None  # where the customer signs in (absolute)
    bank_ref: str | None = None  # the debit's reference, once confirmed (refunds cite it)
    account: str | None = None  # the customer's account, masked (XXXX1234)
    expires_at: datetime
    checks: int = 0  # status checks made
    next_check_at: datetime | None = None  # None: no check due
    late_refund: str | None = None  # a debit found after expiry, refunded: its refund's id


class CashDetail(BaseModel):
    """A cash payment's detail: what was handed over, the change given, the rounding of
    the amount due (signed: +40 when ₹99.60 is rounded to ₹100.00) and the shift whose
    drawer took it. The drawer got `amount + rounding`; change = tendered − that."""

    tendered: int
    change: int
    rounding: int = 0
    shift_id: str


class LinkDetail(BaseModel):
    """A payment link's detail: the checkout page, its deadline, the methods offered,
    the payments tried through it, and the one that paid it."""

    url: str  # the hosted checkout page (absolute)
    expires_at: datetime
    methods: list[str]  # offered on the page: netbanking, upi, card
    attempts: list[str] = []  # the payments tried through it, oldest first
    paid_by: str | None = None  # the attempt that succeeded
    return_url: str | None = None  # the merchant's page the customer goes back to


NextActionType = Literal["otp", "upi_qr", "upi_intent", "upi_collect", "redirect"]

_UPI_ACTIONS: dict[UpiFlow, NextActionType] = {
    "qr": "upi_qr",
    "intent": "upi_intent",
    "collect": "upi_collect",
}


class NextAction(BaseModel):
    """What the customer must do for a payment to go on (Stripe's `next_action`)."""

    type: NextActionType
    link: str | None = None  # UPI QR / intent
    url: str | None = None  # redirect: the bank's login page, or the checkout page
    expires_at: datetime | None = None


class RefundRecord(BaseModel):
    """One refund of a payment, filed under the business day it happened on."""

    id: str
    payment_id: str
    amount: int
    currency: str
    brand: str
    created_at: datetime
    rrn: str | None = None
    operator: str
    approver: str | None = None


class Payment(BaseModel):
    """A payment as the gateway keeps it (amounts in minor units). Saving it checks
    its move from the state it was read or last saved in (`states.check_transition`)."""

    id: str
    status: Status
    method: Method = "card"
    amount: int  # authorized, tip included
    currency: str
    tip: int = 0  # the part of `amount` that is a tip
    amount_captured: int = 0
    amount_refunded: int = 0
    capture_method: Literal["automatic", "manual"] = "automatic"
    response_code: str | None = None
    decline_code: str | None = None
    message: str = ""
    auth_code: str | None = None
    rrn: str | None = None
    stan: str | None = None
    network: str | None = None
    issuer: str | None = None
    funding: str | None = None
    country: str | None = None
    card: CardDetail | None = None  # the method's detail: a card payment's card
    upi: UpiDetail | None = None  # ... a UPI payment's
    netbanking: NetbankingDetail | None = None  # ... a net banking payment's
    cash: CashDetail | None = None  # ... a cash payment's
    link: LinkDetail | None = None  # ... a payment link's
    bill_id: str | None = None  # a part of this split bill
    link_id: str | None = None  # a try at paying this payment link
    merchant_id: str
    terminal_id: str
    operator: str
    challenge: Challenge | None = None
    refunds: list[RefundRecord] = []
    reversal: str | None = None  # why and whether a reversal was sent
    voided_by: str | None = None
    approved_by: str | None = None  # the manager who approved the void
    idempotency_key: str | None = None
    risk: Assessment | None = None  # score, factors and verdict of the risk rules
    processor: str | None = None  # the real processor that moved it (None: built-in acquirer)
    processor_reference: str | None = None  # that processor's id for it (pi_..., pay_...)
    trace_id: str | None = None  # the trace it was taken in (OpenTelemetry's, the request's)
    created_at: datetime
    updated_at: datetime
    _stored_as: Status | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _detail_of_its_method(self) -> Self:
        if self.method == "card" and self.card is None:
            raise ValueError("a card payment needs its card")
        if self.method == "upi" and self.upi is None:
            raise ValueError("a UPI payment needs its UPI detail")
        if self.method == "netbanking" and self.netbanking is None:
            raise ValueError("a net banking payment needs its net banking detail")
        if self.method == "cash" and self.cash is None:
            raise ValueError("a cash payment needs its cash detail")
        if self.method == "link" and self.link is None:
            raise ValueError("a payment link needs its link detail")
        return self

    @classmethod
    def stored(cls, record: dict[str, object]) -> Payment:
        """A payment as read from the store (its next save is checked from its status)."""
        payment = cls.model_validate(record)
        payment._stored_as = payment.status
        return payment

    def saving(self) -> Payment:
        """This payment, checked as the next stored version of itself: raises
        `IllegalTransition` when its state may not follow the one stored."""
        check_transition(self.id, self._stored_as, self.status)
        saved = self.model_copy()
        saved._stored_as = self.status
        return saved

    @property
    def brand(self) -> str:
        """What reports group it under: the card brand, a net banking payment's bank
        code, else the method."""
        if self.card is not None:
            return self.card.brand
        return self.netbanking.bank if self.netbanking is not None else self.method

    @property
    def next_action(self) -> NextAction | None:
        """What the customer must do now: an OTP, pay a UPI link / collect request, or go
        to a page (the bank's login for net banking, the checkout for a payment link)."""
        if self.status == "requires_action" and self.challenge is not None:
            return NextAction(type="otp", expires_at=self.challenge.expires_at)
        if self.status != "pending":
            return None
        if self.upi is not None:
            kind = _UPI_ACTIONS[self.upi.flow]
            return NextAction(type=kind, link=self.upi.link, expires_at=self.upi.expires_at)
        if (nb := self.netbanking) is not None and nb.login_url:
            return NextAction(type="redirect", url=nb.login_url, expires_at=nb.expires_at)
        if (link := self.link) is not None:
            return NextAction(type="redirect", url=link.url, expires_at=link.expires_at)
        return None

    @property
    def money(self) -> Money:
        """The authorized amount as Money."""
        return Money(self.amount, self.currency)

    @property
    def refundable(self) -> int:
        """What can still be refunded."""
        return self.amount_captured - self.amount_refunded

    @property
    def status_word(self) -> str:
        """The word every surface shows for this payment's state (`status_word`)."""
        return status_word(
            self.status,
            voided=bool(self.voided_by),
            captured=self.amount_captured,
            refunded=self.amount_refunded,
        )


def payment_day(payment_id: str) -> date | None:
    """The business day a payment was taken on: its id says (pay_YYYYMMDD_xxxxxxxxxx)."""
    parts = payment_id.split("_")
    if len(parts) != 3 or parts[0] != "pay" or len(parts[1]) != 8 or not parts[1].isdigit():
        return None
    try:
        return date(int(parts[1][:4]), int(parts[1][4:6]), int(parts[1][6:]))
    except ValueError:
        return None


def day_of(payment_id: str) -> date:
    """The business day in the id of a payment (`UnknownPayment` for an id the gateway
    never makes)."""
    day = payment_day(payment_id)
    if day is None:
        raise UnknownPayment(f"no payment {payment_id}")
    return day
