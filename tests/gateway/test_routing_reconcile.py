"""Reconciliation of a day with payments taken at real processors: they are in the
processors' own reports, not in the simulated acquirer's clearing file, so they are
listed apart (`at_processors`) and are no break; the acquirer's own payments still
reconcile against its file."""

from __future__ import annotations

from pathlib import Path

from routing_support import routed_runtime
from support import MANAGER, VISA, charge

from gateway_core.clock import FixedClock
from gateway_core.settlement import Settlement
from gateway_core.settlement.text import format_reconciliation


async def test_a_processors_payments_are_apart_and_no_break(
    tmp_path: Path, clock: FixedClock
) -> None:
    rules = [{"method": "card", "min_amount": 100_00, "processors": ["stripe"]}]
    rt, _scripted = routed_runtime(tmp_path / "data", clock, rules)
    try:
        await _reconcile_a_day_of_both(rt)
    finally:
        await rt.aclose()


async def _reconcile_a_day_of_both(rt) -> None:
    gw = rt.gateway
    sold = await gw.charge(charge(VISA, 250_00))
    assert (sold.status, sold.processor) == ("succeeded", "stripe")
    await gw.refund(sold.id, 50_00, approval=MANAGER)
    local = await gw.charge(charge(VISA, 10_00))  # under the rule's minimum: the acquirer
    assert (local.status, local.processor) == ("succeeded", None)

    settlement = Settlement(rt.records, rt.settings, clock=rt.clock)
    day = settlement.today()
    rec = await settlement.reconcile(day, gw.bank)
    assert rec.ok and rec.breaks == 0
    assert [e.payment_id for e in rec.matched] == [local.id]
    apart = {(e.kind, e.processor, e.amount) for e in rec.at_processors}
    assert apart == {("capture", "stripe", 250_00), ("refund", "stripe", 50_00)}
    text = "\n".join(format_reconciliation(rec))
    assert "at processors" in text and "taken at stripe: not in these files" in text
