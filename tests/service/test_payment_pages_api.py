"""GET /v1/payments a page at a time: `?limit=` gives the caller's merchant's payments of
the day newest first with `has_more`, `?after=` the last id shown; another merchant's
payments never appear, and a bad cursor is one line (4xx) that changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support import gateway_settings, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.keys import ApiKeys

CARD = {"number": "4242424242424242", "expiry": "12/30", "cvv": "123"}


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[tuple[httpx.AsyncClient, dict]]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    headers = {
        who: {"Authorization": f"Bearer {keys.issue(merchant, 'TERM0001', actor='owner')[1]}"}
        for who, merchant in (("mine", "PAYGATEDEMO0001"), ("other", "OTHERSHOP01"))
    }
    await board_merchants(rt.gateway.bank, keys)
    app = create_app(rt, repair_on_start=False)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client, headers
    finally:
        await rt.aclose()


async def _sale(client: httpx.AsyncClient, headers: dict, amount: int) -> str:
    body = {"amount": amount, "currency": "INR", "method": "card", "card": CARD}
    answer = await client.post("/v1/payments", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


async def test_pages_are_the_merchants_day_newest_first(api, clock: FixedClock) -> None:
    client, headers = api
    mine = []
    for amount in (1_00, 2_00, 3_00, 4_00, 5_00):
        mine.append(await _sale(client, headers["mine"], amount))
        await _sale(client, headers["other"], amount)
        clock.advance(seconds=60)
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"after": after} if after else {})
        answer = await client.get("/v1/payments", params=params, headers=headers["mine"])
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen += [p["id"] for p in body["data"]]
        pages += 1
        if not body["has_more"]:
            break
        after = body["data"][-1]["id"]
    assert (seen, pages) == (mine[::-1], 3)
    whole = await client.get("/v1/payments", headers=headers["mine"])
    assert [p["id"] for p in whole.json()["data"]] == mine  # no limit: the day, oldest first


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 2, "after": "pay_20000101_0000000000"},
        {"limit": 0},
        {"limit": "x"},
        {"after": "pay_20000101_0000000000"},
    ],
)
async def test_a_bad_page_is_one_line(api, params: dict) -> None:
    client, headers = api
    await _sale(client, headers["mine"], 1_00)
    answer = await client.get("/v1/payments", params=params, headers=headers["mine"])
    assert 400 <= answer.status_code < 500, answer.text
    assert "\n" not in answer.json()["error"]["message"]


async def test_another_merchants_payment_is_no_cursor(api) -> None:
    client, headers = api
    theirs = await _sale(client, headers["other"], 1_00)
    answer = await client.get(
        "/v1/payments", params={"limit": 5, "after": theirs}, headers=headers["mine"]
    )
    assert answer.status_code == 422 and theirs not in answer.text
