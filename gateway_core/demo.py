"""Demo data: the cards a demo keys, and a day of realistic history.

`seed_demo_day(settings)` fills an empty demo data dir with a business day so far:
sales on every approving brand from 09:00 until a few minutes ago, on three
terminals, with a few declines, an OTP payment, refunds, a void and an open
pre-authorization. It runs the real gateway and banks under a clock that walks
through the day, so every record, audit event and ledger posting is genuine.
"""

from __future__ import annotations

import asyncio
import random
import re
from datetime import datetime, time, timedelta
from typing import NamedTuple

from pydantic import SecretStr

from gateway_core.access import Approval
from gateway_core.cards import CardInput
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.settings import Settings
from gateway_core.testcards import EXPIRY, TEST_CARDS, TestCard


class DemoCard(NamedTuple):
    """A test card as a cashier would key it."""

    label: str
    pan: str
    expiry: str
    cvv: str

    def as_input(self) -> CardInput:
        """The card as keyed at the terminal."""
        return CardInput(pan=SecretStr(self.pan), expiry=self.expiry, cvv=SecretStr(self.cvv))


def _keyed(card: TestCard) -> DemoCard:
    return DemoCard(card.label, card.pan, EXPIRY, card.cvv)


APPROVING: tuple[TestCard, ...] = tuple(
    c for c in TEST_CARDS if c.expect == "00" and c.fault is None and c.txn_limit > 1_000_00
)
# One approving card per brand: what a demo keys first.
DEMO_CARDS: tuple[DemoCard, ...] = tuple(
    _keyed(next(c for c in APPROVING if c.issuer == issuer))
    for issuer in ("demo", "demo-mc", "amex", "bharat", "discover", "jcb", "diners")
)
MANAGER = Approval("meera", "4321")  # the demo manager (see gateway_core.access)
TERMINALS = ("TERM0001", "TERM0002", "TERM0003")
CASHIERS = ("asha", "ravi")


def seed_demo_day(settings: Settings, *, now: datetime | None = None, seed: int = 7) -> int:
    """Write a day of history into `settings.data_dir`; returns how many payments."""
    return asyncio.run(_seed(settings, now or datetime.now().astimezone(settings.tz), seed))


async def _seed(settings: Settings, now: datetime, seed: int) -> int:
    from gateway_core.runtime import Runtime  # the runtime builds gateways: import late

    start = datetime.combine(now.date(), time(9, 0), now.tzinfo)
    if now - start < timedelta(hours=1):
        start = now - timedelta(hours=3)
    clock = FixedClock(start)
    quiet = settings.model_copy(update={"bank_latency_ms": 0.0})
    rt = Runtime.open(quiet, clock=clock)
    try:
        gw = rt.gateway
        rng = random.Random(seed)
        step = (now - timedelta(minutes=5) - start) / 40
        payments = []
        for n in range(40):
            clock.advance(seconds=step.total_seconds() * rng.uniform(0.6, 1.4))
            if clock.now() >= now:
                break
            payments.append(await _one(gw, rng, n, clock))
        return len(payments)
    finally:
        await rt.aclose()


async def _one(gw: Gateway, rng: random.Random, n: int, clock: FixedClock):
    terminal, cashier = TERMINALS[n % 3], CASHIERS[n % 2]
    story = {
        7: "decline",
        13: "otp",
        19: "refund",
        23: "decline",
        27: "void",
        31: "preauth",
        34: "refund",
        37: "decline",
    }.get(n, "sale")
    if story == "decline":
        card = rng.choice([c for c in TEST_CARDS if c.expect in ("51", "05", "N7")])
        amount = rng.randint(20_00, 400_00)
    else:
        card = APPROVING[n % len(APPROVING)]
        amount = rng.choice(
            [rng.randint(40, 900) * 100 + rng.choice([0, 50]), rng.randint(1_000, 4_800) * 100]
        )
    if story == "otp":
        amount = 6_250_00  # above the ₹5,000 step-up threshold
    keyed = _keyed(card)
    payment = await gw.charge(
        ChargeRequest(
            amount=amount,
            currency="INR",
            card=keyed.as_input(),
            terminal_id=terminal,
            operator=cashier,
            capture="manual" if story in ("void", "preauth") else "automatic",
        )
    )
    if story == "otp" and payment.status == "requires_action":
        sms = (await gw.bank.outbox())[0].text
        payment = await gw.confirm_otp(
            payment.id, re.search(r"\b\d{6}\b", sms).group(), operator=cashier
        )
    if story in ("refund", "void"):
        clock.advance(minutes=rng.randint(3, 20))
    if story == "refund" and payment.status == "succeeded":
        payment = await gw.refund(
            payment.id, payment.amount // 2, operator=cashier, approval=MANAGER
        )
    if story == "void" and payment.status == "requires_capture":
        payment = await gw.void(payment.id, operator=cashier, approval=MANAGER)
    return payment
