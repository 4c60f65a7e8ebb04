"""A stored payment read back whole: its record with the refunds filed on other days."""

from __future__ import annotations

from typing import Any

from gateway_core.payments import Payment, UnknownPayment, payment_day
from gateway_core.ports import PaymentRepository, RefundRepository


def load_payment(
    payments: PaymentRepository, payment_id: str, refunds: RefundRepository
) -> Payment:
    """A payment by id from the repositories (no bank needed: read-only commands use it)."""
    day = payment_day(payment_id)
    record = payments.get(day, payment_id) if day else None
    if record is None:
        raise UnknownPayment(f"no payment {payment_id}")
    return with_refunds(record, refunds)


def with_refunds(record: dict[str, Any], refunds: RefundRepository) -> Payment:
    """A stored payment with its refunds, which live in the days they happened on."""
    found = sorted(refunds.for_payment(record["id"]), key=lambda r: r["created_at"])
    return Payment.stored(
        {**record, "refunds": found, "amount_refunded": sum(r["amount"] for r in found)}
    )
