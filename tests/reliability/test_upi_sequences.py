"""Property: random sequences of UPI payments (QR, intent, collect), payers paying with
every test VPA and wrong PINs, clock advances, refreshes and polls, cancels, refunds and
restarts (the runtime closed and opened again on the same data dir) keep the UPI books
balanced (payer debits = payee credits + reversals, refunds the other way), lose no
acknowledged payment, and once every timer has run leave nothing pending, every paid
payment's money at the merchant and the day reconciled with the switch's file."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import MANAGER, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.errors import BankRefused, InputError
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import NotAllowed, Payment, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, UpiSettings, load_settings
from gateway_core.settlement import Settlement
from gateway_core.upi_api import TEST_PIN, TEST_VPAS

IST = timezone(timedelta(hours=5, minutes=30), "IST")
FINAL = {"succeeded", "declined", "expired", "canceled"}
ACKNOWLEDGED = FINAL | {"pending", "unknown"}

which = st.integers(min_value=0, max_value=1_000)  # an earlier payment, modulo how many
operations = st.one_of(
    st.tuples(
        st.just("charge"),
        st.sampled_from(["qr", "qr", "intent", "collect"]),
        st.integers(1_00, 3_000_00),
        st.sampled_from(sorted(TEST_VPAS)),  # a collect's payer
    ),
    st.tuples(st.just("pay"), which, st.sampled_from(sorted(TEST_VPAS)), st.booleans()),
    st.tuples(st.just("advance"), st.sampled_from([5, 30, 90, 120, 210, 400]), st.none()),
    st.tuples(st.just("refresh"), which, st.none()),
    st.tuples(st.just("poll"), st.none(), st.none()),
    st.tuples(st.just("cancel"), which, st.none()),
    st.tuples(st.just("refund"), which, st.integers(1, 100)),
    st.tuples(st.just("restart"), st.none(), st.none()),
)


def upi_settings(data_dir: Path) -> Settings:
    return load_settings(
        data_dir=data_dir, timezone="Asia/Kolkata", upi=UpiSettings(collect_enabled=True)
    )


class World:
    def __init__(self, data_dir: Path) -> None:
        self.settings = upi_settings(data_dir)
        self.clock = FixedClock(datetime(2026, 11, 28, 10, 0, tzinfo=IST))
        self.rt: Runtime = open_runtime(self.settings, clock=self.clock)
        self.acknowledged: list[str] = []  # every payment id a charge returned

    async def restart(self) -> None:
        await self.rt.aclose()
        self.rt = open_runtime(self.settings, clock=self.clock)

    def pick(self, index: int) -> Payment | None:
        if not self.acknowledged:
            return None
        return self.rt.gateway.get(self.acknowledged[index % len(self.acknowledged)])

    async def apply(self, op: tuple) -> None:
        kind, first, second, *more = op
        gw = self.rt.gateway
        if kind == "charge":
            upi = UpiInput(flow=first, vpa=more[0] if first == "collect" else None)
            req = ChargeRequest(amount=second, currency="INR", method="upi", upi=upi)
            payment = await gw.charge(req)
            assert payment.status in ("pending", "declined"), payment
            self.acknowledged.append(payment.id)
        elif kind == "advance":
            self.clock.advance(seconds=first)
        elif kind == "poll":
            await gw.poll()
        elif kind == "restart":
            await self.restart()
        elif (payment := self.pick(first)) is None:
            return
        elif kind == "pay":
            await self.pay(payment, second, TEST_PIN if more[0] else "0000")
        elif kind == "refresh":
            assert (await gw.refresh(payment.id)).id == payment.id
        elif kind == "cancel":
            try:
                assert (await gw.cancel(payment.id)).status in FINAL
            except NotAllowed:
                assert payment.status != "pending" or gw.get(payment.id).status != "pending"
        elif kind == "refund":
            amount = max(1, payment.refundable * second // 100)
            try:
                await gw.refund(payment.id, amount, approval=MANAGER)
            except NotAllowed:
                assert payment.status != "succeeded" or payment.refundable == 0

    async def pay(self, payment: Payment, vpa: str, pin: str) -> None:
        """The payer pays the link, or the collect request if it is theirs: a closed
        one is refused (4xx) or answered EXPIRED, as the switch decides."""
        upi = payment.upi
        try:
            if upi.flow == "collect":
                if upi.txn_id and upi.payer_vpa == vpa:
                    await self.rt.payer.pay(vpa, pin, request_id=upi.txn_id)
            elif upi.link:
                await self.rt.payer.pay(vpa, pin, link=upi.link)
        except BankRefused:  # closed at the switch (the gateway may not know it yet)
            return

    async def check(self) -> None:
        books = await self.rt.payer.ledger_check()
        assert books.ok, books.problem
        for payment_id in self.acknowledged:  # never lost, always a known state
            stored = self.rt.gateway.get(payment_id)
            assert stored.status in ACKNOWLEDGED and stored.method == "upi"
            assert 0 <= stored.amount_refunded <= stored.amount_captured <= stored.amount
            if stored.status == "pending":
                assert stored.upi.next_check_at is not None

    async def settle_everything(self) -> None:
        """Every timer run: nothing pending, the books and the day reconciled."""
        for _ in range(4):
            self.clock.advance(seconds=400)
            await self.rt.gateway.poll()
        await self.check()
        payments = [self.rt.gateway.get(p) for p in self.acknowledged]
        assert all(p.status in FINAL for p in payments), [p.status for p in payments]
        books = await self.rt.payer.ledger_check()
        kept = sum(p.amount_captured - p.amount_refunded for p in payments)
        assert books.credits - books.refunds == kept
        svc = Settlement(self.rt.records, self.rt.settings, clock=self.clock)
        for day in sorted({svc.today(), datetime(2026, 11, 28).date()}):
            rec = await svc.reconcile(day, self.rt.gateway.bank, self.rt.gateway.upi)
            assert rec.ok, rec.document()


async def run(data_dir: Path, program: list[tuple]) -> None:
    world = World(data_dir)
    try:
        for op in program:
            try:
                await world.apply(op)
            except InputError as exc:  # a refusal is one line; nothing else may escape
                assert "\n" not in str(exc)
                raise
            await world.check()
        await world.settle_everything()
    finally:
        await world.rt.aclose()


@settings(max_examples=20, deadline=None)
@given(program=st.lists(operations, min_size=1, max_size=30))
def test_upi_sequences_keep_the_books_and_every_payment(
    tmp_path_factory: pytest.TempPathFactory, program: list[tuple]
) -> None:
    asyncio.run(run(tmp_path_factory.mktemp("upi") / "data", program))
