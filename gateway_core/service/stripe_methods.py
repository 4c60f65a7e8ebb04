"""Stripe's test payment methods and test card numbers as paygate's test cards.

`pm_card_visa`, `pm_card_chargeDeclinedInsufficientFunds`, ... name the paygate test
card that behaves the same (keyed with its expiry 12/30 and CVC 123, Amex 1234). A
card number in `payment_method_data[card]` is sent as given, except the Stripe test
numbers paygate has no card for, which become the paygate card that behaves as
Stripe's does (`STRIPE_NUMBERS`). docs/CONNECTORS.md has the table.
"""

from __future__ import annotations

from pydantic import SecretStr

from gateway_core.cards import CardInput
from gateway_core.service.stripe_errors import StripeError
from gateway_core.service.stripe_form import Params, invalid

EXPIRY = "12/30"  # what paygate's test issuers have on file

TEST_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4111111111111111",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "2223003122003222",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "30569309025904",
    "pm_card_jcb": "3530111333300000",
    "pm_card_rupay": "6521500000000014",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedProcessingError": "4000000000000960",
    "pm_card_chargeDeclinedVelocityLimitExceeded": "4000000000000614",
    "pm_card_authenticationRequired": "4000000000003220",
}

# Stripe test numbers whose behaviour a paygate card of another number has.
STRIPE_NUMBERS: dict[str, str] = {
    "4000056655665556": "4111111111111111",  # Visa debit: approved
    "5200828282828210": "2223003122003222",  # Mastercard debit: approved
    "4000000000000119": "4000000000000960",  # processing_error
    "4000002760003184": "4000000000003220",  # authentication required (OTP here)
    "4000002500003155": "4000000000003220",  # authentication required (OTP here)
    "3056930009020004": "30569309025904",  # Diners: approved
    "3566002020360505": "3530111333300000",  # JCB: approved
}


def _cvc(number: str) -> str:
    return "1234" if number.startswith(("34", "37")) else "123"


def test_method(name: str) -> CardInput:
    """The card a test payment method names; 400 `resource_missing` for any other."""
    number = TEST_METHODS.get(name)
    if number is None:
        shown = name[:64] if name.isascii() and name.isprintable() else "?"
        message = f"No such PaymentMethod: '{shown}' (paygate knows Stripe's test methods only)"
        raise StripeError(
            400, "invalid_request_error", "resource_missing", message, "payment_method"
        )
    return CardInput(pan=SecretStr(number), expiry=EXPIRY, cvv=SecretStr(_cvc(number)))


def card_data(data: Params) -> CardInput:
    """`payment_method_data` of type card: number, exp_month, exp_year, cvc."""
    if data.choice("type", ("card",)) is None:
        raise _missing("payment_method_data[type]")
    card = data.nested("card")
    if card is None:
        raise _missing("payment_method_data[card]")
    number = (card.text("number", required=True, max_len=40) or "").replace(" ", "")
    month = card.amount("exp_month", required=True) or 0
    year = card.amount("exp_year", required=True) or 0
    cvc = card.text("cvc", required=True, max_len=8) or ""
    card.done()
    data.done()
    if not 1 <= month <= 12:
        raise invalid(
            "payment_method_data[card][exp_month]", "exp_month: 1 to 12", "invalid_expiry_month"
        )
    expiry = f"{month:02d}/{year % 100:02d}"
    return CardInput(
        pan=SecretStr(STRIPE_NUMBERS.get(number, number)), expiry=expiry, cvv=SecretStr(cvc)
    )


def _missing(param: str) -> StripeError:
    return invalid(param, f"Missing required param: {param}.", "parameter_missing")
