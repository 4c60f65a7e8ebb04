"""Demo data: the cards a demo keys, and a day of realistic history.

`seed_demo_day(settings)` fills an empty demo data dir with a business day so far:
sales on every approving brand from 09:00 until a few minutes ago, on three
terminals, with a few declines, an OTP payment, refunds, a void and an open
pre-authorization. It runs the real gateway and banks under a clock that walks
through the day, so every record, audit event and ledger posting is genuine.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from argon2 import PasswordHasher
from pydantic import SecretStr

from bank_sim.embedded import simulated_banks
from bank_sim.testcards import EXPIRY, ISSUERS, TEST_CARDS, TestCard
from gateway_core.acquirer_api import CaptureRequest, RefundRequest, ReversalRequest
from gateway_core.cards import CardInput, luhn_check_digit
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.ports import Approval
from gateway_core.settings import Settings
from gateway_core.store.journal import sync_deferred

if TYPE_CHECKING:
    from bank_sim.app import Banks
    from gateway_core.acquirer_api import (
        AuthorizationRequest,
        AuthorizationResponse,
        OperationResponse,
        OtpVerifyResponse,
        Sms,
    )
    from gateway_core.bank_client import BankClient
    from gateway_core.runtime import Runtime


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


# ---------------------------------------------------------------------------- seeding
# Demo history is written through the real gateway, banks and access control, under a
# clock that walks through the day: every payment is authorized by the issuers, every
# ISO 8583 frame built and parsed, every audit event chained. Three things make it quick
# without making it less real: the gateway calls the banks in this process
# (`_DirectBanks`, no HTTP), the manager's PIN is checked with argon2 once
# (`_CheckedOnce`), and each journal is fdatasynced once at the end instead of at every
# write (`sync_deferred`: a history cut short is made again with `--reset`).


class _DirectBanks:
    """The gateway's bank client for a seeding run: what a payment asks the banks goes to
    the acquirer and issuers directly, as the routes of `banks/app.py` pass it on; any
    other call goes over the embedded HTTP client `http`."""

    def __init__(self, banks: Banks, http: BankClient) -> None:
        self._banks = banks
        self._http = http

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)

    async def authorize(self, req: AuthorizationRequest) -> AuthorizationResponse:
        return await self._banks.acquirer.authorize(req)

    async def reverse(self, payment_id: str, reason: str) -> OperationResponse:
        req = ReversalRequest(payment_id=payment_id, reason=reason)
        return await self._banks.acquirer.reverse(req)

    async def capture(
        self, payment_id: str, amount: int, day: date | None = None
    ) -> OperationResponse:
        req = CaptureRequest(payment_id=payment_id, amount=amount, day=day)
        return await self._banks.acquirer.capture(req)

    async def refund(
        self, payment_id: str, refund_id: str, amount: int, day: date | None = None
    ) -> OperationResponse:
        req = RefundRequest(payment_id=payment_id, refund_id=refund_id, amount=amount, day=day)
        return await self._banks.acquirer.refund(req)

    async def verify_otp(self, challenge_id: str, otp: str) -> OtpVerifyResponse:
        return self._banks.issuers.otp.verify(challenge_id, otp)

    async def outbox(self, phone: str | None = None, merchant_id: str | None = None) -> list[Sms]:
        return self._banks.outbox.messages(phone, merchant_id=merchant_id)


class _CheckedOnce(PasswordHasher):
    """argon2 that remembers the (hash, PIN) pairs it accepted: the demo manager approves
    every refund, void and Z report of the history with one PIN, and an argon2 check
    takes 0.1 to 0.5 s."""

    def __init__(self) -> None:
        super().__init__()
        self._accepted: set[tuple[str | bytes, str | bytes]] = set()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        if (hash, password) not in self._accepted:
            super().verify(hash, password)
            self._accepted.add((hash, password))
        return True


def _seeding_runtime(settings: Settings, clock: FixedClock) -> Runtime:
    """The data dir opened for a seeding run, its gateway on banks of its own."""
    from gateway_core.runtime import Runtime  # the runtime builds gateways: import late

    quiet = settings.model_copy(update={"bank_latency_ms": 0.0, "bank_url": None})
    rt = Runtime.open(quiet, clock=clock, banks=simulated_banks)
    try:
        rt.access._hasher = _CheckedOnce()  # the Access the gateway is built with
        gateway = rt.gateway  # builds the banks
        gateway.bank = _DirectBanks(rt.banks, gateway.bank)
    except BaseException:
        rt.close()
        raise
    return rt


def seed_demo_day(settings: Settings, *, now: datetime | None = None, seed: int = 7) -> int:
    """Write a day of history into `settings.data_dir`; returns how many payments."""
    with sync_deferred():
        return asyncio.run(_seed(settings, now or datetime.now().astimezone(settings.tz), seed))


async def _seed(settings: Settings, now: datetime, seed: int) -> int:
    start = datetime.combine(now.date(), time(9, 0), now.tzinfo)
    if now - start < timedelta(hours=1):
        start = now - timedelta(hours=3)
    clock = FixedClock(start)
    rt = _seeding_runtime(settings, clock)
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


# ---------------------------------------------------------------------------- a week
# `seed_demo_history` makes several days of a busy shop: a crowd of demo cardholders
# (opened at the simulated issuers, on the BINs they own), sales from 09:00 to 21:00 with
# lunch and evening peaks, a realistic spread of brands, tickets and tips, declines that
# arise the way they do in a shop (low balances, blocked and lost cards, a mistyped CVV
# or expiry, risk rules), OTP step-up above ₹5,000, pre-authorizations captured with a
# tip or voided, refunds up to three days later, and each past day but the last closed
# with its Z report around 21:30. All through the gateway and the banks, under a clock
# that walks through the week.

# (BIN, length, issuer, funding, weight %): roughly the card mix of an Indian shop.
CROWD_PROFILES: tuple[tuple[str, int, str, str, int], ...] = (
    ("652150", 16, "bharat", "debit", 27),
    ("652150", 16, "bharat", "credit", 3),
    ("411111", 16, "demo", "debit", 20),
    ("424242", 16, "demo", "credit", 14),
    ("222300", 16, "demo-mc", "debit", 12),
    ("555555", 16, "demo-mc", "credit", 12),
    ("378282", 15, "amex", "credit", 5),
    ("305693", 14, "diners", "credit", 3),
    ("601111", 16, "discover", "credit", 2),
    ("353011", 16, "jcb", "credit", 2),
)
# Share of the day's payments in each hour from 09:00 to 20:00.
HOUR_WEIGHTS = (2, 4, 6, 9, 10, 7, 5, 5, 7, 10, 12, 9)
# (lowest, highest) ticket in rupees, and weight: most are small, a few above ₹5,000.
TICKET_BANDS = (
    (20, 150, 30),
    (150, 600, 35),
    (600, 2_000, 21),
    (2_000, 5_000, 10),
    (5_000, 25_000, 4),
)
DECLINING = tuple(
    c for c in TEST_CARDS if c.expect in ("05", "41", "43", "51", "61", "65") and not c.fault
)


@dataclass
class SeedSummary:
    """What `seed_demo_history` made."""

    days: list[date] = field(default_factory=list)
    payments: int = 0
    declined: int = 0
    otp: int = 0
    refunds: int = 0
    voids: int = 0
    closed: list[tuple[date, int]] = field(default_factory=list)  # (day, Z number)


def seed_demo_history(
    settings: Settings,
    *,
    days: int = 7,
    per_day: int = 500,
    now: datetime | None = None,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> SeedSummary:
    """Write `days` business days (today so far included) of about `per_day` payments
    each into `settings.data_dir`, closing every past day but the last (or the only one)."""
    if days < 1 or per_day < 1:
        raise ValueError("days and per_day must be at least 1")
    now = now or datetime.now().astimezone(settings.tz)
    history = _History(settings, now, random.Random(seed), progress or (lambda line: None))
    with sync_deferred():
        return asyncio.run(history.run(days, per_day))


class _Shopper(NamedTuple):
    card: DemoCard
    phone: str


class _History:
    def __init__(self, settings: Settings, now: datetime, rng: random.Random, progress) -> None:
        self.settings = settings
        self.now = now
        self.rng = rng
        self.progress = progress
        self.summary = SeedSummary()
        self.pending: list[tuple[datetime, int, str, str, int]] = []  # a heap of actions
        self.count = 0

    async def run(self, days: int, per_day: int) -> SeedSummary:
        from gateway_core.settlement import Settlement

        tz = self.now.tzinfo
        first = self.now.date() - timedelta(days=days - 1)
        self.clock = FixedClock(datetime.combine(first, time(8, 0), tz))
        rt = _seeding_runtime(self.settings, self.clock)
        try:
            self.gw = rt.gateway
            self.crowd = self._open_crowd(rt, max(40, per_day // 2))
            settlement = Settlement(rt.records, rt.settings, audit=rt.audit, clock=self.clock)
            past = [first + timedelta(days=n) for n in range(days - 1)]
            to_close = set(past[:-1] or past)
            for n in range(days):
                day = first + timedelta(days=n)
                made = await self._day(day, per_day, tz)
                note = f"{day:%a %Y-%m-%d}: {made} payments"
                if day in to_close:
                    self._walk_to(datetime.combine(day, time(21, 30), tz))
                    self.clock.advance(minutes=self.rng.randint(0, 25))
                    rt.access.approve(
                        MANAGER.user_id,
                        MANAGER.pin,
                        action="close_day",
                        subject=day.isoformat(),
                        operator=MANAGER.user_id,
                    )
                    z, _ = settlement.close_day(day, closed_by=MANAGER.user_id)
                    self.summary.closed.append((day, z.number))
                    note += f", closed with Z report {z.number}"
                self.summary.days.append(day)
                self.progress(note)
            return self.summary
        finally:
            await rt.aclose()

    # -- the crowd ---------------------------------------------------------------------
    def _open_crowd(self, rt, size: int) -> list[_Shopper]:
        """Cardholder accounts at the simulated issuers, on the BINs they own."""
        issuers = rt.banks.issuers
        issuer_country = {i.id: i.country for i in ISSUERS}
        known = {c.digits for c in TEST_CARDS}
        weights = [p[4] for p in CROWD_PROFILES]
        crowd = []
        with rt.banks.store.main.journal.atomic():
            for n in range(size):
                bin6, length, issuer, funding, _w = self.rng.choices(CROWD_PROFILES, weights)[0]
                while True:
                    body = bin6 + "".join(str(self.rng.randint(0, 9)) for _ in range(length - 7))
                    pan = body + luhn_check_digit(body)
                    if pan not in known:
                        known.add(pan)
                        break
                label = "Amex" if issuer == "amex" else issuer
                roll = self.rng.random()
                card = TestCard(
                    pan,
                    label,
                    "demo shopper",
                    "00",
                    issuer,
                    funding,
                    balance=self.rng.choice([30_000_00, 50_000_00, 1_00_000_00, 3_00_000_00])
                    if roll >= 0.04
                    else self.rng.randint(300, 2_000) * 100,  # runs out: 51
                    status="blocked"
                    if 0.04 <= roll < 0.05
                    else "lost"
                    if roll > 0.996
                    else "active",
                    txn_limit=2_000_00 if 0.05 <= roll < 0.07 else 2_00_000_00,  # 61
                    phone=f"+9198{70000000 + n:08d}",
                    country=issuer_country[issuer],
                )
                if issuers.account_for(pan) is None:
                    issuers._open(f"acct_crowd_{n:05d}", card)
                crowd.append(_Shopper(_keyed(card), card.phone))
        return crowd

    # -- one day -----------------------------------------------------------------------
    def _walk_to(self, moment: datetime) -> None:
        if moment > self.clock.now():
            self.clock.advance(seconds=(moment - self.clock.now()).total_seconds())

    async def _run_due(self, until: datetime) -> None:
        while self.pending and self.pending[0][0] <= until:
            when, _n, action, payment_id, amount = heapq.heappop(self.pending)
            self._walk_to(when)
            await self._act(action, payment_id, amount)

    def _later(self, when: datetime, action: str, payment_id: str, amount: int = 0) -> None:
        self.count += 1
        heapq.heappush(self.pending, (when, self.count, action, payment_id, amount))

    async def _day(self, day: date, per_day: int, tz) -> int:
        opening = datetime.combine(day, time(9, 0), tz)
        times = sorted(
            opening
            + timedelta(
                hours=self.rng.choices(range(len(HOUR_WEIGHTS)), HOUR_WEIGHTS)[0],
                seconds=self.rng.randrange(3600),
            )
            for _ in range(per_day)
        )
        cutoff = self.now - timedelta(minutes=5)
        made = 0
        for moment in times:
            if moment >= cutoff:
                break
            await self._run_due(moment)
            self._walk_to(moment)
            await self._sale(day, tz)
            made += 1
        end = min(datetime.combine(day, time(21, 29), tz), cutoff)
        await self._run_due(end)
        return made

    # -- one payment -------------------------------------------------------------------
    def _ticket(self) -> int:
        low, high, _w = self.rng.choices(TICKET_BANDS, [b[2] for b in TICKET_BANDS])[0]
        return self.rng.randint(low, high) * 100 + self.rng.choice((0, 0, 0, 50))

    async def _sale(self, day: date, tz) -> None:
        rng, s = self.rng, self.summary
        shopper = rng.choice(self.crowd)
        card, phone = shopper.card, shopper.phone
        bill = self._ticket()
        tip = bill * rng.choice((5, 10, 10, 15)) // 10_000 * 100 if rng.random() < 0.12 else 0
        roll = rng.random()
        manual = roll < 0.035
        if 0.035 <= roll < 0.047:  # the cashier mistypes the CVV: N7
            card = card._replace(cvv="9" * len(card.cvv))
        elif 0.047 <= roll < 0.051:  # or the expiry: the issuer answers 54
            card = card._replace(expiry="11/29")
        elif 0.051 <= roll < 0.057:  # a card in trouble
            card, phone = _keyed(rng.choice(DECLINING)), "+919800000001"
        amount = bill + (bill // 5 if manual else tip)  # a pre-auth holds 20 % more
        payment = await self.gw.charge(
            ChargeRequest(
                amount=amount,
                tip=0 if manual else tip,
                currency="INR",
                card=card.as_input(),
                terminal_id=rng.choice(TERMINALS),
                operator=rng.choice(CASHIERS),
                capture="manual" if manual else "automatic",
            )
        )
        s.payments += 1
        if payment.status == "requires_action":
            s.otp += 1
            payment = await self._otp(payment, phone)
        if payment.status == "declined":
            s.declined += 1
        now = self.clock.now()
        if payment.status == "requires_capture":
            close = datetime.combine(day, time(21, 25), tz)
            when = min(now + timedelta(minutes=rng.randint(15, 120)), close)
            if rng.random() < 0.2:
                self._later(when, "void", payment.id)
            else:
                self._later(when, "capture", payment.id, bill + min(tip or bill // 10, bill // 5))
        elif payment.status == "succeeded" and rng.random() < 0.025:
            later = rng.choice((0, 0, 1, 1, 2, 3))
            when = datetime.combine(day + timedelta(days=later), time(10, 0), tz) + timedelta(
                minutes=rng.randint(0, 600)
            )
            when = max(when, now + timedelta(minutes=10))
            part = payment.amount_captured if rng.random() < 0.5 else payment.amount_captured // 2
            self._later(when, "refund", payment.id, part)

    async def _otp(self, payment, phone: str):
        # newest first; `outbox(phone)` would put the "+" of the number in a query string
        messages = [m for m in await self.gw.bank.outbox() if m.phone == phone]
        code = re.search(r"\b\d{6}\b", messages[0].text).group() if messages else "000000"
        if self.rng.random() < 0.08:  # the shopper cannot find the code: three wrong tries
            wrong = "111111" if code != "111111" else "222222"
            for _ in range(3):
                try:
                    payment = await self.gw.confirm_otp(payment.id, wrong)
                except InputError:
                    continue
            return self.gw.get(payment.id)
        self.clock.advance(seconds=self.rng.randint(15, 60))
        return await self.gw.confirm_otp(payment.id, code)

    async def _act(self, action: str, payment_id: str, amount: int) -> None:
        try:
            if action == "capture":
                paid = self.gw.get(payment_id)
                await self.gw.capture(payment_id, min(amount, paid.amount), operator="asha")
            elif action == "void":
                await self.gw.void(payment_id, operator="asha", approval=MANAGER)
                self.summary.voids += 1
            else:
                await self.gw.refund(payment_id, amount, operator="ravi", approval=MANAGER)
                self.summary.refunds += 1
        except InputError:  # e.g. refunded already: a demo goes on
            pass
