"""Demo cards: well-known test numbers, one per brand, with a far-off expiry.

Later issues attach a scenario to each (approve, each decline, OTP, timeout); for now
they are what the scripted demo tokenizes. These numbers are public test PANs, but the
rule holds for them too: none of them may ever appear in a file of the data dir.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import SecretStr

from gateway_core.cards import CardInput


class DemoCard(NamedTuple):
    """A test card as a cashier would key it."""

    label: str
    pan: str
    expiry: str
    cvv: str

    def as_input(self) -> CardInput:
        """The card as keyed at the terminal."""
        return CardInput(pan=SecretStr(self.pan), expiry=self.expiry, cvv=SecretStr(self.cvv))


DEMO_CARDS: tuple[DemoCard, ...] = (
    DemoCard("Visa", "4111 1111 1111 1111", "12/30", "123"),
    DemoCard("Mastercard", "5555 5555 5555 4444", "12/30", "123"),
    DemoCard("Amex", "3782 822463 10005", "12/30", "1234"),
    DemoCard("RuPay", "6521 5000 0000 0006", "12/30", "123"),
    DemoCard("Discover", "6011 1111 1111 1117", "12/30", "123"),
    DemoCard("JCB", "3530 1113 3330 0000", "12/30", "123"),
)
