"""Random sequences on the simulated UPI network keep its books balanced: payments by
every test VPA with right and wrong PINs, clock moves, status checks, cancels, reversals,
refunds and restarts. After each step the ledger check is ok; at the end every SUCCESS
has exactly one credit line in the settlement files and nothing else has one."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from upi_sim_support import BASE, START, UpiWorld, upi_world

from gateway_core.clock import FixedClock
from gateway_core.upi_api import TEST_VPAS, UpiTransaction

VPAS = [*TEST_VPAS, "stranger@okbank"]
AMOUNTS = [1_00, 10_00, 10_01, 2_000_00, 2_000_01, 30_000_00]
STEPS = st.one_of(
    st.tuples(
        st.just("create"),
        st.sampled_from(["qr", "intent", "collect"]),
        st.sampled_from(AMOUNTS),
        st.sampled_from(VPAS),
    ),
    st.tuples(
        st.just("pay"),
        st.integers(0, 30),
        st.sampled_from(VPAS),
        st.sampled_from(["1234", "1234", "0000"]),
    ),
    st.tuples(st.just("advance"), st.sampled_from([1, 29, 30, 90, 120, 300, 3600 * 14])),
    st.tuples(st.just("status"), st.integers(0, 30)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
    st.tuples(st.just("decline"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from([1, 2, 3])),
    st.tuples(st.just("restart")),
)


async def step(world: UpiWorld, txns: list[UpiTransaction], action: tuple) -> None:
    kind, *args = action
    if kind == "create":
        flow, amount, vpa = args
        txns.append(await world.create(amount, flow, vpa if flow == "collect" else None))
        return
    if kind == "advance":
        world.clock.advance(seconds=args[0])
        return
    if not txns:
        return
    txn = txns[args[0] % len(txns)]
    if kind == "pay":
        r = await world.pay(txn, args[1], args[2])
    elif kind == "status":
        r = await world.client.get(f"{BASE}/transactions/{txn.txn_id}")
    elif kind in ("cancel", "reverse"):
        r = await world.client.post(f"{BASE}/transactions/{txn.txn_id}/{kind}")
    elif kind == "decline":
        body = {"request_id": txn.txn_id, "vpa": txn.payer_vpa or "success@payer"}
        r = await world.client.post(f"{BASE}/payer/decline", json=body)
    else:
        world.refs += 1
        body = {
            "refund_id": f"rf_{world.refs}",
            "txn_id": txn.txn_id,
            "amount": txn.amount // args[1],
        }
        r = await world.client.post(f"{BASE}/refunds", json=body)
    assert r.status_code in (200, 404, 409), r.text
    assert list(r.json()) != ["error"] or "\n" not in r.json()["error"]


async def scenario(data_dir: Path, actions: list[tuple]) -> None:
    clock, txns, refs = FixedClock(START), [], 0
    world_cm = upi_world(data_dir, clock)
    world = await world_cm.__aenter__()
    try:
        for action in actions:
            if action[0] == "restart":
                refs = world.refs
                await world_cm.__aexit__(None, None, None)
                world_cm = upi_world(data_dir, clock)
                world = await world_cm.__aenter__()
                world.refs = refs
            else:
                await step(world, txns, action)
            check = await world.ledger_ok()
            assert check["ok"], (action, check)
        statuses = [(await world.status(txn.txn_id)).status for txn in txns]
        credits: Counter[str] = Counter()
        day = START.date()
        while day <= clock.now().date() + timedelta(days=1):
            for line in (await world.client.get(f"{BASE}/settlement/{day}")).json():
                credits[line["txn_id"]] += line["kind"] == "credit"
            day += timedelta(days=1)
        for txn, status in zip(txns, statuses, strict=True):
            assert credits[txn.txn_id] == (status == "SUCCESS"), (txn, status)
        assert world.banks.check().ok
    finally:
        await world_cm.__aexit__(None, None, None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEPS, max_size=25))
def test_random_upi_sequences_keep_the_books_balanced(actions):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp), actions))
