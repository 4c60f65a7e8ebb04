"""Webhooks from the processors, `POST /processors/{name}/webhook`, on both stores:
verified by the processor's connector, applied to the payment the provider's id belongs
to, each event once (a replay changes nothing and answers 200, also after a restart),
a bad signature is a 400 of one line and changes nothing; audited `processor.webhook`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from routing_support import Scripted, event_body, routed_runtime, sign
from support import VISA, actions, charge

from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.service.app import create_app


@dataclass
class Hooks:
    rt: Runtime
    stripe: Scripted
    client: httpx.AsyncClient

    async def send(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        headers = sign(body) if headers is None else headers
        return await self.client.post("/processors/stripe/webhook", content=body, headers=headers)

    def webhooks(self, subject: str) -> list[dict]:
        return [
            e["details"]
            for _d, e in self.rt.records.audit.events()
            if e["subject"] == subject and e["action"] == "processor.webhook"
        ]


@asynccontextmanager
async def serving(
    data_dir: Path, clock: FixedClock, database_url: str | None
) -> AsyncIterator[Hooks]:
    rules = [{"processors": ["stripe"]}]
    rt, scripted = routed_runtime(data_dir, clock, rules, database_url=database_url)
    app = create_app(rt, repair_on_start=False, poll_every_s=None)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Hooks(rt, scripted["stripe"], client)
    finally:
        await rt.aclose()


@pytest.fixture
async def hooks(
    tmp_path: Path, clock: FixedClock, database_url: str | None
) -> AsyncIterator[Hooks]:
    async with serving(tmp_path / "data", clock, database_url) as opened:
        yield opened


async def test_an_event_moves_a_waiting_payment_once(hooks: Hooks) -> None:
    hooks.stripe.script = ["pending"]
    payment = await hooks.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor_reference) == ("pending", "stripe_1")
    body = event_body("evt_1", "stripe_1", "succeeded", "payment_intent.succeeded")
    answer = await hooks.send(body)
    assert (answer.status_code, answer.json()) == (200, {"received": True, "outcome": "applied"})
    paid = hooks.rt.gateway.get(payment.id)
    assert (paid.status, paid.amount_captured) == ("succeeded", 100_00)
    assert hooks.webhooks(payment.id) == [
        {
            "processor": "stripe",
            "event": "payment_intent.succeeded",
            "event_id": "evt_1",
            "outcome": "succeeded",
        }
    ]
    before = actions(hooks.rt, payment.id)
    replay = await hooks.send(body)
    assert (replay.status_code, replay.json()["outcome"]) == (200, "replayed")
    assert actions(hooks.rt, payment.id) == before  # nothing written


async def test_a_bad_signature_is_one_line_and_changes_nothing(hooks: Hooks) -> None:
    hooks.stripe.script = ["pending"]
    payment = await hooks.rt.gateway.charge(charge(VISA))
    body = event_body("evt_2", "stripe_1", "succeeded")
    before = actions(hooks.rt, payment.id)
    answer = await hooks.send(body, {"X-Test-Signature": "0" * 64})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "the webhook's signature does not match"
    assert hooks.rt.gateway.get(payment.id).status == "pending"
    assert actions(hooks.rt, payment.id) == before
    assert (await hooks.send(body)).json()["outcome"] == "applied"  # signed, it counts


async def test_an_event_that_changes_nothing_is_noted_once(hooks: Hooks) -> None:
    payment = await hooks.rt.gateway.charge(charge(VISA))
    assert payment.status == "succeeded"
    body = event_body("evt_3", "stripe_1", "succeeded", "charge.refunded")
    assert (await hooks.send(body)).json()["outcome"] == "noted"
    assert (await hooks.send(body)).json()["outcome"] == "replayed"
    assert [w["outcome"] for w in hooks.webhooks(payment.id)] == ["no change"]
    stray = event_body("evt_4", "stripe_99", "succeeded")
    assert (await hooks.send(stray)).json()["outcome"] == "noted"
    assert [w["outcome"] for w in hooks.webhooks("stripe:stripe_99")] == ["no such payment here"]


async def test_a_processor_not_set_up_is_refused(hooks: Hooks) -> None:
    answer = await hooks.client.post("/processors/adyen/webhook", content=b"{}")
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "no processor 'adyen' is set up here"


async def test_an_event_is_taken_once_across_a_restart(
    tmp_path: Path, clock: FixedClock, database_url: str | None
) -> None:
    body = event_body("evt_5", "stripe_1", "succeeded")
    async with serving(tmp_path / "data", clock, database_url) as first:
        first.stripe.script = ["pending"]
        payment = await first.rt.gateway.charge(charge(VISA))
        assert (await first.send(body)).json()["outcome"] == "applied"
    async with serving(tmp_path / "data", clock, database_url) as again:
        assert (await again.send(body)).json()["outcome"] == "replayed"
        assert len(again.webhooks(payment.id)) == 1
