"""The UPI line of `make bench`: one payment is created (a dynamic QR, `Gateway.charge`),
paid by success@payer through the payer app (`Runtime.payer`: the switch debits, credits
and queues the signed callback) and brought up to date (`Gateway.refresh`: the callback
applied), over the embedded banks at zero latency, in the runtime that has just timed
the card sales (same data dir, same day)."""

from __future__ import annotations

import time

from gateway_core.gateway import ChargeRequest
from gateway_core.payments import Payment, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.upi_api import TEST_PIN

PAYER = "success@payer"


def upi_request() -> ChargeRequest:
    """A ₹1.00 UPI payment by dynamic QR."""
    return ChargeRequest(amount=1_00, currency="INR", method="upi", upi=UpiInput(flow="qr"))


async def one_upi_payment(rt: Runtime) -> Payment:
    """Create, pay, refresh: the payment as the terminal then shows it."""
    payment = await rt.gateway.charge(upi_request())
    if payment.upi is None or payment.upi.link is None:
        raise RuntimeError(f"a UPI payment came back without its link: {payment.message}")
    await rt.payer.pay(PAYER, TEST_PIN, link=payment.upi.link)
    return await rt.gateway.refresh(payment.id)


def unlimited_payer(rt: Runtime) -> None:
    """Lift the payer's daily count (1,000 debits) so every size's payments pass (at
    ₹1.00 a payment its ₹1,00,000.00 a day last 1,00,000)."""
    payers = rt.banks.store.main.table("upi_payers")
    payers.update({"daily_count": 10**9}, lambda doc: doc["vpa"] == PAYER)


async def timed_upi(rt: Runtime, count: int) -> list[float]:
    """Seconds per UPI payment (create + pay + status), each of which must succeed."""
    for _ in range(3):  # warm-up: first-call imports, boarding, caches
        await one_upi_payment(rt)
    unlimited_payer(rt)  # the banks have seeded their payers by now
    times = []
    for _ in range(count):
        start = time.perf_counter()
        payment = await one_upi_payment(rt)
        times.append(time.perf_counter() - start)
        if payment.status != "succeeded":
            raise RuntimeError(f"a timed UPI payment did not succeed: {payment.message}")
    return times
