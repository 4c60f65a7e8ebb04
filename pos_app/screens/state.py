"""What the terminal remembers about the sale being keyed: amount, tip, reference, card.

Amounts are text as keyed (so "12." and "12.5" show as typed) and are read through
`money.parse_amount`, into integer minor units; never a float. The card's number and
CVV are `SecretStr`s and live here only between screens and only until the
authorization returns (`clear_card`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

from gateway_core.currencies import CURRENCIES
from gateway_core.money import Money, MoneyError, parse_amount
from gateway_core.presentation import format_money

TipChoice = Literal["none", "10", "15", "20", "custom"]
TIP_CHOICES: tuple[TipChoice, ...] = ("none", "10", "15", "20", "custom")
TIP_LABELS = {"none": "No tip", "10": "10%", "15": "15%", "20": "20%", "custom": "Custom"}
REFERENCE_MAX = 24


def new_idempotency_key() -> str:
    """A fresh key for one sale; kept while its outcome is not known."""
    return "pos-" + secrets.token_hex(10)


def typed_display(text: str, currency: str) -> str:
    """An amount as typed, grouped like money: "125000.5" → "1,25,000.5" (INR)."""
    whole, dot, frac = text.partition(".")
    exponent = CURRENCIES[currency].exponent
    grouped = format_money(Money(int(whole or "0") * 10**exponent, currency), symbol=False)
    grouped = grouped.split(".")[0]
    return grouped + dot + frac


@dataclass
class SaleDraft:
    """The sale on the terminal, from the first digit to its result."""

    currency: str
    max_minor: int
    amount_text: str = ""
    tip: TipChoice = "none"
    tip_text: str = ""
    reference: str = ""
    capture: Literal["automatic", "manual"] = "automatic"
    idempotency_key: str = field(default_factory=new_idempotency_key)
    pan: SecretStr | None = None
    expiry: str = ""
    cvv: SecretStr | None = None

    # -- the amount, key by key ------------------------------------------------------------
    @property
    def exponent(self) -> int:
        return CURRENCIES[self.currency].exponent

    def _check(self, text: str) -> str | None:
        """None when `text` is a keyable amount, else why not (one line)."""
        try:
            parse_amount(text or "0", self.currency, max_minor=self.max_minor, allow_zero=True)
        except MoneyError as exc:
            return str(exc)
        return None

    def key(self, key: str) -> str | None:
        """Apply a keypad key (a digit, "00", ".", "backspace", "clear") to the amount.

        Returns None when applied, else the reason it was refused (the amount stays).
        """
        text = self.amount_text
        if key == "backspace":
            self.amount_text = text[:-1]
            return None
        if key == "clear":
            self.amount_text = ""
            return None
        if key == ".":
            if self.exponent == 0:
                return f"{self.currency} amounts have no decimals"
            if "." in text:
                return 'an amount has only one "."'
            self.amount_text = (text or "0") + "."
            return None
        if not (key.isascii() and key.isdigit()):
            return 'amounts take the digits 0-9 and "."'
        candidate = text + key
        if "." not in candidate:
            candidate = candidate.lstrip("0") or "0"
        problem = self._check(candidate)
        if problem:
            return problem
        self.amount_text = candidate
        return None

    def amount(self) -> Money:
        """The amount keyed; `MoneyError` (readable) when it is empty or zero."""
        return parse_amount(self.amount_text, self.currency, max_minor=self.max_minor)

    def amount_or_zero(self) -> Money:
        try:
            return parse_amount(self.amount_text or "0", self.currency, allow_zero=True)
        except MoneyError:
            return Money.zero(self.currency)

    # -- tip and total ---------------------------------------------------------------------
    def tip_amount(self) -> Money:
        """The tip in money; a custom tip that is not an amount raises `MoneyError`."""
        base = self.amount_or_zero()
        if self.tip == "none":
            return Money.zero(self.currency)
        if self.tip == "custom":
            if not self.tip_text.strip():
                return Money.zero(self.currency)
            return parse_amount(self.tip_text, self.currency, allow_zero=True)
        return base.percent(int(self.tip) * 100)

    def tip_or_zero(self) -> Money:
        try:
            return self.tip_amount()
        except MoneyError:
            return Money.zero(self.currency)

    def total(self) -> Money:
        """Amount plus tip, checked against the terminal's maximum."""
        total = self.amount() + self.tip_amount()
        if total.minor > self.max_minor:
            limit = format_money(Money(self.max_minor, self.currency))
            raise MoneyError(f"the total with the tip cannot be more than {limit}")
        return total

    def extras(self) -> SaleExtras:
        """What the receipt prints beside the payment: the amount and tip apart, the
        reference; `MoneyError` as for `total`."""
        tip_label = TIP_LABELS[self.tip] if self.tip not in ("none", "custom") else ""
        return SaleExtras(self.amount().minor, self.tip_amount().minor, self.reference, tip_label)

    def next_tip(self) -> TipChoice:
        """Cycle to the next tip choice."""
        self.tip = TIP_CHOICES[(TIP_CHOICES.index(self.tip) + 1) % len(TIP_CHOICES)]
        return self.tip

    # -- the card ------------------------------------------------------------------------
    def keep_card(self, pan: SecretStr | None, expiry: str, cvv: SecretStr | None) -> None:
        """Hold what was typed on the card screen while the cashier steps back."""
        self.pan, self.expiry, self.cvv = pan, expiry, cvv

    def clear_card(self) -> None:
        """Forget the card: called as soon as the authorization returns."""
        self.pan, self.expiry, self.cvv = None, "", None

    def new_attempt(self) -> None:
        """The last attempt has a final result: the next one is a new payment."""
        self.idempotency_key = new_idempotency_key()


@dataclass(frozen=True)
class SaleExtras:
    """What the gateway does not keep about a sale (yet): the tip split and reference.

    Held in memory for the session; printed on the receipt.
    """

    amount: int
    tip: int
    reference: str = ""
    tip_label: str = ""
