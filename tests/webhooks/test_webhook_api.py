"""`/v1/webhook_endpoints` and `/v1/webhook_deliveries`, in process (ASGI transport)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from support import VISA, charge, gateway_settings, open_runtime
from webhook_support import URL, Receiver, webhooks

from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.keys import ApiKeys
from gateway_core.service.routes.webhooks import Webhooks

MERCHANT, OTHER = "PAYGATEDEMO0001", "OTHERSHOP01"
OWNER = {"approver_id": "owner", "pin": "9876"}


class Api:
    def __init__(self, client, rt, hooks: Webhooks, receiver, tokens) -> None:
        self.client, self.rt, self.hooks = client, rt, hooks
        self.receiver, self.tokens = receiver, tokens

    def auth(self, who: str = "mine") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def post(self, path: str, body: dict | None = None, who: str = "mine") -> httpx.Response:
        return await self.client.post(path, json=body or {}, headers=self.auth(who))

    async def get(self, path: str, who: str = "mine", **params) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth(who))


@pytest.fixture
async def api(tmp_path, clock) -> AsyncIterator[Api]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    tokens = {
        "mine": keys.issue(MERCHANT, "TERM0001", actor="owner")[1],
        "other": keys.issue(OTHER, "TERM0001", actor="owner")[1],
    }
    await board_merchants(rt.gateway.bank, keys)
    app = create_app(rt, repair_on_start=False, poll_every_s=None)
    receiver = Receiver()
    app.state.webhooks = Webhooks(*webhooks(rt, receiver))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Api(client, rt, app.state.webhooks, receiver, tokens)
    finally:
        await app.state.webhooks.deliverer.aclose()
        await rt.aclose()


async def test_an_admin_adds_an_endpoint_that_gets_the_merchants_events(api: Api) -> None:
    added = await api.post("/v1/webhook_endpoints", {"url": URL, "events": None, "approval": OWNER})
    assert added.status_code == 200, added.text
    endpoint, secret = added.json()["endpoint"], added.json()["secret"]
    assert secret.startswith("whsec_") and endpoint["events"] == ["*"]
    api.receiver.secret = secret
    listed = (await api.get("/v1/webhook_endpoints")).json()
    assert [e["id"] for e in listed] == [endpoint["id"]] and secret not in str(listed)
    assert (await api.get("/v1/webhook_endpoints", who="other")).json() == []
    assert (
        await api.get(f"/v1/webhook_endpoints/{endpoint['id']}", who="other")
    ).status_code == 404

    payment = await api.rt.gateway.charge(charge(VISA))
    await api.hooks.deliverer.run_once()
    assert [e["data"]["object"]["id"] for e in api.receiver.got] == [payment.id]

    log = (await api.get("/v1/webhook_deliveries", endpoint=endpoint["id"])).json()
    assert [(d["type"], d["state"]) for d in log] == [("payment.succeeded", "delivered")]
    assert "body" not in log[0]
    replayed = await api.post(f"/v1/webhook_deliveries/{log[0]['id']}/replay")
    assert replayed.status_code == 200 and replayed.json()["tries"] == 2
    assert api.receiver.ids[0] == api.receiver.ids[1]
    other = await api.post(f"/v1/webhook_deliveries/{log[0]['id']}/replay", who="other")
    assert other.status_code == 404
    tested = await api.post(f"/v1/webhook_endpoints/{endpoint['id']}/test")
    assert tested.status_code == 200 and tested.json()["type"] == "webhook.test"
    assert (await api.get("/v1/webhook_deliveries", failed="true")).json() == []

    removed = await api.post(f"/v1/webhook_endpoints/{endpoint['id']}/remove", {"approval": OWNER})
    assert removed.status_code == 200 and removed.json()["state"] == "removed"
    assert (await api.get("/v1/webhook_endpoints")).json() == []


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"url": "ftp://x.example/", "approval": OWNER}, 400, "http:// or https://"),
        ({"url": "https://x.example/", "events": ["nope"], "approval": OWNER}, 400, "no event"),
        ({"url": "https://x.example/"}, 422, "approval"),
        ({"url": "https://x.example/", "approval": {**OWNER, "pin": "0000"}}, 403, "PIN"),
        (
            {"url": "https://x.example/", "approval": {"approver_id": "meera", "pin": "4321"}},
            403,
            "",
        ),
        ({"url": "https://x.example/", "approval": OWNER, "secret": "mine"}, 422, "unknown"),
    ],
    ids=["scheme", "event", "no-approval", "wrong-pin", "not-admin", "extra-field"],
)
async def test_bad_input_is_a_4xx_in_one_line_and_stores_nothing(api: Api, body, status, says):
    answer = await api.post("/v1/webhook_endpoints", body)
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]["message"]
    assert says in message and "\n" not in message
    assert api.rt.records.webhooks.endpoints() == []


async def test_unknown_ids_are_404s(api: Api) -> None:
    assert (await api.get("/v1/webhook_endpoints/we_nope")).status_code == 404
    assert (await api.post("/v1/webhook_endpoints/we_nope/test")).status_code == 404
    gone = await api.post("/v1/webhook_endpoints/we_nope/enable", {"approval": OWNER})
    assert gone.status_code == 404
    assert (await api.post("/v1/webhook_deliveries/whd_nope/replay")).status_code == 404
    assert (await api.get("/v1/webhook_deliveries", endpoint="we_nope")).status_code == 404
    assert (await api.get("/v1/webhook_deliveries", limit="0")).status_code == 422
    assert (await api.client.get("/v1/webhook_endpoints")).status_code == 401


async def test_the_server_delivers_on_its_own_while_it_runs(tmp_path, clock) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    app = create_app(rt, repair_on_start=False, poll_every_s=3600)  # its worker runs
    came = asyncio.Event()
    receiver = Receiver(answer=lambda event: came.set() or 200)
    app.state.webhooks = hooks = Webhooks(*webhooks(rt, receiver))
    try:
        hooks.endpoints.add(MERCHANT, URL, None, actor="t")
        sale = await rt.gateway.charge(charge(VISA))
        async with app.router.lifespan_context(app):  # as `paygate serve` starts and stops
            await asyncio.wait_for(came.wait(), timeout=60)
        assert [e["data"]["object"]["id"] for e in receiver.got] == [sale.id]
    finally:
        await rt.aclose()
