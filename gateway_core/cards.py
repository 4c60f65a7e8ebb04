"""Card checks: PAN normalization, brand by ordered IIN table, Luhn, expiry, CVV, masking.

Absolute rule: no error message, repr or str produced here ever contains a full PAN or a
CVV. Both travel as `pydantic.SecretStr`; displays show at most BIN-6 and last-4.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gateway_core.errors import InputError

PAN_MIN, PAN_MAX = 12, 19
MAX_YEARS_AHEAD = 20  # a card expiring later than this is a typo, not a card
MIN_HIDDEN = 5  # masked displays always hide at least this many middle digits
MASK = "•"


# ---------------------------------------------------------------------------- errors
class CardError(InputError):
    """Bad card data. `code` is Stripe-style; `field` tells a form where to put the cursor."""

    code = "card_error"
    field = "number"


class InvalidCardNumber(CardError):
    code = "invalid_number"


class WrongLength(CardError):
    code = "invalid_number"


class UnknownBrand(CardError):
    code = "invalid_number"


class LuhnFailed(CardError):
    code = "incorrect_number"


class InvalidExpiry(CardError):
    code, field = "invalid_expiry", "expiry"


class CardExpired(CardError):
    code, field = "expired_card", "expiry"


class InvalidCvv(CardError):
    code, field = "invalid_cvc", "cvv"


# ---------------------------------------------------------------------------- brands
class Brand(Enum):
    """A card scheme. The value is the stable id ("visa"); `display` is for people."""

    _value_: str
    display: str
    lengths: tuple[int, ...]
    cvv_length: int

    VISA = ("visa", "Visa", (13, 16, 19))
    MASTERCARD = ("mastercard", "Mastercard", (16,))
    AMEX = ("amex", "Amex", (15,), 4)
    DISCOVER = ("discover", "Discover", (16, 17, 18, 19))
    RUPAY = ("rupay", "RuPay", (16,))
    JCB = ("jcb", "JCB", (16, 17, 18, 19))
    DINERS = ("diners", "Diners Club", (14, 15, 16, 17, 18, 19))
    UNIONPAY = ("unionpay", "UnionPay", (16, 17, 18, 19))
    MAESTRO = ("maestro", "Maestro", tuple(range(12, 20)))

    def __new__(
        cls, id_: str, display: str, lengths: tuple[int, ...], cvv_length: int = 3
    ) -> Brand:
        member = object.__new__(cls)
        member._value_ = id_
        member.display = display
        member.lengths = lengths
        member.cvv_length = cvv_length
        return member

    @property
    def id(self) -> str:
        return self._value_

    def grouping(self, length: int) -> tuple[int, ...]:
        """Digit groups for display: Amex 4-6-5, Diners-14 4-6-4, else fours + remainder."""
        if self is Brand.AMEX:
            return (4, 6, 5)
        if self is Brand.DINERS and length <= 14:
            return (4, 6, 4)
        return _fours(length)


# Ordered: the FIRST matching range wins. Each range is lo-hi over prefixes of equal digit
# count. Overlaps are resolved on purpose, by putting the narrower range first:
# - RuPay 508500-508999 lies inside Maestro 50: RuPay wins (listed before Maestro).
# - RuPay 652150-653149 lies inside Discover 65 (RuPay's domestic range inside Discover's
#   via their interoperability deal): RuPay wins; the rest of 65 is Discover.
# - Discover 622126-622925 lies inside UnionPay 62 (co-brand range): Discover wins.
# - RuPay/JCB co-branded cards carry BINs in JCB's 3528-3589 and are routed as JCB: they
#   exist for international acceptance, which runs on the JCB network. No RuPay entry there.
_IIN_RANGES = (
    (Brand.VISA, "4"),
    (Brand.AMEX, "34 37"),
    (Brand.DINERS, "300-305 3095 36 38-39"),
    (Brand.JCB, "3528-3589"),
    (Brand.MASTERCARD, "51-55 2221-2720"),
    (Brand.RUPAY, "508500-508999 606985-607984 608001-608500 652150-653149"),
    (Brand.DISCOVER, "6011 622126-622925 644-649 65"),
    (Brand.UNIONPAY, "62"),
    (Brand.MAESTRO, "50 56-58 6304 639 67"),
)
_IIN: tuple[tuple[str, str, Brand], ...] = tuple(
    (*(span.split("-") if "-" in span else (span, span)), brand)
    for brand, spans in _IIN_RANGES
    for span in spans.split()
)


_PAN_TEXT = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_DIGITS = re.compile(r"[0-9]*")
_EXPIRY_TEXT = re.compile(r"([0-9]{1,2}) */ *([0-9]{2}|[0-9]{4})|([0-9]{2})([0-9]{2})")


def _reveal(value: str | SecretStr) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if not isinstance(value, str):
        raise TypeError(f"expected str or SecretStr, got {type(value).__name__}")
    return value


def _fours(length: int) -> tuple[int, ...]:
    return (4,) * (length // 4) + ((length % 4,) if length % 4 else ())


def _group(text: str, sizes: tuple[int, ...]) -> str:
    parts, i = [], 0
    for size in (*sizes, *(4,) * len(text)):
        if i >= len(text):
            break
        parts.append(text[i : i + size])
        i += size
    return " ".join(parts)


def _lengths_text(lengths: tuple[int, ...]) -> str:
    if len(lengths) > 2 and lengths == tuple(range(lengths[0], lengths[-1] + 1)):
        return f"{lengths[0]} to {lengths[-1]}"
    *head, last = map(str, lengths)
    return f"{', '.join(head)} or {last}" if head else last


# ---------------------------------------------------------------------------- numbers
def normalize_pan(text: str | SecretStr) -> str:
    """Card number text ("4111 1111-1111 1111") → its 12-19 ASCII digits."""
    text = _reveal(text).strip()
    if not text:
        raise InvalidCardNumber("enter the card number")
    if not _PAN_TEXT.fullmatch(text):
        raise InvalidCardNumber("card number may contain only digits, spaces and dashes")
    digits = text.replace(" ", "").replace("-", "")
    if not PAN_MIN <= len(digits) <= PAN_MAX:
        problem = "short" if len(digits) < PAN_MIN else "long"
        raise WrongLength(
            f"card number is too {problem} - it should have {PAN_MIN} to {PAN_MAX} digits"
        )
    return digits


def _luhn_sum(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total


def luhn_valid(digits: str) -> bool:
    """True if `digits` (ASCII digits only) passes the Luhn mod-10 check."""
    return bool(digits) and bool(_DIGITS.fullmatch(digits)) and _luhn_sum(digits) % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial + digit` Luhn-valid (for test and demo cards)."""
    if not _DIGITS.fullmatch(partial):
        raise InvalidCardNumber("card number may contain only digits")
    return str(-_luhn_sum(partial + "0") % 10)


