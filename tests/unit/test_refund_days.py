"""Refunds are their own records, filed under the day they happen on."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from support import MANAGER, load_snapshot

from gateway_core.cards import CardInput
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest


async def test_a_later_refund_belongs_to_its_own_day(runtime, clock, settings):
    gw = runtime.gateway
    card = CardInput(pan=SecretStr("4242424242424242"), expiry="12/30", cvv=SecretStr("123"))
    sale = await gw.charge(ChargeRequest(amount=500_00, currency="INR", card=card))
    first = await gw.refund(sale.id, 100_00, approval=MANAGER)
    sale_day = runtime.store.day(clock.now().astimezone(settings.tz).date())
    stored_before = sale_day.table("payments").all()
    clock.advance(days=1)
    later = await gw.refund(sale.id, 50_00, approval=MANAGER)
    assert (first.amount_refunded, later.amount_refunded) == (100_00, 150_00)
    assert [r.amount for r in later.refunds] == [100_00, 50_00]
    assert sale_day.table("payments").all() == stored_before  # the sale's day is untouched
    next_day = runtime.store.day(clock.now().astimezone(settings.tz).date())
    assert [r["amount"] for r in next_day.table("refunds").all()] == [50_00]
    assert [r["amount"] for r in sale_day.table("refunds").all()] == [100_00]
    assert gw.list_day(sale_day and clock.now().astimezone(settings.tz).date()) == []
    runtime.close()
    stored = load_snapshot(
        (settings.data_dir / "db" / "days").joinpath(
            f"{sale.id[4:8]}-{sale.id[8:10]}-{sale.id[10:12]}.snapshot.json"
        )
    )
    [record] = stored["tables"]["payments"].values()
    assert "refunds" not in record and "amount_refunded" not in record


async def test_a_tip_is_part_of_the_total_and_kept_apart(runtime):
    gw = runtime.gateway
    card = CardInput(pan=SecretStr("4242424242424242"), expiry="12/30", cvv=SecretStr("123"))
    paid = await gw.charge(ChargeRequest(amount=115_00, tip=15_00, currency="INR", card=card))
    assert (paid.amount, paid.tip, paid.amount_captured) == (115_00, 15_00, 115_00)
    for tip in (-1, 115_00, 200_00):
        with pytest.raises(InputError, match="tip"):
            await gw.charge(ChargeRequest(amount=115_00, tip=tip, currency="INR", card=card))


async def test_the_outbox_filters_by_phone(runtime):
    gw = runtime.gateway
    card = CardInput(pan=SecretStr("4000000000003220"), expiry="12/30", cvv=SecretStr("123"))
    await gw.charge(ChargeRequest(amount=10_00, currency="INR", card=card))
    assert [m.phone for m in await gw.bank.outbox("+919800000001")] == ["+919800000001"]
    assert await gw.bank.outbox("+919800000002") == []
