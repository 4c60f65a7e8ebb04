"""The net banking tender refuses a return that is not the bank's word for this payment:
tampered, replayed, for another amount, payment, merchant or bank, or citing a bank
reference the bank gave another payment. Each is audited and changes nothing."""

from __future__ import annotations

import pytest
from nb_fake import FakeBanks
from support import actions

from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.netbanking_api import NbReturn, sign_return
from gateway_core.payments import NetbankingInput, NotAllowed, Payment
from gateway_core.runtime import Runtime
from gateway_core.store.repos import TinyAuditRepository


@pytest.fixture
def banks(clock: FixedClock) -> FakeBanks:
    return FakeBanks(clock)


@pytest.fixture
def gw(runtime: Runtime, banks: FakeBanks) -> Gateway:
    gateway = runtime.gateway
    gateway.netbanking = banks
    return gateway


def nb(amount: int = 500_00, bank: str = "DEMOA") -> ChargeRequest:
    return ChargeRequest(
        amount=amount, currency="INR", method="netbanking", netbanking=NetbankingInput(bank=bank)
    )


async def refused(
    gw: Gateway, runtime: Runtime, payment: Payment, answer: object, why: str
) -> None:
    """The answer is refused with `why`, audited, and the payment is as it was."""
    before = gw.get(payment.id)
    events = len(actions(runtime, payment.id))
    with pytest.raises(InputError, match=why):
        await gw.returned(payment.id, answer)
    assert gw.get(payment.id) == before
    assert actions(runtime, payment.id)[events:] == ["netbanking.return_refused"]
    events_ = [e for _day, e in TinyAuditRepository(runtime.store).events()]
    details = [e for e in events_ if e["subject"] == payment.id][-1]["details"]
    assert why in details["reason"] and "signature" not in details


async def test_a_tampered_return_is_refused(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, "FAILURE", "51")
    answer = banks.answer(payment.id)
    tampered = answer.model_copy(update={"status": "SUCCESS", "code": "00"})
    await refused(gw, runtime, payment, tampered, "the signature does not match")
    forged = banks.answer(payment.id, secret="ab" * 32)
    await refused(gw, runtime, payment, forged, "the signature does not match")
    assert "status" not in banks.calls  # refused before asking the bank


async def test_a_replayed_return_is_refused(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, "SUCCESS")
    answer = banks.answer(payment.id)
    paid = await gw.returned(payment.id, answer)
    assert paid.status == "succeeded"
    await refused(gw, runtime, paid, answer, "already has the bank's answer")
    declined = await gw.charge(nb())
    banks.set(declined.id, "FAILURE", "51")
    failure = banks.answer(declined.id)
    declined = await gw.returned(declined.id, failure)
    await refused(gw, runtime, declined, failure, "the payment is already declined")


async def test_a_return_for_another_amount_is_refused(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    payment = await gw.charge(nb())
    banks.set(payment.id, "SUCCESS")
    other = banks.answer(payment.id, amount=1_00)  # signed by the bank, for ₹1.00
    await refused(gw, runtime, payment, other, "its amount ₹1.00 is not the payment's ₹500.00")


async def test_a_return_about_another_payment_is_refused(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    mine, theirs = await gw.charge(nb()), await gw.charge(nb())
    banks.set(theirs.id, "SUCCESS")
    await refused(gw, runtime, mine, banks.answer(theirs.id), f"it is about payment {theirs.id}")
    await refused(gw, runtime, mine, banks.answer(mine.id, merchant_id="m_other"), "merchant")
    await refused(gw, runtime, mine, banks.answer(mine.id, bank="DEMOB"), "from bank DEMOB")


async def test_a_return_citing_another_payments_bank_reference_is_refused(
    gw: Gateway, banks: FakeBanks, runtime: Runtime
) -> None:
    first, second = await gw.charge(nb()), await gw.charge(nb())
    paid = banks.set(first.id, "SUCCESS")
    await gw.returned(first.id, banks.answer(first.id))
    banks.set(second.id, "SUCCESS")
    reused = banks.answer(second.id, bank_ref=paid.bank_ref)  # signed, another's debit
    await refused(gw, runtime, second, reused, f"bank reference {paid.bank_ref} is not this")


async def test_a_return_for_a_card_payment_is_refused(gw: Gateway, banks: FakeBanks) -> None:
    from support import VISA, charge

    card = await gw.charge(charge(VISA))
    answer = NbReturn(
        merchant_id="m",
        payment_id=card.id,
        bank="DEMOA",
        bank_ref="",
        amount=1,
        status="FAILURE",
        code="51",
        signature="",
    )
    with pytest.raises(NotAllowed, match="takes no answer from a redirect"):
        await gw.returned(card.id, sign_return(answer, "00" * 32))


async def test_something_else_than_a_return_is_refused(gw: Gateway, banks: FakeBanks) -> None:
    payment = await gw.charge(nb())
    with pytest.raises(InputError, match="signed return only"):
        await gw.returned(payment.id, {"status": "SUCCESS"})