LOAD_TEST_BIN = "499999"  # every Luhn-valid 16-digit PAN under it approves (bank_sim)


def load_test_pan(serial: int) -> str:
    """Card `serial` (0 to 999,999,999) of the load-test range: 499999, the serial in 9
    digits, then the Luhn digit."""
    if not 0 <= serial < 10**9:
        raise ValueError("a load-test card's serial has at most 9 digits")
    partial = f"{LOAD_TEST_BIN}{serial:09d}"
    return partial + luhn_check_digit(partial)


def is_load_test_pan(digits: str) -> bool:
    """True for a Luhn-valid 16-digit number starting 499999."""
    return len(digits) == 16 and digits.startswith(LOAD_TEST_BIN) and luhn_valid(digits)


def detect_brand(digits: str) -> Brand | None:
    """Brand of a full or partial number, or None while the prefix is not yet decisive.

    Spaces and dashes are ignored. A brand is returned only when every completion of the
    prefix resolves (first match wins) to that same brand, so the answer never flips.
    """
    digits = digits.replace(" ", "").replace("-", "")
    if not digits or not _DIGITS.fullmatch(digits):
        return None
    possible: set[Brand | None] = set()
    for lo, hi, brand in _IIN:
        k = len(lo)
        low, high = digits[:k].ljust(k, "0"), digits[:k].ljust(k, "9")
        if high < lo or low > hi:
            continue
        possible.add(brand)
        if lo <= low and high <= hi:  # every completion lands in this entry
            break
    else:
        possible.add(None)  # some completion matches no entry at all
    return possible.pop() if len(possible) == 1 else None


def brand_for(pan: str | SecretStr) -> Brand:
    """Brand of a full card number; `UnknownBrand` if the IIN table has no match."""
    brand = detect_brand(normalize_pan(pan))
    if brand is None:
        raise UnknownBrand("card type not accepted - check the number")
    return brand


def group_as_brand(text: str, brand: Brand | None) -> str:
    """`text` (digits or mask dots) in the brand's groups, e.g. Amex 4-6-5; else fours."""
    return _group(text, brand.grouping(len(text)) if brand else ())


def group_digits(digits: str, brand: Brand | None = None) -> str:
    """Live display of a (partial) number grouped per brand; non-digits are dropped."""
    digits = "".join(ch for ch in digits if "0" <= ch <= "9")
    return group_as_brand(digits, brand or detect_brand(digits))


def masked_from_parts(brand: Brand | None, bin6: str, last4: str, length: int) -> str:
    """Masked display from stored parts, e.g. "4111 11•• •••• 1111".

    Shows at most BIN-6 and last-4, and always hides at least MIN_HIDDEN middle digits:
    short PANs (12-14 digits) show fewer leading digits, e.g. 12 digits "501• •••• 5678".
    """
    if not (re.fullmatch("[0-9]{6}", bin6) and re.fullmatch("[0-9]{4}", last4)):
        raise ValueError("masked_from_parts needs a 6-digit BIN and a 4-digit last-4")
    if not PAN_MIN <= length <= PAN_MAX:
        raise ValueError(f"card numbers have {PAN_MIN} to {PAN_MAX} digits")
    lead = min(6, length - 4 - MIN_HIDDEN)
    return group_as_brand(bin6[:lead] + MASK * (length - lead - 4) + last4, brand)


