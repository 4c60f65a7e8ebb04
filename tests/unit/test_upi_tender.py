"""The UPI tender against an in-memory PSP (`upi_fake.FakePsp`): creation, callbacks,
the status check schedule, giving up, cancel, late credit, refunds, input checks,
idempotency, poll and risk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import MANAGER, VISA, actions, charge, open_runtime
from upi_fake import FakePsp

from gateway_core.clock import FixedClock
from gateway_core.errors import BankUnavailable, InputError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.payments import IdempotencyConflict, NotAllowed, UpiInput
from gateway_core.ports import Tender, UpiPsp
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, UpiSettings
from gateway_core.store.state import TinyRiskRepository
from gateway_core.tenders.upi import UpiTender
from gateway_core.upi_api import MAX_UPI_AMOUNT
from gateway_core.upi_link import parse_link


@pytest.fixture
def psp(clock: FixedClock) -> FakePsp:
    return FakePsp(clock)


@pytest.fixture
def gw(runtime: Runtime, psp: FakePsp) -> Gateway:
    gateway = runtime.gateway
    gateway.upi = psp
    return gateway


def upi(amount: int = 250_00, flow: str = "qr", **kw) -> ChargeRequest:
    vpa = kw.pop("vpa", None)
    note = kw.pop("note", "")
    currency = kw.pop("currency", "INR")
    return ChargeRequest(
        amount=amount,
        currency=currency,
        method="upi",
        upi=UpiInput(flow=flow, vpa=vpa, note=note),
        operator="asha",
        **kw,
    )


async def test_the_tender_and_the_fake_satisfy_their_ports(gw: Gateway, psp: FakePsp) -> None:
    assert isinstance(gw.tenders["upi"], UpiTender)
    assert isinstance(gw.tenders["upi"], Tender)
    assert isinstance(psp, UpiPsp)


async def test_a_qr_payment_is_pending_with_its_link_and_first_check(
    gw: Gateway, psp: FakePsp, runtime: Runtime, clock: FixedClock
) -> None:
    payment = await gw.charge(upi(note="Table 4"))
    now = clock.now()
    assert (payment.status, payment.method, payment.upi.flow) == ("pending", "upi", "qr")
    assert payment.upi.txn_id == psp.txn(payment.id).txn_id
    assert payment.upi.expires_at == now + timedelta(seconds=300)
    assert payment.upi.next_check_at == now + timedelta(seconds=90)
    assert payment.upi.payee_vpa == "demostore@pgbank"
    link = parse_link(payment.upi.link)
    assert (link.payee_vpa, link.amount, link.reference, link.note) == (
        "demostore@pgbank",
        250_00,
        payment.id,
        "Table 4",
    )
    action = payment.next_action
    assert (action.type, action.link, action.expires_at) == (
        "upi_qr",
        payment.upi.link,
        payment.upi.expires_at,
    )
    assert actions(runtime, payment.id) == ["payment.created", "payment.pending"]
    assert runtime.payment(payment.id).upi == payment.upi
    await gw.charge(upi())
    assert psp.calls.count("board") == 1  # once per process


async def test_the_callback_secret_is_derived_and_never_stored(
    gw: Gateway, psp: FakePsp, runtime: Runtime, settings: Settings
) -> None:
    await gw.charge(upi())
    secret = psp.secrets[settings.merchant_id]
    assert secret == runtime.vault.keyed_digests(f"upi-callback|{settings.merchant_id}")[0]
    runtime.store.close()
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


async def test_a_signed_callback_settles_the_payment(
    gw: Gateway, psp: FakePsp, runtime: Runtime
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "SUCCESS", "00", payer="rahul@okbank", callback=True)
    paid = await gw.refresh(payment.id)
    assert (paid.status, paid.response_code, paid.amount_captured) == ("succeeded", "00", 250_00)
    assert paid.rrn and paid.upi.payer_vpa == "rahul@okbank"
    assert paid.upi.next_check_at is None and paid.next_action is None
    assert psp.acked == [psp.queue[0].id]
    assert actions(runtime, payment.id)[-2:] == ["upi.callback", "payment.succeeded"]
    assert await gw.refresh(payment.id) == paid  # nothing more to apply
    assert runtime.audit.verify().bad_seq is None


async def test_a_forged_callback_is_refused_and_changes_nothing(
    gw: Gateway, psp: FakePsp, runtime: Runtime
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "SUCCESS", "00", payer="rahul@okbank", callback=True, forged=True)
    assert (await gw.refresh(payment.id)).status == "pending"
    assert actions(runtime, payment.id)[-1] == "upi.callback_refused"
    assert psp.acked == [psp.queue[0].id]  # not sent again
    assert (await gw.refresh(payment.id)).status == "pending"
    assert actions(runtime, payment.id).count("upi.callback_refused") == 1


@pytest.mark.parametrize(
    ("code", "decline_code"),
    [("Z9", "insufficient_funds"), ("ZM", "incorrect_pin"), ("ZA", "payer_declined")],
)
async def test_a_failure_callback_declines_with_the_code(
    gw: Gateway, psp: FakePsp, code: str, decline_code: str
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "FAILURE", code, payer="someone@payer", callback=True)
    declined = await gw.refresh(payment.id)
    assert (declined.status, declined.response_code, declined.decline_code) == (
        "declined",
        code,
        decline_code,
    )


async def test_the_status_checks_follow_the_schedule(
    gw: Gateway, psp: FakePsp, runtime: Runtime, clock: FixedClock
) -> None:
    payment = await gw.charge(upi())
    start = clock.now()
    clock.advance(seconds=89)
    assert (await gw.refresh(payment.id)).upi.checks == 0
    assert "status" not in psp.calls
    clock.advance(seconds=1)
    first = await gw.refresh(payment.id)
    assert (first.status, first.upi.checks) == ("pending", 1)
    assert first.upi.next_check_at == first.upi.expires_at == start + timedelta(seconds=300)
    clock.advance(seconds=210)
    second = await gw.refresh(payment.id)
    assert second.upi.checks == 2
    assert second.upi.next_check_at == start + timedelta(seconds=390)
    clock.advance(seconds=90)
    last = await gw.refresh(payment.id)  # nobody paid: withdrawn, expired
    assert (last.status, last.response_code, last.upi.checks) == ("expired", "U69", 3)
    assert last.upi.next_check_at is None
    assert psp.calls.count("status") == 3 and "cancel" in psp.calls
    assert actions(runtime, payment.id).count("upi.status_check") == 3


async def test_an_expired_answer_at_a_check_expires_the_payment(
    gw: Gateway, psp: FakePsp, clock: FixedClock
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "EXPIRED", "U69")
    clock.advance(seconds=300)
    expired = await gw.refresh(payment.id)  # checks 1 and 2 were due: the first says
    assert (expired.status, expired.response_code, expired.upi.checks) == ("expired", "U69", 1)


async def test_a_deemed_payment_is_confirmed_at_a_check(
    gw: Gateway, psp: FakePsp, clock: FixedClock
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "DEEMED", "RB", payer="deemed@payer")
    clock.advance(seconds=90)
    assert (await gw.refresh(payment.id)).status == "pending"
    psp.set(payment.id, "SUCCESS", "00")
    clock.advance(seconds=210)
    assert (await gw.refresh(payment.id)).status == "succeeded"


@pytest.mark.parametrize(("code", "state"), [("UT", "PENDING"), ("RB", "DEEMED")])
async def test_a_debit_never_confirmed_is_reversed_after_the_last_check(
    gw: Gateway, psp: FakePsp, clock: FixedClock, runtime: Runtime, code: str, state: str
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, state, code, payer="timeout@payer")
    clock.advance(seconds=390)
    declined = await gw.refresh(payment.id)
    assert (declined.status, declined.response_code) == ("declined", code)
    assert declined.message.endswith(": any debit is reversed")
    assert declined.reversal and "reverse" in psp.calls
    assert psp.txn(payment.id).status == "REVERSED"


async def test_a_bank_down_is_canceled_after_the_last_check(
    gw: Gateway, psp: FakePsp, clock: FixedClock
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "PENDING", "BT")
    clock.advance(seconds=400)
    declined = await gw.refresh(payment.id)
    assert (declined.status, declined.response_code) == ("declined", "BT")
    assert "cancel" in psp.calls and "reverse" not in psp.calls


async def test_a_failed_check_is_tried_again(gw: Gateway, psp: FakePsp, clock: FixedClock) -> None:
    payment = await gw.charge(upi())
    clock.advance(seconds=90)
    psp.down = True
    assert (await gw.repair()) == [] and (await gw.poll()) == []
    with pytest.raises(BankUnavailable):
        await gw.refresh(payment.id)
    again = gw.get(payment.id)
    assert again.upi.checks == 0 and again.upi.next_check_at == clock.now()  # still due
    psp.down = False
    assert (await gw.refresh(payment.id)).upi.checks == 1


async def test_cancel_withdraws_a_pending_payment(
    gw: Gateway, psp: FakePsp, runtime: Runtime
) -> None:
    payment = await gw.charge(upi())
    canceled = await gw.cancel(payment.id, operator="asha")
    assert (canceled.status, canceled.upi.next_check_at) == ("canceled", None)
    assert psp.txn(payment.id).status == "CANCELED"
    assert actions(runtime, payment.id)[-1] == "payment.canceled"
    with pytest.raises(NotAllowed):
        await gw.cancel(payment.id)


async def test_cancel_of_a_payment_paid_meanwhile_is_a_success(gw: Gateway, psp: FakePsp) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "SUCCESS", "00", payer="rahul@okbank")
    assert (await gw.cancel(payment.id)).status == "succeeded"


async def test_a_late_credit_is_refunded_and_the_payment_keeps_its_state(
    gw: Gateway, psp: FakePsp, runtime: Runtime
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "EXPIRED", "U69", callback=True)
    assert (await gw.refresh(payment.id)).status == "expired"
    psp.set(payment.id, "SUCCESS", "00", payer="slow@payer", callback=True)
    late = await gw.refresh(payment.id)
    assert (late.status, late.upi.late_refund) == ("expired", f"re_{payment.id[4:]}_late")
    refund = psp.refunds[late.upi.late_refund]
    assert (refund.amount, refund.original_txn_id) == (250_00, late.upi.txn_id)
    assert actions(runtime, payment.id)[-1] == "upi.late_credit_refunded"
    psp.send(psp.txn(payment.id))  # the same credit told again: refunded once
    assert (await gw.refresh(payment.id)).upi.late_refund == late.upi.late_refund
    assert psp.calls.count("refund") == 1


async def test_refunds_full_and_partial_within_180_days(
    gw: Gateway, psp: FakePsp, clock: FixedClock
) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "SUCCESS", "00", payer="rahul@okbank", callback=True)
    await gw.refresh(payment.id)
    part = await gw.refund(payment.id, 100_00, approval=MANAGER)
    assert (part.amount_refunded, part.refunds[0].brand, part.refunds[0].rrn) == (
        100_00,
        "upi",
        psp.refunds[part.refunds[0].id].rrn,
    )
    assert psp.refunds[part.refunds[0].id].original_txn_id == payment.upi.txn_id
    clock.advance(days=181)
    with pytest.raises(NotAllowed, match="180 days"):
        await gw.refund(payment.id, approval=MANAGER)


async def test_a_pending_refund_is_filed(gw: Gateway, psp: FakePsp, runtime: Runtime) -> None:
    payment = await gw.charge(upi())
    psp.set(payment.id, "SUCCESS", "00", payer="rahul@okbank", callback=True)
    await gw.refresh(payment.id)
    psp.refund_answer = "PENDING"
    refunded = await gw.refund(payment.id, approval=MANAGER)
    assert refunded.amount_refunded == 250_00
    assert "upi.refund_pending" in actions(runtime, payment.id)


async def test_collect_requests_are_off_unless_enabled(gw: Gateway) -> None:
    with pytest.raises(InputError, match="collect requests are off for this merchant"):
        await gw.charge(upi(flow="collect", vpa="rahul@okbank"))
    assert gw.list_day() == []


async def test_a_collect_request(settings: Settings, clock: FixedClock, psp: FakePsp) -> None:
    on = settings.model_copy(update={"upi": UpiSettings(collect_enabled=True)})
    rt = open_runtime(on, clock=clock)
    try:
        gw = rt.gateway
        gw.upi = psp
        with pytest.raises(InputError, match="UPI ID"):
            await gw.charge(upi(flow="collect"))
        with pytest.raises(InputError, match="not a UPI ID"):
            await gw.charge(upi(flow="collect", vpa="nobody"))
        payment = await gw.charge(upi(flow="collect", vpa="Rahul@OKBank"))
        assert (payment.status, payment.upi.payer_vpa, payment.upi.link) == (
            "pending",
            "rahul@okbank",
            None,
        )
        assert payment.upi.expires_at == clock.now() + timedelta(seconds=480)
        assert payment.next_action.type == "upi_collect"
        unknown = await gw.charge(upi(flow="collect", vpa="noaccount@payer"))
        assert (unknown.status, unknown.response_code) == ("declined", "XH")
    finally:
        rt.close()


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (upi(MAX_UPI_AMOUNT + 1), "maximum|at most"),
        (upi(currency="USD"), "rupees only"),
        (upi(capture="manual"), "no manual capture"),
        (upi(note="x" * 51), "50 characters"),
    ],
)
async def test_bad_requests_store_nothing(gw: Gateway, request_: ChargeRequest, why: str) -> None:
    with pytest.raises(InputError, match=why):
        await gw.charge(request_)
    assert gw.list_day() == []


async def test_idempotency_compares_flow_vpa_and_note(gw: Gateway) -> None:
    first = await gw.charge(upi(note="a", idempotency_key="k1"))
    again = await gw.charge(upi(note="a", idempotency_key="k1"))
    assert again.id == first.id and len(gw.list_day()) == 1
    with pytest.raises(IdempotencyConflict):
        await gw.charge(upi(note="b", idempotency_key="k1"))
    with pytest.raises(IdempotencyConflict):
        await gw.charge(upi(flow="intent", note="a", idempotency_key="k1"))


async def test_a_lost_creation_is_resumed(gw: Gateway, psp: FakePsp) -> None:
    psp.down = True
    lost = await gw.charge(upi())
    assert lost.status == "unknown"
    psp.down = False
    resumed = await gw.refresh(lost.id)
    assert resumed.status == "pending" and resumed.upi.txn_id


async def test_poll_settles_what_is_due_and_never_a_card_sale(
    gw: Gateway, psp: FakePsp, clock: FixedClock
) -> None:
    paid, waiting, late = [await gw.charge(upi(amount)) for amount in (1_00, 2_00, 3_00)]
    psp.set(paid.id, "SUCCESS", "00", payer="rahul@okbank", callback=True)
    card = await gw.charge(charge(VISA, capture="manual"))
    assert await gw.poll() == [f"{paid.id}: succeeded"]
    clock.advance(seconds=90)
    psp.set(late.id, "FAILURE", "ZA", payer="decline@payer")
    notes = await gw.poll()
    assert notes == [f"{late.id}: declined"]
    assert gw.get(waiting.id).upi.checks == 1
    assert gw.get(card.id).status == "requires_capture"


async def test_risk_counts_upi_payers_keyed_and_terminals(
    settings: Settings, clock: FixedClock, psp: FakePsp
) -> None:
    on = settings.model_copy(update={"upi": UpiSettings(collect_enabled=True)})
    rt = open_runtime(on, clock=clock)
    try:
        gw = rt.gateway
        gw.upi = psp
        for _ in range(5):  # QR payments: no payer yet, no velocity
            assert (await gw.charge(upi())).status == "pending"
        for _ in range(3):  # declined at once (XH): the payer is known
            payment = await gw.charge(upi(flow="collect", vpa="noaccount@payer"))
            assert payment.status == "declined"
        blocked = await gw.charge(upi(flow="collect", vpa="noaccount@payer"))
        assert (blocked.status, blocked.decline_code) == ("declined", "blocked_by_risk")
        assert "UPI ID" in blocked.message
        other = await gw.charge(upi(flow="collect", vpa="rahul@okbank"))
        assert other.status == "pending"
        events = list(TinyRiskRepository(rt.store, home=on.merchant_id).events())
        assert len(events) == 4 and "noaccount" not in repr(events)
    finally:
        rt.close()


async def test_the_runtime_wires_the_upi_clients_on_the_banks(runtime: Runtime) -> None:
    from gateway_core.ports import PayerApp
    from gateway_core.upi_client import PayerClient, UpiClient

    assert isinstance(runtime.gateway.upi, UpiClient) and isinstance(runtime.gateway.upi, UpiPsp)
    assert isinstance(runtime.payer, PayerClient) and isinstance(runtime.payer, PayerApp)
    assert runtime.payer is runtime.payer
    await runtime.aclose()


async def test_a_qr_paid_by_success_at_payer(gw: Gateway, psp: FakePsp, clock: FixedClock) -> None:
    payment = await gw.charge(upi(100_00))
    clock.advance(seconds=20)
    psp.set(payment.id, "SUCCESS", "00", payer="success@payer", callback=True)
    assert await gw.poll() == [f"{payment.id}: succeeded"]
    paid = gw.get(payment.id)
    assert (paid.status, paid.upi.payer_vpa, paid.amount_captured) == (
        "succeeded",
        "success@payer",
        100_00,
    )
    assert len(paid.rrn) == 12


async def test_no_otp_step_up_for_upi(gw: Gateway) -> None:
    big = await gw.charge(upi(60_000_00))  # above the card OTP threshold
    assert (big.status, big.risk.action) == ("pending", "allow")


async def test_callbacks_signed_before_a_key_rotation_still_verify(
    gw: Gateway, psp: FakePsp, runtime: Runtime
) -> None:
    payment = await gw.charge(upi())
    runtime.keyring.rotate()  # the secret the PSP holds is the older key's
    psp.set(payment.id, "SUCCESS", "00", payer="rahul@okbank", callback=True)
    assert (await gw.refresh(payment.id)).status == "succeeded"
