"""Stripe's list paging over paygate's records: newest first, `limit` (1-100, default
10), `starting_after` / `ending_before` an id, `created` (a timestamp, or a hash of
gt / gte / lt / lte). A merchant's payments are read a keyset page at a time from each
business day's store (`PaymentRepository.page`), newest day first, so `starting_after`
reads only what follows; `ending_before` reads from the newest down to that id.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from itertools import islice
from typing import NamedTuple, TypeVar

from gateway_core.payments import payment_day
from gateway_core.ports import Record, Records
from gateway_core.service.stripe_errors import missing
from gateway_core.service.stripe_form import Params, invalid

T = TypeVar("T")
BATCH = 100
BOUNDS = ("gt", "gte", "lt", "lte")


class Paging(NamedTuple):
    """A list call's paging parameters."""

    limit: int
    starting_after: str | None
    ending_before: str | None
    created: tuple[int, int]  # inclusive, seconds since the epoch

    def within(self, created: int) -> bool:
        return self.created[0] <= created <= self.created[1]


def paging(params: Params) -> Paging:
    """The paging parameters of a list call (both cursors at once are refused)."""
    limit = params.amount("limit") or 10
    if limit > 100:
        raise invalid("limit", "limit: 1 to 100", "parameter_invalid_integer")
    after, before = (
        params.text("starting_after", max_len=64),
        params.text("ending_before", max_len=64),
    )
    if after and before:
        raise invalid("ending_before", "give starting_after or ending_before, not both")
    return Paging(limit, after, before, _created(params))


def _created(params: Params) -> tuple[int, int]:
    low, high = 0, 2**62
    if params.is_text("created"):
        exact = params.amount("created") or 0
        return exact, exact
    bounds = params.nested("created")
    if bounds is None:
        return low, high
    gt, gte, lt, lte = (bounds.amount(name) for name in BOUNDS)
    bounds.done()
    low = max(low, gte or 0, (gt or -1) + 1)
    high = min(high, lte if lte is not None else high, lt - 1 if lt is not None else high)
    return low, high


def window(items: Iterator[T], id_of: Callable[[T], str], page: Paging) -> tuple[list[T], bool]:
    """One page of `items` (newest first, already after `starting_after`) and whether
    more follow on its side."""
    if page.ending_before is None:
        taken = list(islice(items, page.limit + 1))
        return taken[: page.limit], len(taken) > page.limit
    newer: deque[T] = deque(maxlen=page.limit + 1)
    for item in items:
        if id_of(item) == page.ending_before:
            kept = list(newer)
            return kept[-page.limit :], len(kept) > page.limit
        newer.append(item)
    raise missing("object", page.ending_before, "ending_before")


def after(items: Iterable[T], id_of: Callable[[T], str], object_id: str | None) -> Iterator[T]:
    """`items` after the one `object_id` names (all of them for None; 404 when absent)."""
    if object_id is None:
        yield from items
        return
    found = False
    for item in items:
        if found:
            yield item
        found = found or id_of(item) == object_id
    if not found:
        raise missing("object", object_id, "starting_after")


def newest_payments(
    records: Records, merchant_id: str, start: tuple[date, str, str] | None
) -> Iterator[Record]:
    """A merchant's stored payments, newest first, after `start` (the day, created_at and
    id of a payment; None: from the newest)."""
    for day in sorted(records.days(), reverse=True):
        if start is not None and day > start[0]:
            continue
        cursor = (start[1], start[2]) if start is not None and day == start[0] else None
        while True:
            batch = records.payments.page(day, merchant_id, cursor, BATCH)
            yield from batch
            if len(batch) < BATCH:
                break
            cursor = (batch[-1]["created_at"], batch[-1]["id"])


def cursor_of(records: Records, payment_id: str) -> tuple[date, str, str] | None:
    """Where a stored payment sits in `newest_payments` (None: no such payment)."""
    day = payment_day(payment_id)
    record = records.payments.get(day, payment_id) if day else None
    return None if day is None or record is None else (day, record["created_at"], payment_id)
