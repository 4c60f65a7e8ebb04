"""Times as every surface shows them: in the merchant's timezone, one form per use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from gateway_core.presentation import day_text, stamp_text, time_text, until_text

IST = timezone(timedelta(hours=5, minutes=30), "IST")
STORED = datetime(2026, 12, 6, 9, 7, 53, tzinfo=UTC)  # 14:37:53 in India


def test_a_stored_time_is_shown_in_the_merchants_timezone() -> None:
    assert time_text(STORED, IST) == "14:37:53"
    assert time_text(STORED, IST, seconds=False) == "14:37"
    assert time_text(STORED, UTC) == "09:07:53"


def test_stamps_days_and_ends() -> None:
    assert stamp_text(STORED, IST) == "2026-12-06 14:37:53"
    assert stamp_text(STORED, IST, seconds=False) == "2026-12-06 14:37"
    assert stamp_text(STORED, IST, zone=True) == "2026-12-06 14:37:53 IST"
    assert day_text(STORED, IST) == "06 Dec 2026"
    assert until_text(STORED, IST) == "06 Dec 14:37"


def test_the_day_follows_the_timezone_across_midnight() -> None:
    late = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # 01:30 the next day in India
    assert day_text(late, IST) == "07 Dec 2026"
    assert stamp_text(late, IST, seconds=False) == "2026-12-07 01:30"
