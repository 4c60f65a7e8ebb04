"""The delivery worker: events from the audit log, signed, in order per payment, retried
with backoff on a test clock, given up and the endpoint disabled, replayed, and
delivered again after a crash between the 2xx and its record."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from support import (
    MANAGER,
    VISA,
    card_for,
    charge,
    gateway_settings,
    latest_otp,
    open_runtime,
    pay_upi,
)
from webhook_support import URL, Receiver, webhooks

from gateway_core.gateway import ChargeRequest
from gateway_core.payments import UpiInput
from gateway_core.webhooks.endpoints import notices

DECLINED = card_for("4000 0000 0000 0002")


async def test_a_sale_its_capture_and_refund_become_signed_events(runtime) -> None:
    receiver = Receiver()
    endpoints, worker = webhooks(runtime, receiver)
    _endpoint, secret = endpoints.add(runtime.settings.merchant_id, URL, None, actor="t")
    receiver.secret = secret
    gw = runtime.gateway
    sale = await gw.charge(charge(VISA))
    hold = await gw.charge(charge(VISA, 50_00, capture="manual"))
    await gw.capture(hold.id, 30_00)
    await gw.refund(sale.id, 40_00, approval=MANAGER)
    declined = await gw.charge(charge(DECLINED))
    done = await worker.run_once()
    await worker.aclose()
    assert done.made == done.delivered == 5 and done.failed == 0
    in_order = sorted(receiver.got, key=lambda e: e["sequence"])  # payments go side by side
    got = [(e["type"], e["data"]["object"]["id"]) for e in in_order]
    refund_id = f"re_{sale.id.removeprefix('pay_')}_1"
    assert got == [
        ("payment.succeeded", sale.id),
        ("payment.requires_capture", hold.id),
        ("payment.captured", hold.id),
        ("refund.succeeded", refund_id),
        ("payment.declined", declined.id),
    ]
    refund = in_order[3]["data"]
    assert refund["object"]["amount"] == 40_00 and refund["payment"]["id"] == sale.id
    assert receiver.ids == [e["id"] for e in receiver.got]
    assert len(set(receiver.ids)) == 5
    card = in_order[0]["data"]["object"]["card"]
    assert set(card) == {"brand", "bin6", "last4"} and card["last4"] == "4242"
    text = json.dumps(receiver.got)
    assert "fingerprint" not in text and "token" not in text and "4242424242424242" not in text
    assert runtime.records.webhooks.deliveries(state="pending") == []


async def test_an_endpoint_gets_only_its_events_and_nothing_from_before(runtime) -> None:
    receiver = Receiver()
    endpoints, worker = webhooks(runtime, receiver)
    await runtime.gateway.charge(charge(VISA))  # before the endpoint: never sent
    endpoints.add(runtime.settings.merchant_id, URL, ["payment.declined"], actor="t")
    await runtime.gateway.charge(charge(VISA))
    declined = await runtime.gateway.charge(charge(DECLINED))
    await worker.run_once()
    await worker.aclose()
    assert [(e["type"], e["data"]["object"]["id"]) for e in receiver.got] == [
        ("payment.declined", declined.id)
    ]


async def test_retries_back_off_on_the_test_clock_and_a_payment_waits_for_its_first(
    runtime, clock
) -> None:
    """P's first event fails: P's later event waits behind it, another payment's does
    not; the retries come after growing waits; a 2xx then lets P's next one go."""
    down = {"on": True}
    receiver = Receiver(answer=lambda e: 500 if down["on"] and e["sequence"] == first_seq else 200)
    endpoints, worker = webhooks(runtime, receiver)
    endpoints.add(runtime.settings.merchant_id, URL, None, actor="t")
    gw = runtime.gateway
    hold = await gw.charge(charge(VISA, 50_00, capture="manual"))
    first_seq = runtime.records.audit.head()["seq"]
    await gw.capture(hold.id)
    other = await gw.charge(charge(VISA))
    await worker.run_once()
    assert [e["type"] for e in receiver.delivered] == ["payment.succeeded"]
    assert receiver.delivered[0]["data"]["object"]["id"] == other.id
    (pending_first, pending_next) = sorted(
        runtime.records.webhooks.deliveries(state="pending"), key=lambda d: d["seq"]
    )
    assert pending_first["type"] == "payment.requires_capture"
    assert pending_next["attempts"] == []  # held back, never sent

    waits = []
    for _ in range(4):
        before = runtime.records.webhooks.delivery(pending_first["id"])
        due = before["next_at"]
        await worker.run_once()  # not due yet: nothing sent
        assert len(runtime.records.webhooks.delivery(pending_first["id"])["attempts"]) == len(
            before["attempts"]
        )
        clock.advance(seconds=(datetime.fromisoformat(due) - clock.now()).total_seconds())
        await worker.run_once()
        after = runtime.records.webhooks.delivery(pending_first["id"])
        waits.append((datetime.fromisoformat(after["next_at"]) - clock.now()).total_seconds())
    assert all(w >= 15 for w in waits) and waits == sorted(waits)
    assert waits[-1] > 2 * waits[0]

    down["on"] = False
    clock.advance(days=1)
    await worker.run_once()
    await worker.aclose()
    types = [e["type"] for e in receiver.delivered]
    assert types == ["payment.succeeded", "payment.requires_capture", "payment.captured"]
    log = runtime.records.webhooks.delivery(pending_first["id"])
    assert log["state"] == "delivered" and [a["status"] for a in log["attempts"]] == [500] * 5 + [
        200
    ]


