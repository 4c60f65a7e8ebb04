"""Property: no sequence of payments creates or loses money, or leaves a stray hold.

Random sequences of sale, pre-authorization, capture (partial), void and refund
(partial, sometimes too much) on random approving demo cards, through the gateway and
the embedded banks. After every step: the banks' books balance (`ledger_check`), each
card's hold is exactly its live authorizations at the gateway, its available funds are
its opening funds less what was held and what was captured and not refunded, and no
payment was ever refunded more than was captured.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import MANAGER, charge, gateway_settings, open_runtime

from bank_sim.testcards import TEST_CARDS
from gateway_core.cards import mask_pan
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import Gateway, NotAllowed
from gateway_core.payments import Payment

IST = timezone(timedelta(hours=5, minutes=30), "IST")
APPROVING = [card for card in TEST_CARDS if card.expect == "00" and card.fault is None]
MASKED = {card.digits: mask_pan(card.digits) for card in APPROVING}

cards = st.sampled_from(APPROVING)
amounts = st.integers(min_value=1, max_value=6_000_00)  # below the OTP threshold
which = st.integers(min_value=0, max_value=1_000)  # an earlier payment, modulo how many
percent = st.integers(min_value=1, max_value=130)  # of what is left; >100: too much

operations = st.one_of(
    st.tuples(st.just("sale"), cards, amounts),
    st.tuples(st.just("preauth"), cards, amounts),
    st.tuples(st.just("capture"), which, percent),
    st.tuples(st.just("void"), which, st.just(0)),
    st.tuples(st.just("refund"), which, percent),
)


async def apply(gw: Gateway, payments: list[Payment], op: tuple) -> None:
    kind, first, second = op
    if kind in ("sale", "preauth"):
        payment = await gw.charge(
            charge(first, second, capture="automatic" if kind == "sale" else "manual")
        )
        expected = "succeeded" if kind == "sale" else "requires_capture"
        assert payment.status == expected or payment.response_code == "51"
        payments.append(payment)
        return
    if not payments:
        return
    index = first % len(payments)
    payment = gw.get(payments[index].id)
    if kind == "capture":
        amount = max(1, payment.amount * min(second, 100) // 100)
        if payment.status != "requires_capture":
            with pytest.raises(NotAllowed):
                await gw.capture(payment.id, amount)
            return
        payment = await gw.capture(payment.id, amount)
        assert (payment.status, payment.amount_captured) == ("succeeded", amount)
    elif kind == "void":
        if payment.status != "requires_capture":
            with pytest.raises(NotAllowed):
                await gw.void(payment.id, approval=MANAGER)
            return
        payment = await gw.void(payment.id, approval=MANAGER)
        assert payment.status == "canceled"
    else:
        left = payment.refundable
        amount = max(1, -(-left * second // 100))
        if payment.status != "succeeded" or left == 0:
            with pytest.raises(NotAllowed):
                await gw.refund(payment.id, amount, approval=MANAGER)
            return
        if amount > left:
            with pytest.raises(InputError, match="at most"):
                await gw.refund(payment.id, amount, approval=MANAGER)
            assert gw.get(payment.id) == payment  # refused: nothing changed
            return
        payment = await gw.refund(payment.id, amount, approval=MANAGER)
        assert payment.amount_refunded == payment.amount_captured - left + amount
    payments[index] = payment


async def check(gw: Gateway, payments: list[Payment], opening: dict[str, int]) -> None:
    verdict = await gw.bank.ledger_check()
    assert verdict.ok, verdict.problem
    assert verdict.current_total == verdict.opening_total
    accounts = {a.card: a for a in await gw.bank.accounts()}
    held = dict.fromkeys(opening, 0)
    spent = dict.fromkeys(opening, 0)
    for payment in payments:
        stored = gw.get(payment.id)
        assert stored == payment
        assert 0 <= stored.amount_refunded <= stored.amount_captured <= stored.amount
        assert sum(r.amount for r in stored.refunds) == stored.amount_refunded
        card = stored.card.masked
        if stored.status == "requires_capture":
            held[card] += stored.amount
        spent[card] += stored.amount_captured - stored.amount_refunded
    for card, funds in opening.items():
        account = accounts[card]
        assert account.held == held[card], card  # every hold is a live authorization
        assert account.available == funds - held[card] - spent[card], card


async def run(data_dir, program: list[tuple]) -> None:
    rt = open_runtime(
        gateway_settings(data_dir, timeout_s=5),
        clock=FixedClock(datetime(2026, 11, 28, 10, 0, tzinfo=IST)),
    )
    try:
        gw = rt.gateway
        opening = {
            a.card: a.available for a in await gw.bank.accounts() if a.card in MASKED.values()
        }
        payments: list[Payment] = []
        for op in program:
            await apply(gw, payments, op)
            await check(gw, payments, opening)
        merchant = rt.banks.ledger.balance(rt.banks.acquirer.merchant_account)
        assert merchant == sum(p.amount_captured - p.amount_refunded for p in payments)
    finally:
        await rt.aclose()


@settings(max_examples=25, deadline=None)
@given(program=st.lists(operations, min_size=1, max_size=30))
def test_money_is_never_created_lost_or_left_held(
    tmp_path_factory: pytest.TempPathFactory, program: list[tuple]
) -> None:
    asyncio.run(run(tmp_path_factory.mktemp("ledger") / "data", program))
