"""Time as the gateway sees it: injectable, so tests and snapshots can freeze it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

ClosedAt = Callable[[date], datetime | None]  # when a business day's Z report was taken


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


def business_day(clock: Clock, tz: tzinfo | None = None, closed_at: ClosedAt | None = None) -> date:
    """The business day `now` falls on, in the merchant's timezone (local if None); with
    `closed_at`, moved on past each day closed (Z report) by then (`business_day_at`)."""
    return business_day_at(clock.now(), tz, closed_at)


def business_day_at(moment: datetime, tz: tzinfo | None, closed_at: ClosedAt | None = None) -> date:
    """The business day a moment belongs to: its date in the merchant's timezone, or,
    when it comes after that day's Z report (`closed_at(day) < moment`), the next day
    not closed by then. After Z closes day D, sales go on into D+1 without waiting for
    midnight; at midnight the date catches up. (What is stamped at the Z's very moment
    was there when the Z was taken: it stays on D.)"""
    day = moment.astimezone(tz).date()
    while closed_at is not None:
        closed = closed_at(day)
        if closed is None or closed >= moment:
            break
        day += timedelta(days=1)
    return day
