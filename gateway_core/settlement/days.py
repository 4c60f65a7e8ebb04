"""Which business day: a day as typed (`parse_day`), and the day a payment's money moved
(`moved_on`, `DayOf`), the next one once the Z report of its date was taken."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo

from gateway_core.clock import ClosedAt, business_day_at
from gateway_core.errors import InputError
from gateway_core.settlement.models import Record

# A payment can move money only while it is open; pre-authorizations are voided after 7
# days. Earlier days are searched this far back for money that moved on a later day.
LOOKBACK_DAYS = 31
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str) -> date:
    """A business day as typed (`--date`, the API's `date`): YYYY-MM-DD only, from
    FIRST_DAY to LAST_DAY (no payment lies outside, and day arithmetic stays in range);
    anything else is an `InputError` of one line."""
    shown = text[:20]
    if not _DATE.fullmatch(text.strip()):
        raise InputError(f"a date is YYYY-MM-DD, not {shown!r}")
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{shown} is not a date on the calendar") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{day} is out of range: a business day is {FIRST_DAY} to {LAST_DAY}")
    return day


def moved_on(record: Record, tz: tzinfo | None, closed_at: ClosedAt | None = None) -> date:
    """The business day of a payment's last change (its capture, void or decline): the
    next one when it came after the Z report of its date (`business_day_at`)."""
    return business_day_at(datetime.fromisoformat(record["updated_at"]), tz, closed_at)


class DayOf:
    """`moved_on` for many records: the business day of an ISO time depends only on its
    minute and UTC offset (but in the minute a Z report was taken), so each (minute,
    offset) is converted once."""

    def __init__(self, tz: tzinfo | None, closed_at: ClosedAt | None = None) -> None:
        self._tz = tz
        self._closed_at = closed_at
        self._seen: dict[str, date] = {}

    def __call__(self, stamp: str) -> date:
        key = stamp[:16] + stamp[-6:]  # "YYYY-MM-DDTHH:MM" + "+05:30" (or "…Z")
        found = self._seen.get(key)
        if found is None:
            at = datetime.fromisoformat(stamp)
            start = at.replace(second=0, microsecond=0)
            found = business_day_at(start, self._tz, self._closed_at)
            end = start + timedelta(minutes=1, microseconds=-1)
            if business_day_at(end, self._tz, self._closed_at) != found:  # a Z in the minute
                return business_day_at(at, self._tz, self._closed_at)
            self._seen[key] = found
        return found

    def of_minute(self, minute: str) -> date | None:
        """The business day of every moment of a minute (an ISO time at its start), None
        when a Z report was taken within it (its moments may fall on two days)."""
        start = datetime.fromisoformat(minute)
        found = business_day_at(start, self._tz, self._closed_at)
        end = start + timedelta(minutes=1, microseconds=-1)
        return found if business_day_at(end, self._tz, self._closed_at) == found else None
