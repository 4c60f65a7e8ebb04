"""Time as the gateway sees it: injectable, so tests and snapshots can freeze it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time (timezone-aware)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to (tests, snapshots, demos)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        """Move forward, e.g. `advance(minutes=15)`."""
        self._now += timedelta(**delta)


def business_day(clock: Clock, tz: tzinfo | None = None) -> date:
    """The business day `now` falls on, in the merchant's timezone (local if None)."""
    return clock.now().astimezone(tz).date()
