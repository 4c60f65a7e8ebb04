"""How the Razorpay fake's card networks and UPI answer: Razorpay's documented test
cards and VPAs, and paygate's own test cards (bank_sim/testcards.py, incl. the 499999
load range) behaving as the simulated issuer would, in Razorpay's error reasons.

Only the card's network, BIN-6 and last 4 leave this module; the PAN and CVV do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from bank_sim.testcards import EXPIRY, LOAD_TEST_CARD, TestCard, card_for
from gateway_core.cards import detect_brand, is_load_test_pan, luhn_valid

# Razorpay's documented test cards (any future expiry, any CVV): approved.
RAZORPAY_TEST_CARDS: dict[str, bool] = {  # PAN -> international
    "5267318187975449": False,  # Mastercard, domestic
    "4386289407660153": False,  # Visa, domestic
    "4012888888881881": True,  # Visa, international
    "5104060000000008": True,  # Mastercard, international
}
SUCCESS_VPA = "success@razorpay"  # Razorpay's test VPAs
FAILURE_VPA = "failure@razorpay"
STEP_UP_THRESHOLD = 10_000_00  # as bank_sim.config.BankConfig: above it, an OTP

NETWORKS = {  # paygate brand -> Razorpay's card.network
    "visa": "Visa",
    "mastercard": "MasterCard",
    "amex": "American Express",
    "rupay": "RuPay",
    "diners": "Diners Club",
    "jcb": "JCB",
    "maestro": "Maestro",
    "discover": "Discover",
    "unionpay": "Union Pay",
}


@dataclass(frozen=True)
class Decline:
    """A Razorpay payment failure: its reason, where and at which step it happened."""

    reason: str
    description: str
    source: str = "bank"
    step: str = "payment_authorization"


@dataclass(frozen=True)
class CardCheck:
    """What the network says of a card before any OTP: the card as kept, the decline
    if any, and whether the issuer first asks for an OTP."""

    network: str
    bin6: str
    last4: str
    international: bool
    decline: Decline | None
    otp: bool
    account: str  # the issuer-side account the usage is counted on (BIN-6 and last 4)


class BadCard(ValueError):
    """A card number no network takes (Razorpay answers 400, no payment is made)."""


def check_card(
    pan: str, expiry: tuple[int, int], cvv: str | None, amount: int, usage: tuple[int, int]
) -> CardCheck:
    """The network's answer for `pan` keyed with `expiry` (month, 4-digit year) and
    `cvv`; `usage` is what the account already spent and how many payments it made
    today."""
    digits = pan.replace(" ", "")
    if not luhn_valid(digits):
        raise BadCard("The card number is invalid")
    brand = detect_brand(digits)
    network = NETWORKS.get(brand.value, "Unknown") if brand else "Unknown"
    test = LOAD_TEST_CARD if is_load_test_pan(digits) else card_for(digits)
    bin6, last4 = digits[:6], digits[-4:]
    if test is None:
        international = RAZORPAY_TEST_CARDS.get(digits)
        decline = (
            None
            if international is not None
            else Decline("card_declined", "The card issuer is invalid: not a test card")
        )
        return CardCheck(
            network, bin6, last4, bool(international), decline, False, f"{bin6}{last4}"
        )
    decline = _issuer_decline(test, expiry, cvv, amount, usage)
    otp = test.step_up == "always" or (
        test.step_up == "above_threshold" and amount > STEP_UP_THRESHOLD
    )
    return CardCheck(network, bin6, last4, test.country != "IN", decline, otp, f"{bin6}{last4}")


def _issuer_decline(
    card: TestCard, expiry: tuple[int, int], cvv: str | None, amount: int, usage: tuple[int, int]
) -> Decline | None:
    """The simulated issuer's decline for one of paygate's test cards, if any."""
    spent, count = usage
    keyed = f"{expiry[0]:02d}/{expiry[1] % 100:02d}"
    if card.status == "blocked":
        return Decline("card_declined", "Payment declined by the issuing bank")
    if card.status in ("lost", "stolen"):
        return Decline("debit_instrument_blocked", f"The card is blocked (reported {card.status})")
    if card.fault == "system_error":
        return Decline("issuer_technical_error", "The issuing bank had a technical error")
    if card.fault in ("timeout", "http_500"):
        return Decline("bank_technical_error", "The issuing bank did not answer in time")
    if card.issuer_expiry != EXPIRY:
        return Decline("card_expired", "The card has expired", "customer", "payment_initiation")
    if keyed != card.issuer_expiry:
        return Decline(
            "incorrect_card_expiry_date",
            "The expiry date is incorrect",
            "customer",
            "payment_initiation",
        )
    if cvv is not None and cvv != (card.issuer_cvv or card.cvv):
        return Decline(
            "incorrect_cvv", "The CVV is incorrect", "customer", "payment_authentication"
        )
    if amount > card.txn_limit:
        return Decline("transaction_limit_exceeded", "The amount is over the card's limit")
    if count >= card.daily_count:
        return Decline("transaction_daily_count_exceeded", "The card's daily count is used up")
    if spent + amount > card.balance:
        return Decline("insufficient_funds", "The account does not have enough funds")
    return None


def check_vpa(vpa: str) -> Decline | None:
    """A UPI collect to `vpa`: Razorpay's failure VPA fails, a malformed one is invalid."""
    if vpa == FAILURE_VPA:
        return Decline("payment_failed", "The payer's bank declined the collect request")
    name, _, handle = vpa.partition("@")
    if not name or not handle:
        return Decline("invalid_vpa", "The UPI ID is invalid", "customer", "payment_initiation")
    return None
