"""How every surface words things: money, card brands, payment methods and states, phone
numbers.

The CLI, the terminal, the console, receipts and API messages all say a thing the same
way because they all ask this module.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import NamedTuple, Protocol

from gateway_core.cards import Brand
from gateway_core.currencies import CURRENCIES


# ---------------------------------------------------------------------------- money
class Amount(Protocol):
    """What formatting needs of `money.Money`: minor units and a currency code."""

    @property
    def minor(self) -> int: ...
    @property
    def currency(self) -> str: ...


def _group(digits: str, grouping: str) -> str:
    """Insert "," group separators into a string of digits."""
    if len(digits) <= 3:
        return digits
    if grouping == "western":
        return f"{int(digits):,}"
    head, tail = digits[:-3], digits[-3:]
    pairs = [head[max(i - 2, 0) : i] for i in range(len(head), 0, -2)]
    return ",".join([*reversed(pairs), tail])


def _split(m: Amount) -> tuple[str, str, str]:
    """Sign, whole-unit digits and fraction digits of `m`."""
    exponent = CURRENCIES[m.currency].exponent
    whole, frac = divmod(abs(m.minor), 10**exponent)
    return ("-" if m.minor < 0 else ""), str(whole), str(frac).zfill(exponent) if exponent else ""


def format_money(m: Amount, *, symbol: bool = True) -> str:
    """Display form: "₹1,25,000.50", "$1,250.50", "¥1,250", "-₹12.50"; grouping always kept."""
    info = CURRENCIES[m.currency]
    sign, whole, frac = _split(m)
    body = _group(whole, info.grouping) + (f".{frac}" if frac else "")
    return f"{sign}{info.symbol if symbol else ''}{body}"


def format_plain(m: Amount) -> str:
    """Export form without symbol or grouping: "125000.50", "-12.50", "1250" (JPY)."""
    sign, whole, frac = _split(m)
    return f"{sign}{whole}" + (f".{frac}" if frac else "")


def money_text(minor: int, currency: str) -> str:
    """`format_money` of an amount held as minor units and a currency code."""
    return format_money(_Minor(minor, currency))


class _Minor(NamedTuple):
    minor: int
    currency: str


# ---------------------------------------------------------------------------- brands
_BRAND_NAMES: dict[str, str] = {brand.id: brand.display for brand in Brand}


def brand_name(brand_id: str) -> str:
    """A brand id as people write it ("visa" → "Visa", "rupay" → "RuPay")."""
    return _BRAND_NAMES.get(brand_id) or brand_id.title()


# ---------------------------------------------------------------------------- states
# The word for each status on every surface (CLI, terminal, console, receipts, API
# messages); large type shows it in capitals. A captured sale's refunds and a cancel's
# void are told apart by `status_word`.
STATUS_WORDS: dict[str, str] = {
    "succeeded": "approved",
    "requires_capture": "authorized",
    "requires_action": "OTP pending",
    "declined": "declined",
    "canceled": "canceled",
    "unknown": "unknown",
    "pending": "pending",
    "expired": "expired",
}


def status_word(status: str, *, voided: bool = False, captured: int = 0, refunded: int = 0) -> str:
    """The one word (or two) for a payment's state: its status, whether a cancel was a
    manager's void, and what of its capture was refunded."""
    if status == "succeeded" and refunded:
        return "refunded" if refunded >= captured else "partly refunded"
    if status == "canceled" and voided:
        return "voided"
    return STATUS_WORDS.get(status, "unknown")


# ---------------------------------------------------------------------------- times
# Each takes a stored (aware) time and the merchant's timezone (None: the machine's).
def time_text(moment: datetime, tz: tzinfo | None, *, seconds: bool = True) -> str:
    """ "14:37:53" (or "14:37")."""
    return moment.astimezone(tz).strftime("%H:%M:%S" if seconds else "%H:%M")


def stamp_text(
    moment: datetime, tz: tzinfo | None, *, seconds: bool = True, zone: bool = False
) -> str:
    """ "2026-12-06 14:37:53" (or without seconds; with `zone`, the zone's name after)."""
    form = "%Y-%m-%d %H:%M" + (":%S" if seconds else "") + (" %Z" if zone else "")
    return moment.astimezone(tz).strftime(form).strip()


def day_text(moment: datetime, tz: tzinfo | None) -> str:
    """ "06 Dec 2026", as a receipt prints it."""
    return moment.astimezone(tz).strftime("%d %b %Y")


def until_text(moment: datetime, tz: tzinfo | None) -> str:
    """ "06 Dec 14:37": when a block or hold ends."""
    return moment.astimezone(tz).strftime("%d %b %H:%M")


# ---------------------------------------------------------------------------- phones
_PHONE_CC2 = "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 \
60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98"


def mask_phone(phone: str) -> str:
    """`"+919800000001"` → `"+91 98•• ••00 01"`: E.164 country code, first 2 and last 4."""
    digits = "".join(c for c in phone if c.isascii() and c.isdigit())
    cc = ""
    if phone.strip().startswith("+") and len(digits) > 7:
        size = 1 if digits[0] in "17" else 2 if digits[:2] in _PHONE_CC2.split() else 3
        cc, digits = "+" + digits[:size] + " ", digits[size:]
    head, tail = (2, 4) if len(digits) >= 8 else (0, min(2, len(digits) // 3))
    shown = digits[:head] + "•" * (len(digits) - head - tail) + digits[len(digits) - tail :]
    return cc + " ".join(shown[i : i + 4] for i in range(0, len(shown), 4))


# ---------------------------------------------------------------------------- methods
METHOD_NAMES: dict[str, str] = {
    "card": "Card",
    "upi": "UPI",
    "netbanking": "Net banking",
    "cash": "Cash",
    "link": "Payment link",
}


def method_name(method: str) -> str:
    """A payment method as people write it ("upi" → "UPI", "netbanking" → "Net banking")."""
    return METHOD_NAMES.get(method, method.replace("_", " ").capitalize())