async def test_after_3_days_of_failures_the_delivery_gives_up_and_the_endpoint_is_disabled(
    runtime, clock
) -> None:
    receiver = Receiver(status=503)
    endpoints, worker = webhooks(runtime, receiver)
    endpoint, _ = endpoints.add(runtime.settings.merchant_id, URL, None, actor="t")
    await runtime.gateway.charge(charge(VISA))
    for _ in range(200):
        await worker.run_once()
        if endpoints.get(endpoint.id).state == "disabled":
            break
        clock.advance(hours=1)
    disabled = endpoints.get(endpoint.id)
    assert disabled.state == "disabled" and "3 days" in disabled.disabled_reason
    (delivery,) = runtime.records.webhooks.deliveries()
    assert delivery["state"] == "failed" and 10 <= len(delivery["attempts"]) <= 30
    actions = [e["action"] for _d, e in runtime.records.audit.events()]
    assert actions.count("webhook.endpoint_disabled") == 1
    (line,) = notices(runtime.records.webhooks, runtime.settings.merchant_id)
    assert endpoint.id in line and "shop.example" in line and "enable" in line

    # disabled: nothing is sent, the events wait; enabled again: they go, from where it stopped
    tries = len(receiver.got)
    later = await runtime.gateway.charge(charge(VISA))
    await worker.run_once()
    assert len(receiver.got) == tries
    receiver.status = 200
    endpoints.enable(endpoint.id, actor="t")
    assert notices(runtime.records.webhooks, runtime.settings.merchant_id) == []
    await worker.run_once()
    await worker.aclose()
    assert receiver.delivered[-1]["data"]["object"]["id"] == later.id


async def test_replay_sends_the_same_event_again(runtime) -> None:
    receiver = Receiver()
    endpoints, worker = webhooks(runtime, receiver)
    endpoints.add(runtime.settings.merchant_id, URL, None, actor="t")
    await runtime.gateway.charge(charge(VISA))
    await worker.run_once()
    (delivery,) = runtime.records.webhooks.deliveries()
    replayed = await worker.replay(delivery["id"])
    await worker.aclose()
    assert receiver.got[0] == receiver.got[1] and receiver.ids[0] == receiver.ids[1]
    assert replayed["state"] == "delivered" and replayed["attempts"][-1]["replay"] is True


async def test_a_test_event_is_sent_and_logged(runtime) -> None:
    receiver = Receiver(status=404)
    endpoints, worker = webhooks(runtime, receiver)
    endpoint, secret = endpoints.add(runtime.settings.merchant_id, URL, None, actor="t")
    receiver.secret = secret
    sent = await worker.test(endpoint.id)
    await worker.aclose()
    assert receiver.got[0]["type"] == "webhook.test"
    assert sent["state"] == "failed" and sent["attempts"][0]["status"] == 404
    assert runtime.records.webhooks.delivery(sent["id"])["state"] == "failed"


class Killed(BaseException):
    """The process dies (not an error anything catches)."""


async def test_killed_after_the_2xx_before_its_record_delivers_again_with_the_same_id(
    tmp_path, clock, monkeypatch, database_url
) -> None:
    """On both stores: the delivery's record never moved, so the next process sends it
    again (and makes no second delivery of the event)."""
    settings = gateway_settings(tmp_path / "data", 5.0, database_url)
    receiver = Receiver()
    rt = open_runtime(settings, clock=clock)
    endpoints, worker = webhooks(rt, receiver)
    endpoints.add(rt.settings.merchant_id, URL, None, actor="t")
    await rt.gateway.charge(charge(VISA))

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(type(rt.records.webhooks), "update_delivery", die)
    with pytest.raises(Killed):
        await worker.run_once()
    await worker.aclose()
    rt.close()
    monkeypatch.undo()

    rt = open_runtime(settings, clock=clock)
    try:
        _endpoints, worker = webhooks(rt, receiver)
        done = await worker.run_once()
        await worker.aclose()
        assert done.made == 0 and done.delivered == 1
        assert len(receiver.got) == 2 and receiver.ids[0] == receiver.ids[1]
        assert rt.records.webhooks.deliveries()[0]["state"] == "delivered"
    finally:
        rt.close()


async def test_an_otp_sale_and_a_upi_payment_tell_each_step(runtime) -> None:
    receiver = Receiver()
    endpoints, worker = webhooks(runtime, receiver)
    endpoints.add(runtime.settings.merchant_id, URL, None, actor="t")
    gw = runtime.gateway
    otp_sale = await gw.charge(charge(card_for("4000 0000 0000 3220")))
    await gw.confirm_otp(otp_sale.id, await latest_otp(gw))
    upi = await pay_upi(
        runtime, ChargeRequest(amount=250_00, currency="INR", method="upi", upi=UpiInput(flow="qr"))
    )
    await worker.run_once()
    await worker.aclose()
    steps = sorted(receiver.got, key=lambda e: e["sequence"])
    assert [(e["type"], e["data"]["object"]["id"]) for e in steps] == [
        ("payment.requires_action", otp_sale.id),
        ("payment.succeeded", otp_sale.id),
        ("payment.pending", upi.id),
        ("payment.succeeded", upi.id),
    ]
    assert steps[2]["data"]["object"]["card"] is None
    # read once both steps were stored, each event still tells its own status
    assert [e["data"]["object"]["status"] for e in steps] == [
        "requires_action",
        "succeeded",
        "pending",
        "succeeded",
    ]
