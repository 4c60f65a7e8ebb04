"""A payment method added in a test, touching nothing else: a fake tender registered
with a Gateway goes through the gateway, the store, the audit log and the X report."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from support import VISA, actions, charge

from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.payments import CashDetail, CashInput, NetbankingDetail, NetbankingInput, Payment
from gateway_core.ports import Opened, Refunded, Tender, TenderHost
from gateway_core.runtime import Runtime
from gateway_core.settlement import Settlement
from gateway_core.tenders.base import Refusals


class Voucher(Refusals):
    """Paid at once, or (`pending`) when an answer for the payment comes."""

    def __init__(self, method: str, *, pending: bool = False) -> None:
        self.method = method
        self.pending = pending
        self.answers: dict[str, bool] = {}  # payment id → paid?

    def check(self, req: ChargeRequest, today: date) -> None:
        return None

    def digest(self, checked: object) -> tuple[str, ...]:
        return ()

    def open(self, checked: object) -> Opened:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        detail = {
            "cash": CashDetail(tendered=0, change=0, shift_id="shf_fake"),
            "netbanking": NetbankingDetail(bank="FAKE", bank_name="Fake", expires_at=at),
        }[self.method]
        return Opened(detail={self.method: detail})

    async def authorize(
        self, host: TenderHost, payment: Payment, checked: object, *, step_up: bool
    ) -> Payment:
        return self._move(host, payment, "pending" if self.pending else "succeeded")

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        if payment.status != "pending" or payment.id not in self.answers:
            return None
        paid = self.answers.pop(payment.id)
        return self._move(host, payment, "succeeded" if paid else "declined").status

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        return Refunded(amount=amount, reference=f"V{refund_id}")

    @staticmethod
    def _move(host: TenderHost, payment: Payment, status: str) -> Payment:
        captured = payment.amount if status == "succeeded" else 0
        update = {"status": status, "amount_captured": captured, "message": status}
        with host.step(payment.id):
            payment = host.save(payment.model_copy(update=update))
            host.record(payment.operator, f"payment.{payment.status}", payment.id)
        return payment


@pytest.fixture
def gateway(runtime: Runtime, clock: FixedClock) -> Gateway:
    """A gateway that takes cards, and cash and net banking through the fake tenders."""
    tenders = {
        **runtime.gateway.tenders,
        "cash": Voucher("cash"),
        "netbanking": Voucher("netbanking", pending=True),
    }
    rt = runtime
    return Gateway(
        rt.records, rt.vault, rt.audit, rt.gateway.bank, rt.settings, clock=clock, tenders=tenders
    )


def sale(method: str, amount: int = 500_00) -> ChargeRequest:
    inputs = {
        "cash": {"cash": CashInput(tendered=amount)},
        "netbanking": {"netbanking": NetbankingInput(bank="FAKE")},
    }
    return ChargeRequest(
        amount=amount, currency="INR", method=method, operator="asha", **inputs[method]
    )


async def test_a_fake_tender_pays_through_gateway_store_and_audit(
    runtime: Runtime, gateway: Gateway
) -> None:
    assert isinstance(gateway.tenders["cash"], Tender)
    payment = await gateway.charge(sale("cash"))
    assert (payment.status, payment.method, payment.card) == ("succeeded", "cash", None)
    stored = runtime.payment(payment.id)  # read back from the store
    assert stored.model_dump(exclude={"updated_at"}) == payment.model_dump(exclude={"updated_at"})
    assert [p.id for p in gateway.list_day()] == [payment.id]
    assert actions(runtime, payment.id) == ["payment.created", "payment.succeeded"]
    assert runtime.audit.verify().bad_seq is None
    refunded = await gateway.refund(payment.id, 200_00)
    assert (refunded.amount_refunded, refunded.refunds[0].brand) == (200_00, "cash")


async def test_a_pending_payment_is_resolved_by_refresh_and_by_repair(
    runtime: Runtime, gateway: Gateway
) -> None:
    bank: Voucher = gateway.tenders["netbanking"]  # type: ignore[assignment]  # its answers
    first = await gateway.charge(sale("netbanking"))
    second = await gateway.charge(sale("netbanking", 300_00))
    assert (first.status, first.status_word) == ("pending", "pending")
    assert (await gateway.refresh(first.id)).status == "pending"  # no answer yet
    bank.answers[first.id] = True
    assert (await gateway.refresh(first.id)).status == "succeeded"
    bank.answers[second.id] = False
    assert await gateway.repair() == [f"{second.id}: declined"]
    assert runtime.payment(second.id).status == "declined"
    assert actions(runtime, first.id) == ["payment.created", "payment.pending", "payment.succeeded"]
    assert runtime.audit.verify().bad_seq is None


async def test_card_and_fake_tender_side_by_side(runtime: Runtime, gateway: Gateway) -> None:
    card = await gateway.charge(charge(VISA))
    assert (card.method, card.status, card.card.last4) == ("card", "succeeded", "4242")
    with pytest.raises(InputError, match="no shift is open on TERM0001"):
        await runtime.gateway.charge(sale("cash"))  # no fake tender there: the real one


async def test_a_fake_tender_is_in_the_x_report(runtime: Runtime, gateway: Gateway) -> None:
    await gateway.charge(sale("cash", 500_00))
    report = Settlement(runtime.records, runtime.settings, clock=runtime.clock).x_report()
    cash = [ln for ln in report.methods if ln.method == "cash" and ln.currency == "INR"]
    assert [(ln.count, ln.gross) for ln in cash] == [(1, 500_00)]
