"""What the acquirer charges the merchant, and when it pays out.

The merchant discount rate (MDR) is a percentage of each captured payment, in basis
points (1 bp = 0.01 %), by card brand and funding (debit, credit, prepaid). GST of 18 %
is charged on the fee. Settings `fees`, the config file's `[fees]` table, or
`PAYGATE_FEES__GST_BPS` etc. in the environment. A brand given in the config file
replaces only the rates it names; the rest keep their defaults:

```toml
[fees]
gst_bps = 1800
payout_holidays = ["2026-12-25"]

[fees.mdr_bps]
visa = { credit = 175 }     # Visa debit keeps its default
```

Defaults follow what Indian acquirers charged small merchants around 2025: RuPay debit
0 % (zero-MDR rule), Visa/Mastercard debit 0.6 %, Visa/Mastercard credit 1.9 %, RuPay
credit 1.6 %, Amex 2.75 %, Discover/JCB/Diners/UnionPay 2.25 %.

A payment method other than a card has one rate (`method_mdr_bps`): UPI 0 % (zero MDR
for person-to-merchant payments), net banking 0 %, cash 0 %; a method not listed pays
`default_mdr_bps`.

Net banking is charged by the bank a flat amount per successful payment instead
(`netbanking_flat`, minor units by bank code; a bank not listed pays
`netbanking_default_flat`), plus GST on it. A refund gives no fee back: the bank keeps
the flat fee of a payment refunded, in part or whole (as real banks do, and as the
MDR of a card refunded is kept):

```toml
[fees.netbanking_flat]
DEMOA = 900                 # the other banks keep their defaults
```
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FUNDINGS = ("debit", "credit", "prepaid")

DEFAULT_MDR_BPS: dict[str, dict[str, int]] = {
    "visa": {"debit": 60, "credit": 190, "prepaid": 100},
    "mastercard": {"debit": 60, "credit": 190, "prepaid": 100},
    "rupay": {"debit": 0, "credit": 160, "prepaid": 100},
    "maestro": {"debit": 60, "credit": 60, "prepaid": 100},
    "amex": {"debit": 275, "credit": 275, "prepaid": 275},
    "discover": {"debit": 225, "credit": 225, "prepaid": 225},
    "jcb": {"debit": 225, "credit": 225, "prepaid": 225},
    "diners": {"debit": 225, "credit": 225, "prepaid": 225},
    "unionpay": {"debit": 225, "credit": 225, "prepaid": 225},
}
DEFAULT_METHOD_MDR_BPS: dict[str, int] = {"upi": 0, "netbanking": 0, "cash": 0}
DEFAULT_NETBANKING_FLAT: dict[str, int] = {"DEMOA": 1000, "DEMOB": 1200, "DEMOC": 800}


class FeeSchedule(BaseModel):
    """MDR per brand and funding, GST on the fee, and the payout calendar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mdr_bps: dict[str, dict[str, int]] = Field(default_factory=lambda: _copy(DEFAULT_MDR_BPS))
    method_mdr_bps: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_METHOD_MDR_BPS))
    default_mdr_bps: int = Field(200, ge=0, le=10_000)  # a brand, funding or method not listed
    # net banking: a flat fee per successful payment, by bank (minor units)
    netbanking_flat: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_NETBANKING_FLAT))
    netbanking_default_flat: int = Field(1500, ge=0, le=1_000_000)  # a bank not listed
    gst_bps: int = Field(1800, ge=0, le=10_000)  # GST on the fee (18 % in India)
    payout_days: int = Field(1, ge=0, le=30)  # T+n business days
    payout_holidays: tuple[date, ...] = ()  # bank holidays the payout skips (weekends always)

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        """Rates given for a brand replace only those rates; other brands keep theirs."""
        if isinstance(data, dict) and isinstance(data.get("mdr_bps"), dict):
            merged = _copy(DEFAULT_MDR_BPS)
            for brand, rates in data["mdr_bps"].items():
                if not isinstance(rates, dict):
                    raise ValueError(f"mdr_bps.{brand} must be a table like {{ credit = 190 }}")
                merged.setdefault(str(brand).lower(), {}).update(rates)
            data = {**data, "mdr_bps": merged}
        return data

    @field_validator("mdr_bps")
    @classmethod
    def _rates_in_range(cls, value: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        for brand, rates in value.items():
            for funding, bps in rates.items():
                if funding not in FUNDINGS:
                    raise ValueError(f"mdr_bps.{brand}: funding must be one of {FUNDINGS}")
                if not 0 <= bps <= 10_000:
                    raise ValueError(f"mdr_bps.{brand}.{funding} must be 0 to 10000 basis points")
        return value

    @field_validator("method_mdr_bps")
    @classmethod
    def _method_rates_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for method, bps in value.items():
            if not 0 <= bps <= 10_000:
                raise ValueError(f"method_mdr_bps.{method} must be 0 to 10000 basis points")
        return {**DEFAULT_METHOD_MDR_BPS, **value}

    @field_validator("netbanking_flat")
    @classmethod
    def _flats_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for bank, flat in value.items():
            if not 0 <= flat <= 1_000_000:
                raise ValueError(f"netbanking_flat.{bank} must be 0 to 1000000 minor units")
        return {**DEFAULT_NETBANKING_FLAT, **{bank.upper(): v for bank, v in value.items()}}

    def rate(self, brand: str, funding: str | None) -> int:
        """The MDR in basis points for a card brand and funding."""
        return self.mdr_bps.get(brand, {}).get(funding or "", self.default_mdr_bps)

    def rate_of(self, method: str, brand: str, funding: str | None) -> int:
        """The MDR in basis points of a payment: a card's by brand and funding, another
        method's by the method."""
        if method == "card":
            return self.rate(brand, funding)
        return self.method_mdr_bps.get(method, self.default_mdr_bps)

    def flat_of(self, method: str, brand: str) -> int:
        """The flat fee of a payment in minor units: a net banking payment's by its bank
        (`brand`), 0 for any other method."""
        if method != "netbanking":
            return 0
        return self.netbanking_flat.get(brand, self.netbanking_default_flat)

    def fee(
        self, amount: int, method: str, brand: str, funding: str | None
    ) -> tuple[int, int, int]:
        """The rate (bps), the flat fee and the whole fee of a captured `amount`."""
        rate, flat = self.rate_of(method, brand, funding), self.flat_of(method, brand)
        return rate, flat, fee_of(amount, rate) + flat

    def payout_date(self, day: date) -> date:
        """T+`payout_days` business days after `day`: weekends and holidays skipped."""
        out, left = day, self.payout_days
        while left > 0 or not self.is_business_day(out):
            out += timedelta(days=1)
            if self.is_business_day(out):
                left -= 1
        return out

    def is_business_day(self, day: date) -> bool:
        """A weekday that is not a bank holiday."""
        return day.weekday() < 5 and day not in self.payout_holidays


def fee_of(amount: int, bps: int) -> int:
    """`bps` basis points of `amount` minor units, rounded half away from zero."""
    quotient, remainder = divmod(abs(amount) * bps, 10_000)
    if 2 * remainder >= 10_000:
        quotient += 1
    return -quotient if amount < 0 else quotient


def _copy(table: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {brand: dict(rates) for brand, rates in table.items()}
