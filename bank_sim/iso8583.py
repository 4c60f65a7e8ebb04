"""ISO 8583 frames between the simulated banks (acquirer → card network → issuer).

Each hop encodes a message to real ISO 8583 bytes with pyiso8583 and the next hop
decodes it again, so what the terminal's inspector shows is what crossed the wire.

Wire format: ISO 8583:1987 field layout, plain ASCII, 4-byte MTI, hex-text primary
bitmap and (when any field 65-128 is present) secondary bitmap, exactly as pyiso8583's
`default_ascii` spec lays them out. A message is a `dict[str, str]` keyed like pyiso8583:
"t" for the MTI and "2" .. "128" for the data elements; bitmaps are derived, never
passed in or returned.

Supported messages: 0100/0110 authorization, 0200/0210 financial (refunds, processing
code 200000), 0220/0230 completion advice (capture), 0400/0410 reversal.

Field 48 (additional data, private) carries `KEY=value` items joined by ";", e.g.
"CVV=123" on a 0100 or "AUTH=<value>" after a passed OTP challenge; build and read it
with `with_private_data` and `private_data`.

Speed: a well-formed message is encoded and read by this module's own codec for the
`SPEC` layout (every field ASCII, fixed or with an ASCII length prefix: what
pyiso8583 writes, byte for byte, tests/unit/test_iso8583.py checks both against each
other); pyiso8583 reads what that codec refuses, to name what is wrong with it.

Card data rules: no `FrameError` message ever contains a field's value (only the field
number and name, and what is wrong), so a PAN or CVV can never leak through an error.
`masked` and `describe` give the copy that may be stored and shown.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

import iso8583
from iso8583.specs import default_ascii

from gateway_core.acquirer_api import (
    FIELD_NAMES,
    PRIVATE_ITEM_KEY,
    field_order,
    private_items,
)
from gateway_core.acquirer_api import describe_fields as describe
from gateway_core.acquirer_api import mask_fields as masked
from gateway_core.currencies import CURRENCY_NUMERIC
from gateway_core.errors import InputError

__all__ = [
    "CURRENCY_ALPHA",
    "CURRENCY_NUMERIC",
    "FIELD_NAMES",
    "MTIS",
    "PROCESSING_PURCHASE",
    "PROCESSING_REFUND",
    "RESPONSE_MTI",
    "SPEC",
    "FrameError",
    "amount_field",
    "decode",
    "describe",
    "encode",
    "masked",
    "new_rrn",
    "new_stan",
    "original_data",
    "parse_original_data",
    "private_data",
    "response_for",
    "timestamps",
    "transmission_time",
    "with_private_data",
]


class FrameError(InputError):
    """An ISO 8583 message that cannot be built or read. The message names a field, never
    its contents."""


# ------------------------------------------------------------------------------ spec
SPEC: Final[dict[str, dict[str, Any]]] = copy.deepcopy(default_ascii)
"""pyiso8583 spec: `default_ascii` (ASCII data, hex-text bitmaps) with readable names."""

for _key, _name in FIELD_NAMES.items():
    SPEC[_key]["desc"] = _name

PROCESSING_PURCHASE: Final = "000000"
PROCESSING_REFUND: Final = "200000"

RESPONSE_MTI: Final[dict[str, str]] = {
    "0100": "0110",
    "0200": "0210",
    "0220": "0230",
    "0400": "0410",
}
"""Request MTI → response MTI."""

MTIS: Final[frozenset[str]] = frozenset(RESPONSE_MTI) | frozenset(RESPONSE_MTI.values())
"""Every MTI `encode` and `decode` accept."""

CURRENCY_ALPHA: Final[dict[str, str]] = {num: alpha for alpha, num in CURRENCY_NUMERIC.items()}
"""ISO 4217 numeric code (field 49) → alphabetic code."""

_ECHOED = ("3", "4", "7", "11", "12", "13", "37", "41", "42", "49")
_PADDED = frozenset({"41", "42"})  # fixed ans fields: right-padded with spaces on the wire
_ORIGINAL_PARTS = (("t", 4), ("11", 6), ("7", 10), ("32", 11), ("33", 11))

_CLASSES = {
    "n": re.compile(r"[0-9]*"),
    "an": re.compile(r"[A-Za-z0-9 ]*"),
    "ans": re.compile(r"[\x20-\x7e]*"),
}
_KIND_TEXT = {"n": "digits", "an": "letters, digits or spaces", "ans": "printable ASCII"}

# Content rules of the fields the simulator uses: (class, min length, max length).
# Fixed fields have min == max == the spec's length. Other spec fields are ans.
_FORMATS: dict[str, tuple[str, int, int]] = {
    "2": ("n", 12, 19),
    "3": ("n", 6, 6),
    "4": ("n", 12, 12),
    "7": ("n", 10, 10),
    "11": ("n", 6, 6),
    "12": ("n", 6, 6),
    "13": ("n", 4, 4),
    "14": ("n", 4, 4),
    "22": ("n", 3, 3),
    "25": ("n", 2, 2),
    "32": ("n", 1, 11),
    "33": ("n", 1, 11),
    "37": ("an", 12, 12),
    "38": ("an", 6, 6),
    "39": ("an", 2, 2),
    "41": ("ans", 1, 8),
    "42": ("ans", 1, 15),
    "48": ("ans", 1, 999),
    "49": ("n", 3, 3),
    "90": ("n", 42, 42),
}

# Calendar sanity of date/time fields, as (start, end, low, high) slices of the value.
_CALENDAR: dict[str, tuple[tuple[int, int, int, int], ...]] = {
    "7": ((0, 2, 1, 12), (2, 4, 1, 31), (4, 6, 0, 23), (6, 8, 0, 59), (8, 10, 0, 59)),
    "12": ((0, 2, 0, 23), (2, 4, 0, 59), (4, 6, 0, 59)),
    "13": ((0, 2, 1, 12), (2, 4, 1, 31)),
    "14": ((2, 4, 1, 12),),
}

_FIELD_KEYS = frozenset(k for k in SPEC if k.isdigit() and 2 <= int(k) <= 128 and k != "65")


def _label(key: str) -> str:
    if key == "t":
        return "message type"
    name = FIELD_NAMES.get(key) or SPEC.get(key, {}).get("desc")
    return f"field {key} ({name})" if name else f"field {key}"


def _format(key: str) -> tuple[str, int, int]:
    if key in _FORMATS:
        return _FORMATS[key]
    spec = SPEC[key]
    low = spec["max_len"] if spec["len_type"] == 0 else 1
    return ("ans", low, spec["max_len"])


_RULES = {key: _format(key) for key in _FIELD_KEYS | {"32", "33"}}


# One pattern per field that is neither padded nor a date: its class and its lengths.
_WHOLE = {
    key: re.compile(f"{_CLASSES[kind].pattern[:-1]}{{{low},{high}}}")
    for key, (kind, low, high) in _RULES.items()
    if key not in _PADDED
}


def _check_field(key: str, value: object) -> str:
    """The wire text of one field, or FrameError naming what is wrong (never the value):
    one match of the field's whole pattern (and its calendar), the rules one by one only
    for a padded field or one that does not match, to say what is wrong."""
    whole = _WHOLE.get(key)
    if whole is None or not isinstance(value, str) or not whole.fullmatch(value):
        return _check_each_rule(key, value)
    for start, end, lo, hi in _CALENDAR.get(key, ()):
        if not lo <= int(value[start:end]) <= hi:
            raise FrameError(f"{_label(key)} is not a valid date or time")
    return value


def _check_each_rule(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise FrameError(f"{_label(key)} must be text")
    kind, low, high = _RULES[key]
    if key in _PADDED:
        if not value.strip(" "):
            raise FrameError(f"{_label(key)} is blank")
        if len(value) > high:
            raise FrameError(f"{_label(key)} is longer than {high} characters")
        value = value.ljust(high)
    if not _CLASSES[kind].fullmatch(value):
        raise FrameError(f"{_label(key)} must be {_KIND_TEXT[kind]}")
    if low == high and len(value) != high:
        raise FrameError(f"{_label(key)} must be exactly {high} characters")
    if len(value) > high:
        raise FrameError(f"{_label(key)} is longer than {high} characters")
    if len(value) < low:
        raise FrameError(
            f"{_label(key)} is empty" if low == 1 else f"{_label(key)} is shorter than {low}"
        )
    if key in _CALENDAR:
        for start, end, lo, hi in _CALENDAR[key]:
            if not lo <= int(value[start:end]) <= hi:
                raise FrameError(f"{_label(key)} is not a valid date or time")
    return value


def _check_mti(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}", value):
        raise FrameError("message type must be 4 digits")
    if value not in MTIS:
        raise FrameError("message type is not supported by this network")
    return value


def _wire_doc(fields: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(fields, Mapping):
        raise FrameError("a message must be a mapping of field ids to text")
    if "t" not in fields:
        raise FrameError("message type (field t) is missing")
    doc = {"t": _check_mti(fields["t"])}
    for key, value in fields.items():
        if key in ("t", "p", "1"):  # bitmaps are derived from the fields present
            continue
        if not isinstance(key, str) or key not in _FIELD_KEYS:
            raise FrameError("a message may hold only fields 2 to 128 (bitmaps are derived)")
        doc[key] = _check_field(key, value)
    return doc


def _sorted(fields: Mapping[str, str]) -> dict[str, str]:
    return {k: fields[k] for k in sorted(fields, key=field_order)}


# ------------------------------------------------------------------------ wire format
def encode(fields: Mapping[str, str]) -> bytes:
    """ISO 8583 bytes of a message given as {"t": MTI, "2": ..., ...}.

    Fields 41 and 42 may be shorter than their fixed width: they are right-padded with
    spaces on the wire (and `decode` strips the padding). Raises `FrameError`, naming
    the field but never its contents, on a missing or unsupported MTI, an unknown field,
    or a value of the wrong length or characters.
    """
    return _pack(_wire_doc(fields))


# Per field: the digits of its length prefix (0: fixed width), from SPEC.
_PREFIX = {k: SPEC[k]["len_type"] for k in _FIELD_KEYS}


def _pack(doc: dict[str, str]) -> bytes:
    """The bytes of a checked message (`_wire_doc`), laid out as pyiso8583 lays `SPEC`."""
    numbers = sorted(int(k) for k in doc if k != "t")
    bitmap = 1 << 127 if numbers and numbers[-1] > 64 else 0  # bit 1: secondary bitmap
    parts = [doc["t"], ""]
    for number in numbers:
        bitmap |= 1 << (128 - number)
        value = doc[str(number)]
        digits = _PREFIX[str(number)]
        parts.append(f"{len(value):0{digits}d}{value}" if digits else value)
    parts[1] = f"{bitmap:032X}" if bitmap >> 127 else f"{bitmap >> 64:016X}"
    return "".join(parts).encode("ascii")


def _unpack(frame: bytes) -> dict[str, str] | None:
    """The fields of `frame` as `decode` returns them, or None when it is not exactly
    what `encode` makes of them (then pyiso8583 reads it, to say what is wrong)."""
    try:
        text = frame.decode("ascii")
        bitmap = int(text[4:20], 16)
        end = 20
        if bitmap >> 63:
            bitmap = bitmap << 64 | int(text[20:36], 16)
            end = 36
        else:
            bitmap <<= 64
        fields = {"t": text[:4]}
        for number in range(2, 129):
            if not bitmap >> (128 - number) & 1:
                continue
            key = str(number)
            digits = _PREFIX[key]
            if digits:
                size, end = int(text[end : end + digits]), end + digits
            else:
                size = SPEC[key]["max_len"]
            fields[key], end = text[end : end + size], end + size
        for key in _PADDED & fields.keys():
            fields[key] = fields[key].rstrip(" ")
        return fields if encode(fields) == frame else None
    except (ValueError, KeyError, FrameError):
        return None


_DECODE_REASONS = (
    ("Extra data", "extra bytes after the last field"),
    ("Field length is", "frame ends inside a length prefix"),
    ("Failed to decode field length", "bad length prefix"),
    ("larger than maximum", "length prefix exceeds the maximum"),
    ("Field data is", "frame ends inside the field"),
    ("non-hex", "bitmap is not hexadecimal"),
    ("invalid data", "bytes are not ASCII"),
)


def decode(frame: bytes) -> dict[str, str]:
    """The fields of ISO 8583 bytes, {"t": MTI, "2": ..., ...}, without the bitmaps.

    Strict: every field must meet the same rules as `encode`, and the frame must be
    exactly what `encode` would produce for the result (canonical length prefixes and
    bitmaps, no trailing bytes). Any other input raises `FrameError` whose message
    never echoes the frame's bytes.
    """
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise FrameError("an ISO 8583 frame must be bytes")
    frame = bytes(frame)
    fields = _unpack(frame)
    if fields is not None:
        return fields  # read in message order: "t", then the fields by number
    try:
        doc, _ = iso8583.decode(frame, SPEC)
    except iso8583.DecodeError as exc:
        reason = next((text for cue, text in _DECODE_REASONS if cue in exc.msg), "malformed")
        where = _label(exc.field) if exc.field in SPEC and exc.field not in ("p", "1") else ""
        if exc.field in ("p", "1"):
            where = "bitmap"
        raise FrameError(f"malformed frame: {where + ': ' if where else ''}{reason}") from None
    except Exception:  # e.g. a bitmap naming fields past 128, which the spec lacks
        raise FrameError("malformed frame: bitmap names fields this network does not use") from None
    doc.pop("p", None)
    doc.pop("1", None)
    for key in _PADDED & doc.keys():
        doc[key] = doc[key].rstrip(" ")
    fields = _sorted(doc)
    if encode(fields) != frame:
        raise FrameError("malformed frame: not in canonical form (bitmap or length prefix)")
    return fields


# -------------------------------------------------------------------------- messages
def response_for(request: Mapping[str, str]) -> dict[str, str]:
    """The start of the response to `request`: MTI + 10 and the echoed fields.

    Echoes 3, 4, 7, 11, 12, 13, 37, 41, 42 and 49 when the request has them; never the
    PAN, expiry or field 48. The responder adds 38, 39 (and 37 if it assigns the RRN).
    """
    mti = request.get("t") if isinstance(request, Mapping) else None
    if not isinstance(mti, str) or mti not in RESPONSE_MTI:
        raise FrameError("only a 0100, 0200, 0220 or 0400 request has a response")
    response = {"t": RESPONSE_MTI[mti]}
    response.update({k: request[k] for k in _ECHOED if k in request})
    return response


def _parse_items(text: str) -> dict[str, str]:
    items = private_items(text)
    if items is None:
        raise FrameError(f"{_label('48')} is not KEY=value items separated by ';'")
    return items


def private_data(fields: Mapping[str, str]) -> dict[str, str]:
    """The KEY=value items of field 48 ({} when absent), e.g. {"CVV": "123"}."""
    text = fields.get("48")
    if text is None:
        return {}
    if not isinstance(text, str):
        raise FrameError(f"{_label('48')} must be text")
    return _parse_items(text)


def with_private_data(fields: Mapping[str, str], **items: str | None) -> dict[str, str]:
    """A copy of `fields` with field 48 items set (key upper-cased) or, for None, removed.

    `with_private_data(req, cvv="123")` → field 48 "CVV=123"; later items are appended
    in call order. Field 48 is dropped when no item is left. Keys are letters, digits
    and "_"; values are printable ASCII without ";".
    """
    merged = private_data(fields)
    for raw_key, value in items.items():
        key = raw_key.upper()
        if not PRIVATE_ITEM_KEY.fullmatch(key):
            raise FrameError(f"{_label('48')}: item names are letters, digits and '_'")
        if value is None:
            merged.pop(key, None)
            continue
        if not isinstance(value, str) or not _CLASSES["ans"].fullmatch(value) or ";" in value:
            raise FrameError(f"{_label('48')}: item {key} must be printable ASCII without ';'")
        merged[key] = value
    result = dict(fields)
    if merged:
        result["48"] = ";".join(f"{k}={v}" for k, v in merged.items())
    else:
        result.pop("48", None)
    return result


# ---------------------------------------------------------------------------- helpers
def new_stan(counter: int) -> str:
    """Six-digit STAN of a running counter: 1 → "000001" … 999999 → "999999" → "000001"."""
    return f"{(counter - 1) % 999_999 + 1:06d}"


def new_rrn(julian_date: date, stan: str | int, hour: int) -> str:
    """12-character RRN "YDDDHHNNNNNN": last digit of the year, day of the year, hour, STAN.

    `julian_date` is the (acquirer's) business date; a datetime's date part is used.
    """
    if not 0 <= hour <= 23:
        raise FrameError("RRN hour must be 0 to 23")
    stan_text = f"{stan:06d}" if isinstance(stan, int) and stan >= 0 else str(stan)
    if not re.fullmatch(r"[0-9]{6}", stan_text):
        raise FrameError("RRN needs a 6-digit STAN")
    day = julian_date.timetuple().tm_yday
    return f"{julian_date.year % 10}{day:03d}{hour:02d}{stan_text}"


def _aware(dt: datetime) -> datetime:
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise FrameError("ISO 8583 times need a timezone-aware datetime")
    return dt


def transmission_time(dt: datetime) -> str:
    """Field 7: MMDDhhmmss in UTC."""
    return _aware(dt).astimezone(UTC).strftime("%m%d%H%M%S")


def timestamps(dt: datetime) -> dict[str, str]:
    """Fields 7 (UTC), 12 (hhmmss) and 13 (MMDD), the last two in `dt`'s own timezone."""
    dt = _aware(dt)
    return {"7": transmission_time(dt), "12": dt.strftime("%H%M%S"), "13": dt.strftime("%m%d")}


def amount_field(minor: int) -> str:
    """Field 4: an amount in minor units as 12 digits, e.g. 125050 → "000000125050"."""
    if isinstance(minor, bool) or not isinstance(minor, int) or not 0 <= minor < 10**12:
        raise FrameError(f"{_label('4')} must be 0 to 999999999999 minor units")
    return f"{minor:012d}"


def original_data(original: Mapping[str, str], acquirer_id: str = "0") -> str:
    """Field 90 of a reversal: original MTI + STAN + transmission time + acquirer id
    (11 digits, zero-filled) + forwarding institution (11 zeros): 42 digits."""
    for key in ("t", "11", "7"):
        if key not in original:
            raise FrameError(f"field 90 needs the original's {_label(key)}")
    mti = _check_mti(original["t"])
    stan = _check_field("11", original["11"])
    sent = _check_field("7", original["7"])
    acquirer = _check_field("32", acquirer_id)
    return mti + stan + sent + acquirer.zfill(11) + "0" * 11


def parse_original_data(value: str) -> dict[str, str]:
    """Field 90 split into the original's fields: {"t", "11", "7", "32", "33"}."""
    text = _check_field("90", value)
    parts: dict[str, str] = {}
    start = 0
    for key, width in _ORIGINAL_PARTS:
        parts[key] = text[start : start + width]
        start += width
    return parts
