"""The net banking tender against in-memory banks (`nb_fake.FakeBanks`): creation, the
customer's signed return, the status check schedule, expiry, late debits, cancel,
refunds, input checks, idempotency and poll. (Refused returns: test_nb_tender_returns.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from nb_fake import FakeBanks
from support import MANAGER, VISA, actions, charge, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.netbanking_api import MAX_NB_AMOUNT
from gateway_core.payments import IdempotencyConflict, NetbankingInput, NotAllowed
from gateway_core.ports import NetbankingBanks, Polled, Returning, Tender
from gateway_core.runtime import Runtime
from gateway_core.settings import NetbankingSettings, Settings
from gateway_core.tenders.link import SANDBOX_URL
from gateway_core.tenders.netbanking import NetbankingTender


@pytest.fixture
def banks(clock: FixedClock) -> FakeBanks:
    return FakeBanks(clock)


@pytest.fixture
def gw(runtime: Runtime, banks: FakeBanks) -> Gateway:
    gateway = runtime.gateway
    gateway.netbanking = banks
    return gateway


def nb(amount: int = 500_00, bank: str = "DEMOA", **kw) -> ChargeRequest:
    currency = kw.pop("currency", "INR")
    return ChargeRequest(
        amount=amount,
        currency=currency,
        method="netbanking",
        netbanking=NetbankingInput(bank=bank),
        operator="asha",
        **kw,
    )


async def test_the_tender_and_the_fake_satisfy_their_ports(gw: Gateway, banks: FakeBanks) -> None:
    tender = gw.tenders["netbanking"]
    assert isinstance(tender, NetbankingTender)
    assert isinstance(tender, Tender) and isinstance(tender, Polled)
    assert isinstance(tender, Returning)
    assert isinstance(banks, NetbankingBanks)


async def test_a_payment_is_pending_with_the_banks_login_page(
    gw: Gateway, banks: FakeBanks, runtime: Runtime, clock: FixedClock
) -> None:
    payment = await gw.charge(nb(bank="demoa"))
    now = clock.now()
    detail = payment.netbanking
    assert (payment.status, payment.method, payment.brand) == ("pending", "netbanking", "DEMOA")
    assert (detail.bank, detail.bank_name) == ("DEMOA", "Demo Bank A")
    assert detail.bank_txn == banks.txn(payment.id).bank_txn
    assert detail.login_url == banks.txn(payment.id).login_url
    assert detail.expires_at == now + timedelta(seconds=600)
    assert detail.next_check_at == now + timedelta(seconds=60)
    assert banks.returns[payment.id] == f"{SANDBOX_URL}/v1/netbanking/return"
    action = payment.next_action
    assert (action.type, action.url, action.expires_at) == (
        "redirect",
        detail.login_url,
        detail.expires_at,
    )
    assert payment.message == "Waiting for the customer at Demo Bank A"
    assert actions(runtime, payment.id) == ["payment.created", "payment.pending"]
    assert runtime.payment(payment.id).netbanking == detail
    await gw.charge(nb())
    assert banks.calls.count("board") == 1  # once per process and bank
    await gw.charge(nb(bank="DEMOB"))
    assert banks.calls.count("board") == 2


async def test_the_return_url_is_the_public_one(
    settings: Settings, clock: FixedClock, banks: FakeBanks
) -> None:
    public = settings.checkout.model_copy(update={"public_url": "https://pay.example.in/"})
    rt = open_runtime(settings.model_copy(update={"checkout": public}), clock=clock)
    try:
        rt.gateway.netbanking = banks
        payment = await rt.gateway.charge(nb())
        assert banks.returns[payment.id] == "https://pay.example.in/v1/netbanking/return"
    finally:
        rt.close()


async def test_the_shared_secret_is_derived_and_never_stored(
    gw: Gateway, banks: FakeBanks, runtime: Runtime, settings: Settings
) -> None:
    payment = await gw.charge(nb())
    secret = banks.secrets[settings.merchant_id, "DEMOA"]
    expected = runtime.vault.keyed_digests(f"nb-return|{settings.merchant_id}|DEMOA")[0]
    assert secret == expected
    banks.set(payment.id, "SUCCESS")
    await gw.returned(payment.id, banks.answer(payment.id))
    runtime.store.close()
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in data, path
            assert banks.answer(payment.id).signature.encode() not in data, path


async def test_a_merchant_boarded_with_another_secret_takes_the_banks(
    gw: Gateway, banks: FakeBanks, settings: Settings
) -> None:
    banks.secrets[settings.merchant_id, "DEMOA"] = "cd" * 32  # boarded before a key rotation
    payment = await gw.charge(nb())
    assert banks.calls.count("board") == 2  # refused with the derived secret, then asked
    banks.set(payment.id, "SUCCESS")
    assert (await gw.returned(payment.id, banks.answer(payment.id))).status == "succeeded"


async def test_a_signed_return_confirmed_by_the_bank_succeeds(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    payment = await gw.charge(nb())
    txn = banks.set(payment.id, "SUCCESS")
    paid = await gw.returned(payment.id, banks.answer(payment.id))
    assert (paid.status, paid.response_code, paid.amount_captured) == ("succeeded", "00", 500_00)
    assert paid.rrn == paid.netbanking.bank_ref == txn.bank_ref
    assert paid.netbanking.account == "XXXX4321"
    assert paid.netbanking.next_check_at is None and paid.next_action is None
    assert actions(runtime, payment.id)[-2:] == ["netbanking.return", "payment.succeeded"]
    assert "status" in banks.calls  # the redirect alone never decides
    assert runtime.audit.verify().bad_seq is None


async def test_the_bank_decides_not_the_redirect(gw: Gateway, banks: FakeBanks) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, "SUCCESS")
    answer = banks.answer(payment.id)
    banks.set(payment.id, "CREATED", bank_ref=None)  # the bank has not booked it (yet)
    with pytest.raises(InputError, match="not this payment's at the bank"):
        await gw.returned(payment.id, answer)
    assert gw.get(payment.id).status == "pending"


@pytest.mark.parametrize(
    ("state", "code", "status", "decline_code"),
    [
        ("FAILURE", "51", "declined", "insufficient_funds"),
        ("FAILURE", "61", "declined", "card_velocity_exceeded"),
        ("FAILURE", "75", "declined", "pin_try_exceeded"),
        ("CANCELED", "CX", "canceled", None),
    ],
)
async def test_a_return_of_a_failure_or_cancel_ends_the_payment(
    gw: Gateway, banks: FakeBanks, state: str, code: str, status: str, decline_code: str | None
) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, state, code)
    ended = await gw.returned(payment.id, banks.answer(payment.id))
    assert (ended.status, ended.response_code, ended.decline_code) == (status, code, decline_code)
    assert ended.netbanking.bank_ref is None and ended.amount_captured == 0


async def test_a_return_while_the_bank_still_waits_leaves_it_pending(
    gw: Gateway, banks: FakeBanks
) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, "FAILURE", "55")
    answer = banks.answer(payment.id)
    banks.set(payment.id, "CREATED")
    assert (await gw.returned(payment.id, answer)).status == "pending"


async def test_a_lost_redirect_is_found_by_the_status_check(
    gw: Gateway, banks: FakeBanks, runtime: Runtime, clock: FixedClock
) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, "SUCCESS")  # `noreturn`: debited, the browser never comes back
    clock.advance(seconds=59)
    assert (await gw.refresh(payment.id)).status == "pending"
    assert "status" not in banks.calls
    clock.advance(seconds=1)
    paid = await gw.refresh(payment.id)
    assert (paid.status, paid.netbanking.checks, paid.rrn) == (
        "succeeded",
        1,
        paid.netbanking.bank_ref,
    )
    assert actions(runtime, payment.id)[-2:] == ["netbanking.status_check", "payment.succeeded"]


async def test_a_bank_that_is_down_expires_the_payment_after_the_last_check(
    gw: Gateway, banks: FakeBanks, runtime: Runtime, clock: FixedClock
) -> None:
    payment = await gw.charge(nb(bank="DOWN"))
    start = clock.now()
    clock.advance(seconds=60)
    first = await gw.refresh(payment.id)
    assert (first.status, first.netbanking.checks) == ("pending", 1)
    assert first.netbanking.next_check_at == start + timedelta(seconds=600)
    clock.advance(seconds=540)
    banks.set(payment.id, "EXPIRED", "EX")  # not the end yet: a debit may be in flight
    second = await gw.refresh(payment.id)
    assert (second.status, second.netbanking.checks) == ("pending", 2)
    assert second.netbanking.next_check_at == start + timedelta(seconds=660)
    clock.advance(seconds=60)
    last = await gw.refresh(payment.id)
    assert (last.status, last.response_code, last.netbanking.checks) == ("expired", "EX", 3)
    assert last.netbanking.next_check_at is None
    assert last.message == "The customer did not finish at the bank in time"
    assert actions(runtime, payment.id).count("netbanking.status_check") == 3
    assert actions(runtime, payment.id)[-1] == "payment.expired"


async def test_a_check_the_bank_does_not_answer_is_tried_again(
    gw: Gateway, banks: FakeBanks, clock: FixedClock
) -> None:
    payment = await gw.charge(nb())
    clock.advance(seconds=60)
    banks.down = True
    assert await gw.poll() == []
    assert gw.get(payment.id).netbanking.checks == 0
    banks.down = False
    banks.set(payment.id, "SUCCESS")
    assert await gw.poll() == [f"{payment.id}: succeeded"]


async def test_a_late_debit_after_expiry_is_refunded_and_the_payment_stays_expired(
    gw: Gateway, banks: FakeBanks, runtime: Runtime, clock: FixedClock
) -> None:
    payment = await gw.charge(nb())
    clock.advance(seconds=660)
    assert (await gw.refresh(payment.id)).status == "expired"
    txn = banks.set(payment.id, "SUCCESS")  # the debit is booked after all
    late = await gw.refresh(payment.id)
    assert (late.status, late.netbanking.late_refund) == ("expired", f"re_{payment.id[4:]}_late")
    refund = banks.refunds[late.netbanking.late_refund]
    assert (refund.amount, refund.bank_ref, refund.bank) == (500_00, txn.bank_ref, "DEMOA")
    assert actions(runtime, payment.id)[-1] == "netbanking.late_debit_refunded"
    assert late.amount_refunded == 0 and late.refunds == []
    assert await gw.refresh(payment.id) == late  # refunded once
    with pytest.raises(InputError, match="already has the bank's answer"):
        await gw.returned(payment.id, banks.answer(payment.id))
    assert banks.calls.count("refund") == 1


async def test_a_late_debit_told_by_the_return_after_a_cancel_is_refunded(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    payment = await gw.charge(nb())
    canceled = await gw.cancel(payment.id, operator="asha")
    assert (canceled.status, canceled.netbanking.next_check_at) == ("canceled", None)
    assert canceled.response_code is None and "refunded" in canceled.message
    banks.set(payment.id, "SUCCESS")  # the customer confirmed at the bank meanwhile
    late = await gw.returned(payment.id, banks.answer(payment.id))
    assert (late.status, late.netbanking.late_refund) == ("canceled", f"re_{payment.id[4:]}_late")
    assert actions(runtime, payment.id)[-2:] == [
        "netbanking.return",
        "netbanking.late_debit_refunded",
    ]


async def test_cancel_of_a_payment_paid_meanwhile_is_a_success(
    gw: Gateway, banks: FakeBanks
) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, "SUCCESS")
    assert (await gw.cancel(payment.id)).status == "succeeded"
    with pytest.raises(NotAllowed):
        await gw.cancel(payment.id)


async def test_cancel_while_the_bank_is_down_cancels_all_the_same(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    payment = await gw.charge(nb())
    banks.down = True
    assert (await gw.cancel(payment.id)).status == "canceled"
    assert actions(runtime, payment.id)[-1] == "payment.canceled"


async def test_refunds_partial_and_several_against_the_debit(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    payment = await gw.charge(nb())
    txn = banks.set(payment.id, "SUCCESS")
    await gw.returned(payment.id, banks.answer(payment.id))
    first = await gw.refund(payment.id, 100_00, approval=MANAGER)
    second = await gw.refund(payment.id, 150_00, approval=MANAGER)
    assert second.amount_refunded == 250_00 and len(second.refunds) == 2
    for record in second.refunds:
        at_bank = banks.refunds[record.id]
        assert (at_bank.bank_ref, at_bank.bank, record.brand) == (txn.bank_ref, "DEMOA", "DEMOA")
        assert record.rrn == at_bank.refund_ref
    assert first.refunds[0].amount == 100_00
    rest = await gw.refund(payment.id, approval=MANAGER)
    assert rest.refundable == 0 and rest.status_word == "refunded"
    with pytest.raises(NotAllowed, match="fully refunded"):
        await gw.refund(payment.id, approval=MANAGER)
    assert actions(runtime, payment.id).count("payment.refunded") == 3


async def test_a_refund_the_bank_refuses_files_nothing(gw: Gateway, banks: FakeBanks) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, "SUCCESS")
    await gw.returned(payment.id, banks.answer(payment.id))
    banks.refund_state = "FAILURE"
    with pytest.raises(NotAllowed, match="the bank refused the refund"):
        await gw.refund(payment.id, approval=MANAGER)
    assert gw.get(payment.id).amount_refunded == 0


async def test_a_net_banking_payment_is_never_captured_or_sent_an_otp(
    gw: Gateway, banks: FakeBanks
) -> None:
    payment = await gw.charge(nb())
    with pytest.raises(NotAllowed):
        await gw.capture(payment.id)
    with pytest.raises(NotAllowed):
        await gw.confirm_otp(payment.id, "123456")


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (nb(MAX_NB_AMOUNT + 1), "maximum|at most"),
        (nb(currency="USD"), "rupees only"),
        (nb(capture="manual"), "no manual capture"),
        (nb(bank="NOPE"), "no net banking at bank 'NOPE'"),
        (nb(bank=""), "choose DEMOA, DEMOB, DEMOC, DOWN"),
    ],
)
async def test_bad_requests_store_nothing(
    gw: Gateway, banks: FakeBanks, request_: ChargeRequest, why: str
) -> None:
    with pytest.raises(InputError, match=why):
        await gw.charge(request_)
    assert gw.list_day() == [] and banks.calls == []


async def test_only_the_banks_the_merchant_offers(
    settings: Settings, clock: FixedClock, banks: FakeBanks
) -> None:
    some = settings.model_copy(update={"netbanking": NetbankingSettings(banks=["DEMOB"])})
    rt = open_runtime(some, clock=clock)
    try:
        rt.gateway.netbanking = banks
        with pytest.raises(InputError, match=r"choose DEMOB$"):
            await rt.gateway.charge(nb(bank="DEMOA"))
        assert (await rt.gateway.charge(nb(bank="DEMOB"))).status == "pending"
    finally:
        rt.close()


def test_a_request_without_a_bank_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a bank"):
        ChargeRequest(amount=1_00, currency="INR", method="netbanking")


async def test_idempotency_compares_the_bank(gw: Gateway, banks: FakeBanks) -> None:
    first = await gw.charge(nb(idempotency_key="k1"))
    again = await gw.charge(nb(idempotency_key="k1"))
    assert again.id == first.id and len(gw.list_day()) == 1
    assert banks.calls.count("create") == 1
    with pytest.raises(IdempotencyConflict):
        await gw.charge(nb(bank="DEMOB", idempotency_key="k1"))


async def test_a_lost_creation_is_resumed(gw: Gateway, banks: FakeBanks) -> None:
    banks.down = True
    lost = await gw.charge(nb())
    assert (lost.status, lost.netbanking.login_url) == ("unknown", None)
    banks.down = False
    resumed = await gw.refresh(lost.id)
    assert resumed.status == "pending" and resumed.netbanking.login_url
    assert await gw.repair() == []


async def test_a_creation_the_bank_refuses_is_declined(gw: Gateway, banks: FakeBanks) -> None:
    banks.refuse_create = True
    declined = await gw.charge(nb())
    assert (declined.status, declined.decline_code) == ("declined", "processing_error")


async def test_poll_settles_what_is_due_and_never_a_card_sale(
    gw: Gateway, banks: FakeBanks, clock: FixedClock
) -> None:
    paid, waiting, failed = [await gw.charge(nb(amount)) for amount in (1_00, 2_00, 3_00)]
    card = await gw.charge(charge(VISA, capture="manual"))
    banks.set(paid.id, "SUCCESS")
    assert await gw.poll() == []  # nothing due before the first check
    clock.advance(seconds=60)
    banks.set(failed.id, "FAILURE", "51")
    assert sorted(await gw.poll()) == sorted([f"{paid.id}: succeeded", f"{failed.id}: declined"])
    assert gw.get(waiting.id).netbanking.checks == 1
    assert gw.get(card.id).status == "requires_capture"
    assert await gw.poll() == []


async def test_the_runtime_wires_the_banks_client(runtime: Runtime) -> None:
    from gateway_core.netbanking_client import NbClient

    client = runtime.gateway.netbanking
    assert isinstance(client, NbClient) and isinstance(client, NetbankingBanks)
    await runtime.aclose()
