"""What the Stripe fake's issuer answers for a card: Stripe's test payment methods and
test card numbers, and paygate's own test cards (bank_sim/testcards.py, with the 499999
load range) deciding as the simulated issuer would, so a cashier's test card does the
same whichever processor routes it. Only brand, last 4 and expiry are ever kept."""

from __future__ import annotations

from dataclasses import dataclass

from bank_sim.testcards import EXPIRY, ISSUERS, LOAD_TEST_CARD, TestCard, card_for
from gateway_core.cards import detect_brand, is_load_test_pan
from gateway_core.payments import RESPONSE_CODES

# Stripe's own test numbers that paygate's list lacks: number -> (brand, decline code or
# None to approve, or "authentication_required" for 3-D Secure).
# Where a number is in both lists, Stripe's documented answer wins (its declining cards
# decline whatever the amount).
STRIPE_CARDS: dict[str, tuple[str, str | None]] = {
    "4000000000000002": ("visa", "generic_decline"),
    "4000000000009995": ("visa", "insufficient_funds"),
    "4000000000009987": ("visa", "lost_card"),
    "4000000000009979": ("visa", "stolen_card"),
    "4000000000000069": ("visa", "expired_card"),
    "4000000000000127": ("visa", "incorrect_cvc"),
    "4000056655665556": ("visa", None),  # Visa debit
    "5200828282828210": ("mastercard", None),  # Mastercard debit
    "4000000000000119": ("visa", "processing_error"),
    "4000000000006975": ("visa", "card_velocity_exceeded"),
    "4100000000000019": ("visa", "fraudulent"),
    "4000002500003155": ("visa", "authentication_required"),
}

# Stripe's test PaymentMethods, each a test card.
TEST_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_jcb": "3530111333300000",
    "pm_card_diners": "30569309025904",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeDeclinedVelocityLimitExceeded": "4000000000006975",
    "pm_card_chargeDeclinedFraudulent": "4100000000000019",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_threeDSecureRequired": "4000000000003220",
}

# Stripe's error `code` and message for a decline code (others: card_declined).
_ERRORS: dict[str, tuple[str, str]] = {
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "expired_card": ("expired_card", "Your card has expired."),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect."),
    "processing_error": (
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "incorrect_number": ("incorrect_number", "Your card number is incorrect."),
}
DECLINED = "Your card was declined."


@dataclass(frozen=True)
class Card:
    """A card as the fake keeps it."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: str = "credit"
    country: str = "US"

    def as_stripe(self) -> dict[str, object]:
        return {
            "brand": self.brand,
            "last4": self.last4,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "funding": self.funding,
            "country": self.country,
        }


@dataclass(frozen=True)
class Outcome:
    """The issuer's answer: approve (`decline_code` None), 3-D Secure, or a decline."""

    decline_code: str | None = None

    @property
    def approved(self) -> bool:
        return self.decline_code is None

    @property
    def needs_action(self) -> bool:
        return self.decline_code == "authentication_required"

    @property
    def error_code(self) -> str:
        """Stripe's error `code` for this decline."""
        return _ERRORS.get(self.decline_code or "", ("card_declined", ""))[0]

    @property
    def message(self) -> str:
        return _ERRORS.get(self.decline_code or "", ("", DECLINED))[1]


def method_number(payment_method: str) -> str | None:
    """The test card behind a test PaymentMethod id, if it is one."""
    return TEST_METHODS.get(payment_method)


def describe(number: str, exp_month: int, exp_year: int) -> Card:
    """The card the fake keeps for `number` (its brand, last 4 and expiry)."""
    test = _test_card(number)
    issuer = next((i for i in ISSUERS if number[:6] in i.bins), None)
    stripe = STRIPE_CARDS.get(number)
    brand = detect_brand(number)
    name = (
        issuer.network if issuer else stripe[0] if stripe else brand.value if brand else "unknown"
    )
    funding = test.funding if test else "debit" if "debit" in name else "credit"
    country = test.country if test else "US"
    return Card(name, number[-4:], exp_month, exp_year, funding, country)


@dataclass(frozen=True)
class Account:
    """What the issuer holds for a card, without its number: a decline whatever the
    amount, or the limits an amount is checked against."""

    decline: str | None = None
    txn_limit: int | None = None
    balance: int | None = None
    step_up: bool = False

    def decide(self, amount: int, authenticated: bool = False) -> Outcome:
        """The answer for `amount` (`authenticated`: 3-D Secure passed), in the simulated
        issuer's order: limit (61), step-up, funds (51)."""
        if self.decline is not None:
            return Outcome(self.decline)
        if self.txn_limit is not None and amount > self.txn_limit:
            return Outcome(_decline_code("61"))
        if self.step_up and not authenticated:
            return Outcome("authentication_required")
        if self.balance is not None and amount > self.balance:
            return Outcome(_decline_code("51"))
        return Outcome()


def account_for(number: str, cvc: str | None) -> Account:
    """The issuer's account behind a (Luhn-valid) card number keyed with `cvc`."""
    if number in STRIPE_CARDS:
        code = STRIPE_CARDS[number][1]
        if code == "authentication_required":
            return Account(step_up=True)
        return Account(code)
    card = _test_card(number)
    if card is None:
        return Account(_decline_code("14"))
    static = _static_code(card, cvc)
    if static is not None:
        return Account(_decline_code(static))
    return Account(None, card.txn_limit, card.balance, card.step_up == "always")


def _test_card(number: str) -> TestCard | None:
    return card_for(number) or (LOAD_TEST_CARD if is_load_test_pan(number) else None)


def _static_code(card: TestCard, cvc: str | None) -> str | None:
    """The simulated issuer's DE39 that does not depend on the amount (bank_sim/issuer.py's
    order), as Stripe test cards work: any future expiry and any CVC, except the cards
    that exist to fail them (an issuer expiry or CVC on file that differs)."""
    if card.fault == "system_error":
        return "96"
    if card.fault in ("timeout", "http_500"):
        return "91"
    status = {"blocked": "05", "lost": "41", "stolen": "43"}.get(card.status)
    if status:
        return status
    if card.issuer_expiry != EXPIRY:
        return "54"
    if card.issuer_cvv is not None and cvc != card.issuer_cvv:
        return "N7"
    if card.daily_count == 0:
        return "65"
    return None


def _decline_code(response_code: str) -> str | None:
    """Stripe's decline code for a DE39 ("05" is Stripe's generic_decline)."""
    if response_code == "00":
        return None
    if response_code == "05":
        return "generic_decline"
    return RESPONSE_CODES[response_code].decline_code
