"""How the PayPal fake answers a card: PayPal's sandbox test cards and rejection
triggers (the name on the card), and paygate's own test cards (bank_sim/testcards.py,
with the 499999 load range) as the simulated issuer would answer them, in PayPal's
processor response codes. Only the card's brand, last digits and expiry are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bank_sim.testcards import LOAD_TEST_CARD, TestCard, card_for
from gateway_core.cards import detect_brand, is_load_test_pan, luhn_valid

# developer.paypal.com/tools/sandbox/card-testing: approved with any future expiry and CVV.
PAYPAL_TEST_CARDS = frozenset(
    {
        "371449635398431",
        "376680816376961",
        "36259600000004",
        "6304000000000000",
        "5063516945005047",
        "2223000048400011",
        "4005519200000004",
        "4012000033330026",
        "4012000077777777",
        "4012888888881881",
        "4217651111111119",
        "4500600000000061",
        "4772129056533503",
        "4915805038587737",
    }
)

# The name on the card that makes PayPal's sandbox decline, and the code it answers.
REJECTION_TRIGGERS = {
    "CCREJECT-REFUSED": "0500",
    "CCREJECT-SF": "9500",
    "CCREJECT-EC": "5400",
    "CCREJECT-IF": "5120",
    "CCREJECT-LS": "9520",
    "CCREJECT-IA": "1330",
    "CCREJECT-BANK_ERROR": "5100",
    "CCREJECT-CVV_F": "00N7",
}

# The simulated issuer's DE39 as PayPal's processor response code (PayPal has no code for
# "over the card's amount limit": it answers a generic decline).
_PAYPAL_CODE = {
    "00": "0000",
    "05": "0500",
    "14": "1330",
    "41": "9520",
    "43": "5150",
    "51": "5120",
    "54": "5400",
    "57": "5700",
    "61": "5100",
    "65": "5710",
    "91": "5920",
    "96": "0960",
    "N7": "00N7",
}

_BRANDS = {
    "visa": "VISA",
    "mastercard": "MASTERCARD",
    "amex": "AMEX",
    "rupay": "RUPAY",
    "discover": "DISCOVER",
    "jcb": "JCB",
    "diners": "DINERS",
    "maestro": "MAESTRO",
}


class CardRefused(ValueError):
    """The card fields are malformed (PayPal's 400/422 before any issuer is asked)."""

    def __init__(self, field: str, issue: str, description: str) -> None:
        super().__init__(description)
        self.field, self.issue, self.description = field, issue, description


@dataclass(frozen=True)
class Decision:
    """What the issuer answers: PayPal's processor response code, and whether 3-D
    Secure comes first (the code is then the answer after the payer authenticates)."""

    code: str
    three_ds: bool = False
    cvv_match: bool = True


@dataclass(frozen=True)
class CardSummary:
    """The card as the fake keeps and shows it (PayPal's `payment_source.card`)."""

    last_digits: str
    brand: str
    expiry: str  # YYYY-MM
    name: str
    type: str  # CREDIT / DEBIT / UNKNOWN

    def shown(self) -> dict[str, str]:
        return {
            "name": self.name,
            "last_digits": self.last_digits,
            "expiry": self.expiry,
            "brand": self.brand,
            "type": self.type,
        }


def read_card(card: dict[str, object], today: date) -> tuple[str, str, str | None, CardSummary]:
    """(number, expiry, security code, summary) of `payment_source.card`, or CardRefused."""
    number = str(card.get("number") or "").replace(" ", "")
    expiry = str(card.get("expiry") or "")
    cvv = card.get("security_code")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise CardRefused("number", "INVALID_PARAMETER_SYNTAX", "The card number is not valid.")
    if number not in PAYPAL_TEST_CARDS and not luhn_valid(number):
        raise CardRefused("number", "INVALID_PARAMETER_VALUE", "The card number is not valid.")
    if len(expiry) != 7 or expiry[4] != "-" or not (expiry[:4] + expiry[5:]).isdigit():
        raise CardRefused("expiry", "INVALID_PARAMETER_SYNTAX", "Expiry must be YYYY-MM.")
    if not 1 <= int(expiry[5:]) <= 12:
        raise CardRefused("expiry", "INVALID_PARAMETER_VALUE", "Expiry month is not valid.")
    if (int(expiry[:4]), int(expiry[5:])) < (today.year, today.month):
        raise CardRefused("expiry", "CARD_EXPIRED", "The card is expired.")
    if cvv is not None and not (str(cvv).isdigit() and 3 <= len(str(cvv)) <= 4):
        raise CardRefused("security_code", "INVALID_PARAMETER_SYNTAX", "CVV is not valid.")
    test = _test_card(number)
    summary = CardSummary(
        last_digits=number[-4:],
        brand=_BRANDS.get(detect_brand(number) or "", "UNKNOWN"),
        expiry=expiry,
        name=str(card.get("name") or ""),
        type=test.funding.upper() if test else "UNKNOWN",
    )
    return number, expiry, None if cvv is None else str(cvv), summary


def _test_card(number: str) -> TestCard | None:
    return card_for(number) or (LOAD_TEST_CARD if is_load_test_pan(number) else None)


def decide(number: str, expiry: str, cvv: str | None, name: str, amount: int) -> Decision:
    """The issuer's answer to `amount` minor units on this card."""
    if name in REJECTION_TRIGGERS:
        code = REJECTION_TRIGGERS[name]
        return Decision(code, cvv_match=code != "00N7")
    card = _test_card(number)
    if card is None:
        return Decision("0000" if number in PAYPAL_TEST_CARDS else "1330")
    de39 = _issuer_code(card, expiry, cvv, amount)
    return Decision(_PAYPAL_CODE.get(de39, "5100"), card.step_up == "always", de39 != "N7")


def _issuer_code(card: TestCard, expiry: str, cvv: str | None, amount: int) -> str:
    """The simulated issuer's checks in its order (bank_sim/issuer.py)."""
    if card.fault == "system_error":
        return "96"
    if card.status != "active":
        return {"blocked": "05", "lost": "41", "stolen": "43"}[card.status]
    if f"{expiry[5:]}/{expiry[2:4]}" != card.issuer_expiry:
        return "54"
    if cvv is not None and cvv != (card.issuer_cvv or card.cvv):
        return "N7"
    if amount > card.txn_limit:
        return "61"
    if card.daily_count == 0:
        return "65"
    if card.fault in ("timeout", "http_500"):
        return "91"
    if amount > card.balance:
        return "51"
    return "00"
