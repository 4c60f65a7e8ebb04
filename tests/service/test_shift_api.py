"""Shifts and cash through the HTTP API: open on the key's terminal, paid in / out and
close with approvals in the body, the report, a day's list, the current shift; a cash
payment with `tendered`; bad input one line (4xx), another merchant's shift unknown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import MANAGER, gateway_settings, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.keys import ApiKeys

MERCHANT, OTHER = "PAYGATEDEMO0001", "OTHERSHOP01"
APPROVAL = {"approver_id": MANAGER.user_id, "pin": MANAGER.pin}
FLOAT = {"50000": 2, "10000": 5}


@dataclass
class Api:
    client: httpx.AsyncClient
    rt: Runtime
    secrets: dict[str, str]

    async def call(self, method: str, path: str, who: str = "t1", **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.secrets[who]}"}
        return await self.client.request(method, path, headers=headers, **kw)

    async def open(self, who: str = "t1", count: dict = FLOAT) -> dict:
        answer = await self.call(
            "POST", "/v1/shifts", who, json={"count": count, "cashier": "asha"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    issued = {
        "t1": keys.issue(MERCHANT, "TERM0001", actor="owner")[1],
        "t2": keys.issue(MERCHANT, "TERM0002", actor="owner")[1],
        "other": keys.issue(OTHER, "TERM0001", actor="owner")[1],
    }
    await board_merchants(rt.gateway.bank, keys)
    app = create_app(rt, repair_on_start=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as client:
            yield Api(client, rt, issued)
    finally:
        await rt.aclose()


def error(answer: httpx.Response) -> tuple[int, str]:
    body = answer.json()["error"]
    assert "\n" not in body["message"]
    return answer.status_code, body["message"]


async def test_a_shift_from_open_to_close(api: Api) -> None:
    shift = await api.open()
    assert (shift["terminal_id"], shift["float_amount"], shift["status"]) == (
        "TERM0001",
        150000,
        "open",
    )
    current = await api.call("GET", "/v1/shifts/current")
    assert current.json()["id"] == shift["id"]
    assert (await api.call("GET", "/v1/shifts/current", "t2")).json() is None
    sale = await api.call(
        "POST", "/v1/payments", json={"method": "cash", "amount": 9960, "cash": {"tendered": 20000}}
    )
    assert sale.status_code == 200, sale.text
    paid = sale.json()
    assert (paid["status"], paid["cash"]["change"], paid["cash"]["shift_id"]) == (
        "succeeded",
        10040,
        shift["id"],
    )
    assert paid["next_action"] is None
    moved = await api.call(
        "POST",
        f"/v1/shifts/{shift['id']}/cash",
        json={
            "kind": "paid_out",
            "amount": 50_00,
            "reason": "milk",
            "approval": APPROVAL,
            "operator": "asha",
        },
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["approver"], moved.json()["operator"]) == ("meera", "asha")
    refund = await api.call(
        "POST", f"/v1/payments/{paid['id']}/refunds", json={"amount": 960, "approval": APPROVAL}
    )
    assert refund.status_code == 200, refund.text
    report = (await api.call("GET", f"/v1/shifts/{shift['id']}")).json()
    assert (report["sales"], report["refunds"], report["paid_out"]) == (9960, 960, 50_00)
    assert report["shift"]["expected"] == 150000 + 9960 - 960 - 50_00
    closed = await api.call(
        "POST", f"/v1/shifts/{shift['id']}/close", json={"count": {"50000": 3}, "operator": "asha"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["shift"]["over_short"] == 150000 - 154000
    listed = (await api.call("GET", "/v1/shifts")).json()
    assert [s["id"] for s in listed] == [shift["id"]]
    assert (await api.call("GET", "/v1/shifts", params={"date": "2026-11-27"})).json() == []


async def test_refusals_are_one_line(api: Api) -> None:
    no_shift = await api.call(
        "POST", "/v1/payments", json={"method": "cash", "amount": 100, "cash": {"tendered": 100}}
    )
    assert error(no_shift) == (
        400,
        "no shift is open on TERM0001: open one first (paygate shift open)",
    )
    shift = await api.open()
    again = await api.call("POST", "/v1/shifts", json={"count": {}, "cashier": "asha"})
    assert error(again) == (400, f"shift {shift['id']} is already open on TERM0001: close it first")
    short = await api.call(
        "POST", "/v1/payments", json={"method": "cash", "amount": 9960, "cash": {"tendered": 9000}}
    )
    assert error(short) == (400, "tendered ₹90.00 is less than the ₹99.60 due")
    missing = await api.call("POST", "/v1/payments", json={"method": "cash", "amount": 100})
    assert error(missing)[0] == 422
    mixed = await api.call(
        "POST", "/v1/payments", json={"method": "upi", "amount": 100, "cash": {"tendered": 100}}
    )
    assert error(mixed) == (422, "cash: only a cash payment (method cash) takes cash fields")
    coin = await api.call("POST", f"/v1/shifts/{shift['id']}/close", json={"count": {"300": 1}})
    assert error(coin) == (400, "₹3.00 is not a INR note or coin")
    pieces = await api.call("POST", f"/v1/shifts/{shift['id']}/close", json={"count": {"100": -1}})
    assert error(pieces)[0] == 422
    unapproved = await api.call(
        "POST",
        f"/v1/shifts/{shift['id']}/cash",
        json={"kind": "paid_in", "amount": 100, "reason": "x"},
    )
    assert error(unapproved) == (403, "a paid in needs a manager's approval (ID and PIN)")
    big_short = await api.call("POST", f"/v1/shifts/{shift['id']}/close", json={"count": {}})
    assert error(big_short)[0] == 403
    elsewhere = await api.call(
        "POST", "/v1/shifts", json={"count": {}, "cashier": "asha", "terminal_id": "TERM0002"}
    )
    assert error(elsewhere) == (400, "this key opens shifts on TERM0001 only")
    theirs = await api.call("GET", f"/v1/shifts/{shift['id']}", "other")
    assert error(theirs) == (400, f"no shift {shift['id']}")
    assert (await api.call("GET", "/v1/shifts", "other")).json() == []
    assert (await api.call("GET", "/v1/shifts/current")).json()["status"] == "open"


def test_no_shift_body_answers_a_500(tmp_path: Path, clock: FixedClock) -> None:
    """Hypothesis writes shift bodies (counts of any keys and pieces, kinds, amounts,
    reasons, approvals, broken JSON): every answer is a 200 or one 4xx error."""
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    key = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).issue(
        MERCHANT, "TERM0001", actor="t"
    )
    runner = asyncio.Runner()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(rt, repair_on_start=False)),
        base_url="http://gw",
        headers={"Authorization": f"Bearer {key[1]}", "Content-Type": "application/json"},
    )
    anything = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.text(max_size=90)
    counts = st.dictionaries(st.integers(-5, 10**7).map(str) | st.text(max_size=5), anything)
    body = st.fixed_dictionaries(
        {},
        optional={
            "count": counts | anything,
            "cashier": anything,
            "kind": st.sampled_from(["paid_in", "paid_out"]) | anything,
            "amount": anything,
            "reason": anything,
            "operator": anything,
            "approval": st.just(APPROVAL) | anything,
        },
    )
    raw = body.map(json.dumps).map(str.encode) | st.binary(max_size=60)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(content=raw, path=st.sampled_from(["", "/close", "/cash"]))
    def post(content: bytes, path: str) -> None:
        current = runner.run(client.get("/v1/shifts/current")).json()
        url = "/v1/shifts" + (f"/{current['id']}{path}" if current and path else "")
        answer = runner.run(client.post(url, content=content))
        assert answer.status_code < 500, answer.text
        if answer.status_code != 200:
            error = answer.json()["error"]
            assert set(error) == {"type", "code", "message", "param"}
            assert "\n" not in error["message"]

    try:
        opened = runner.run(client.post("/v1/shifts", json={"count": {}, "cashier": "asha"}))
        assert opened.status_code == 200
        post()
    finally:
        runner.run(client.aclose())
        runner.run(rt.aclose())
        runner.close()