def mask_pan(digits: str | SecretStr) -> str:
    """Masked display of a full card number (normalized first), grouped per brand."""
    digits = normalize_pan(digits)
    return masked_from_parts(detect_brand(digits), digits[:6], digits[-4:], len(digits))


# ---------------------------------------------------------------------------- models
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class Expiry(_Frozen):
    """A card expiry month; valid through the last day of that month."""

    month: int = Field(ge=1, le=12)
    year: int = Field(ge=2000, le=2099)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def is_expired(self, today: date) -> bool:
        return today > self.last_day

    def __str__(self) -> str:
        return f"{self.month:02d}/{self.year % 100:02d}"


class CheckedPan(_Frozen):
    """A validated card number. repr/str show only the masked form."""

    pan: SecretStr
    brand: Brand
    bin6: str = Field(pattern=r"^[0-9]{6}$")
    last4: str = Field(pattern=r"^[0-9]{4}$")
    length: int = Field(ge=PAN_MIN, le=PAN_MAX)

    @property
    def masked(self) -> str:
        return masked_from_parts(self.brand, self.bin6, self.last4, self.length)

    def __repr_args__(self) -> Iterator[tuple[str, object]]:
        yield "brand", self.brand.id
        yield "masked", self.masked
        if (expiry := getattr(self, "expiry", None)) is not None:
            yield "expiry", str(expiry)

    def __str__(self) -> str:
        return f"{self.brand.display} {self.masked}"


class CardData(CheckedPan):
    """A checked card WITHOUT its CVV: what the vault takes."""

    expiry: Expiry


class CheckedCard(CheckedPan):
    """A fully checked card, CVV included. Hand `card_data` (no CVV) to the vault."""

    expiry: Expiry
    cvv: SecretStr

    def without_cvv(self) -> CardData:
        return CardData(**{name: getattr(self, name) for name in CardData.model_fields})

    @property
    def card_data(self) -> CardData:
        return self.without_cvv()


class CardInput(_Frozen):
    """Card data as keyed: PAN and CVV are secrets from the first moment."""

    pan: SecretStr
    expiry: str
    cvv: SecretStr


# ---------------------------------------------------------------------------- checks
def validate_pan(text: str | SecretStr) -> CheckedPan:
    """Normalize, find the brand, check the length for that brand, then Luhn."""
    digits = normalize_pan(text)
    brand = brand_for(digits)
    if len(digits) not in brand.lengths:
        lengths = _lengths_text(brand.lengths)
        raise WrongLength(f"{brand.display} card numbers have {lengths} digits")
    if not luhn_valid(digits):
        raise LuhnFailed("card number is not valid - check the digits")
    return CheckedPan(
        pan=SecretStr(digits), brand=brand, bin6=digits[:6], last4=digits[-4:], length=len(digits)
    )


def parse_expiry(text: str) -> Expiry:
    """ "MM/YY", "MM/YYYY", "MMYY" (spaces allowed around "/", month may be one digit)."""
    match = _EXPIRY_TEXT.fullmatch(_reveal(text).strip())
    if not match:
        raise InvalidExpiry("expiry date must be MM/YY")
    month_s, year_s = (match[1], match[2]) if match[1] else (match[3], match[4])
    month, year = int(month_s), int(year_s) + (2000 if len(year_s) == 2 else 0)
    if not 1 <= month <= 12:
        raise InvalidExpiry("expiry month must be 01 to 12")
    if not 2000 <= year <= 2099:
        raise InvalidExpiry("expiry year is out of range")
    return Expiry(month=month, year=year)


def validate_expiry(text: str, today: date) -> Expiry:
    """Parse, then reject dates over MAX_YEARS_AHEAD ahead (typo) and expired cards."""
    expiry = parse_expiry(text)
    if (expiry.year, expiry.month) > (today.year + MAX_YEARS_AHEAD, today.month):
        raise InvalidExpiry(f"expiry date is more than {MAX_YEARS_AHEAD} years ahead")
    if expiry.is_expired(today):
        raise CardExpired(f"card expired {expiry}")
    return expiry


def validate_cvv(text: str | SecretStr, brand: Brand) -> SecretStr:
    """Exactly `brand.cvv_length` ASCII digits; the code is never echoed."""
    value = _reveal(text).strip()
    if not re.fullmatch(f"[0-9]{{{brand.cvv_length}}}", value):
        raise InvalidCvv(f"{brand.display} cards have a {brand.cvv_length}-digit security code")
    return SecretStr(value)


def check_card(card: CardInput, today: date) -> CheckedCard:
    """All checks in order: number, expiry, CVV. The first failure raises."""
    pan = validate_pan(card.pan)
    expiry = validate_expiry(card.expiry, today)
    cvv = validate_cvv(card.cvv, pan.brand)
    return CheckedCard(
        **{name: getattr(pan, name) for name in CheckedPan.model_fields}, expiry=expiry, cvv=cvv
    )
