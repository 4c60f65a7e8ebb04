"""The demo test cards: every scenario one card away.

Each card is a cardholder account at a simulated issuer, seeded when the banks start
on a new data dir. Keyed with the expiry and CVV listed here (`12/30`, `123`, Amex
`1234`), each card behaves as its `behaviour` says. `paygate test-cards` prints this
list, and the README copies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gateway_core.cards import LOAD_TEST_BIN, load_test_pan

Funding = Literal["debit", "credit"]
Status = Literal["active", "blocked", "lost", "stolen"]
StepUp = Literal["never", "always", "above_threshold"]
Fault = Literal["timeout", "http_500", "slow", "system_error"]

EXPIRY = "12/30"
CVV = "123"
AMEX_CVV = "1234"


@dataclass(frozen=True)
class Issuer:
    """A simulated issuing bank: its name, network, country and BINs."""

    id: str
    name: str
    network: str
    country: str
    bins: tuple[str, ...]


@dataclass(frozen=True)
class TestCard:
    """A demo card and the issuer-side account behind it."""

    pan: str
    label: str
    behaviour: str
    expect: str  # DE39 the cashier ends up with ("00", "51", "otp->00", "luhn", ...)
    issuer: str = "demo"
    funding: Funding = "debit"
    balance: int = 50_000_00  # minor units: ₹50,000.00 of funds or credit line
    status: Status = "active"
    txn_limit: int = 2_00_000_00  # per-transaction limit, minor units
    daily_count: int = 50
    step_up: StepUp = "above_threshold"
    fault: Fault | None = None
    issuer_expiry: str = EXPIRY  # what the issuer has on file (54 when it has passed)
    issuer_cvv: str | None = None  # what the issuer has on file (None: the keyed one)
    phone: str = "+919800000001"
    country: str = "IN"
    tags: tuple[str, ...] = field(default=())

    @property
    def digits(self) -> str:
        """The PAN without spaces."""
        return self.pan.replace(" ", "")

    @property
    def cvv(self) -> str:
        """The CVV to key."""
        return AMEX_CVV if self.label.startswith("Amex") else CVV


ISSUERS: tuple[Issuer, ...] = (
    Issuer(
        "demo",
        "Paygate Demo Bank",
        "visa",
        "IN",
        ("424242", "411111", "400000", "400008", LOAD_TEST_BIN),
    ),
    Issuer("demo-mc", "Paygate Demo Bank (Mastercard)", "mastercard", "IN", ("555555", "222300")),
    Issuer("bharat", "Bharat Co-operative Bank", "rupay", "IN", ("652150", "607000")),
    Issuer("amex", "American Express", "amex", "US", ("378282",)),
    Issuer("discover", "Discover Bank", "discover", "US", ("601111",)),
    Issuer("jcb", "JCB Card Co", "jcb", "JP", ("353011",)),
    Issuer("diners", "Diners Club International", "diners", "US", ("305693",)),
)

TEST_CARDS: tuple[TestCard, ...] = (
    # -- approvals, one per brand -----------------------------------------------------
    TestCard("4242 4242 4242 4242", "Visa", "approved", "00", funding="credit"),
    TestCard("4111 1111 1111 1111", "Visa debit", "approved", "00"),
    TestCard("5555 5555 5555 4444", "Mastercard", "approved", "00", "demo-mc", "credit"),
    TestCard("2223 0031 2200 3222", "Mastercard 2-series", "approved", "00", "demo-mc"),
    TestCard(
        "3782 822463 10005", "Amex", "approved (4-digit CVV)", "00", "amex", "credit", country="US"
    ),
    TestCard("6521 5000 0000 0014", "RuPay", "approved", "00", "bharat"),
    TestCard(
        "6011 1111 1111 1117", "Discover", "approved", "00", "discover", "credit", country="US"
    ),
    TestCard("3530 1113 3330 0000", "JCB", "approved", "00", "jcb", "credit", country="JP"),
    TestCard("3056 930902 5904", "Diners Club", "approved", "00", "diners", "credit", country="US"),
    # -- declines -----------------------------------------------------------------------
    TestCard("4000 0000 0000 0002", "Visa", "declined 05 do not honor", "05", status="blocked"),
    TestCard(
        "4000 0000 0000 9995",
        "Visa",
        "declined 51 insufficient funds (balance ₹10.00)",
        "51",
        balance=10_00,
    ),
    TestCard(
        "4000 0000 0000 0069",
        "Visa",
        "declined 54 expired (issuer has 01/24 on file)",
        "54",
        issuer_expiry="01/24",
    ),
    TestCard("4000 0000 0000 9987", "Visa", "declined 41 lost card", "41", status="lost"),
    TestCard("4000 0000 0000 9979", "Visa", "declined 43 stolen card", "43", status="stolen"),
    TestCard(
        "4000 0000 0000 0127",
        "Visa",
        "declined N7 CVV mismatch (issuer expects 999)",
        "N7",
        issuer_cvv="999",
    ),
    TestCard(
        "4000 0000 0000 0614",
        "Visa",
        "declined 61 over the ₹1,000.00 per-payment limit",
        "61",
        txn_limit=1_000_00,
    ),
    TestCard(
        "4000 0000 0000 0655",
        "Visa",
        "declined 65: daily count limit reached (0 a day)",
        "65",
        daily_count=0,
    ),
    TestCard(
        "4000 0000 0000 0960",
        "Visa",
        "declined 96 system error at the issuer",
        "96",
        fault="system_error",
    ),
    # -- step-up (OTP) ------------------------------------------------------------------
    TestCard(
        "4000 0000 0000 3220", "Visa", "OTP required, then approved", "otp->00", step_up="always"
    ),
    TestCard(
        "4000 0084 0000 1629",
        "Visa",
        "OTP required, then declined 51 (balance ₹10.00)",
        "otp->51",
        step_up="always",
        balance=10_00,
    ),
    # -- faults -------------------------------------------------------------------------
    TestCard(
        "4000 0000 0000 9094",
        "Visa",
        "issuer times out: reversal, declined 91",
        "91",
        fault="timeout",
    ),
    TestCard(
        "4000 0000 0000 0507",
        "Visa",
        "issuer answers HTTP 500: declined 91",
        "91",
        fault="http_500",
    ),
    TestCard(
        "4000 0000 0000 0200", "Visa", "slow issuer (about 3 s), then approved", "00", fault="slow"
    ),
)

LUHN_FAILURE = "4242 4242 4242 4241"  # refused before any bank is contacted

# The load-test range: every Luhn-valid 16-digit PAN starting 499999 is its own account,
# opened at its first authorization from this template (pan: the range's first card).
LOAD_TEST_CARD = TestCard(
    load_test_pan(0),
    "Visa load test",
    "approved, no daily count limit, no OTP",
    "00",
    balance=1_00_00_000_00,  # ₹1,00,00,000.00 per card
    daily_count=10**9,
    step_up="never",
)


def card_for(pan: str) -> TestCard | None:
    """The test card with this number (spaces and dashes ignored), if any."""
    digits = pan.replace(" ", "").replace("-", "")
    return next((card for card in TEST_CARDS if card.digits == digits), None)


def bin_country(bin6: str) -> str | None:
    """The issuing country of a BIN-6, from the simulated BIN table (None: unknown); the
    risk rules' `country_of`."""
    return next((i.country for i in ISSUERS if bin6 in i.bins), None)
