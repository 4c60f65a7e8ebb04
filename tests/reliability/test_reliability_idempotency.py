"""Idempotent retries when the bank fails: concurrent retries of a sale that timed out.

test_gateway.py covers 50 concurrent retries of an approved pre-authorization (and
test_gateway_remote.py the same over a socket). Here the issuer sits on its answer:
the first attempt is reversed and declined 91, and every concurrent or later retry with
the same key gets that same payment: one authorization, one reversal, nothing held.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from support import TIMEOUT_CARD, account, actions, charge, open_world

from gateway_core.clock import FixedClock


async def test_concurrent_retries_of_a_timed_out_sale_reverse_once(
    tmp_path: Path, clock: FixedClock, database_url: str | None
) -> None:
    async with open_world(tmp_path / "data", clock, 0.3, database_url=database_url) as world:
        gw = world.gw
        before = await account(gw, TIMEOUT_CARD)
        req = charge(TIMEOUT_CARD, 75_00, idempotency_key="order-9")
        results = await asyncio.gather(*(gw.charge(req) for _ in range(20)))
        assert {p.id for p in results} == {results[0].id}
        assert {(p.status, p.response_code) for p in results} == {("declined", "91")}
        later = await gw.charge(req)  # the cashier tries once more, after the fact
        assert later == gw.get(results[0].id)
        assert [p.id for p in gw.list_day()] == [results[0].id]
        trail = actions(world.rt, results[0].id)
        assert trail.count("payment.created") == trail.count("payment.reversed") == 1
        assert len(world.rt.banks.store.main.table("acquirer_payments")) == 1
        frames = [f.mti for f in await gw.bank.frames(results[0].id)]
        assert frames == ["0400", "0400", "0410", "0410"]  # one reversal, each way
        await asyncio.sleep(1.0)  # the issuer's late answer lands, and is released
        assert await account(gw, TIMEOUT_CARD) == before
        assert (await gw.bank.ledger_check()).ok
