"""What the tenders whose payments wait for the customer (UPI, net banking) share: the
status check schedule, finding the payments `Gateway.poll` names, and the name the
merchant is shown under."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway_core.payments import Payment, UnknownPayment
from gateway_core.settings import Settings


def check_due(
    created_at: datetime, expires_at: datetime, checks: int, max_checks: int, first_s: int
) -> datetime | None:
    """When status check number `checks + 1` is due (None: no check left): created +
    first_s, then the expiry, then expiry + first_s (and so on, first_s apart)."""
    if checks >= max_checks:
        return None
    first = timedelta(seconds=first_s)
    due = [created_at + first] + [expires_at + first * n for n in range(max_checks - 1)]
    return max(due[: checks + 1])


def finder(get: Callable[[str], Payment]) -> Callable[[str], Payment | None]:
    """`get`, answering None for a payment it does not know."""

    def find(payment_id: str) -> Payment | None:
        try:
            return get(payment_id)
        except UnknownPayment:
            return None

    return find


def merchant_name(settings: Settings, merchant_id: str) -> str:
    """The name a merchant is paid under: the settings' for the home merchant, else its id."""
    return settings.merchant_name if merchant_id == settings.merchant_id else merchant_id
