"""Random sequences at the simulated net banking banks keep their books balanced: payments
by every test login (right and wrong passwords, confirm or cancel) at every bank, clock
moves, status checks, refunds (fresh or repeated ids) and restarts. After each step the
books check is ok and debits = credits + refunds + in transit; at the end every paid
payment has one credit line and its refunds' lines, nothing else has any, and the
banks' whole check is ok."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nb_sim_support import BASE, MERCHANT_ID, START, NbWorld, nb_world

from gateway_core.clock import FixedClock
from gateway_core.netbanking_api import TEST_ACCOUNTS, TEST_BANKS, NbTransaction

AMOUNTS = [1_00, 10_00, 10_01, 50_000_00, 50_000_01, 1_99_000_00, 2_00_000_01]
STEPS = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(list(TEST_BANKS)), st.sampled_from(AMOUNTS)),
    st.tuples(
        st.just("pay"),
        st.integers(0, 30),
        st.sampled_from([*TEST_ACCOUNTS, "nobody"]),
        st.sampled_from(["demo", "demo", "wrong"]),
        st.sampled_from(["confirm", "confirm", "cancel"]),
    ),
    st.tuples(st.just("advance"), st.sampled_from([1, 60, 599, 3600 * 14])),
    st.tuples(st.just("status"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from([1, 2, 3]), st.booleans()),
    st.tuples(st.just("restart")),
)


async def step(world: NbWorld, txns: list[NbTransaction], refunds: list[str], action) -> None:
    kind, *args = action
    if kind == "create":
        txns.append(await world.create(args[1], bank=args[0]))
        return
    if kind == "advance":
        world.clock.advance(seconds=args[0])
        return
    if not txns:
        return
    txn = txns[args[0] % len(txns)]
    if kind == "pay":
        user, password, choice = args[1:]
        r = await world.pay(txn, user, password=password, choice=choice)
        assert r.status_code in (200, 303, 400, 401, 409, 410, 503), r.text
        return
    if kind == "status":
        r = await world.client.get(f"{BASE}/transactions/{txn.bank}/{txn.payment_id}")
    else:
        state = await world.status(txn)
        again = args[2] and refunds
        refunds.append(refunds[-1] if again else f"re_{len(refunds)}")
        body = {
            "bank": txn.bank,
            "refund_id": refunds[-1],
            "merchant_id": MERCHANT_ID,
            "payment_id": txn.payment_id,
            "bank_ref": state.bank_ref or "none",
            "amount": txn.amount // args[1],
        }
        r = await world.client.post(f"{BASE}/refunds", json=body)
    assert r.status_code in (200, 404, 409), r.text
    assert "\n" not in r.text


async def scenario(data_dir: Path, actions: list[tuple]) -> None:
    clock, txns, refunds = FixedClock(START), [], []
    world_cm = nb_world(data_dir, clock)
    world = await world_cm.__aenter__()
    secrets = dict(world.secrets)
    try:
        for action in actions:
            if action[0] == "restart":
                payments = world.payments
                await world_cm.__aexit__(None, None, None)
                world_cm = nb_world(data_dir, clock)
                world = await world_cm.__aenter__()
                world.payments = payments
                assert world.secrets == secrets
            else:
                await step(world, txns, refunds, action)
            check = await world.ledger()
            assert check["ok"], (action, check)
            assert check["debits"] == check["credits"] + check["refunds"] + check["in_transit"]
        states = [await world.status(txn) for txn in txns]
        credits: Counter[str] = Counter()
        given_back: Counter[str] = Counter()
        for bank in TEST_BANKS:
            day = START.date()
            while day <= clock.now().date() + timedelta(days=1):
                for line in (await world.client.get(f"{BASE}/settlement/{bank}/{day}")).json():
                    key = f"{bank}/{line['payment_id']}"
                    if line["kind"] == "credit":
                        credits[key] += line["amount"]
                    else:
                        given_back[key] += line["amount"]
                day += timedelta(days=1)
        for state in states:
            key = f"{state.bank}/{state.payment_id}"
            paid = state.state in ("SUCCESS", "REFUNDED")
            assert credits[key] == (state.amount if paid else 0), state
            assert given_back[key] == state.refunded <= credits[key], state
            assert state.state != "CREATED" or clock.now() < state.expires_at
        assert world.banks.check().ok
    finally:
        await world_cm.__aexit__(None, None, None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEPS, max_size=25))
def test_random_net_banking_sequences_keep_the_books_balanced(actions):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp), actions))
