"""Hostile input to the API gets a clear 4xx that echoes no card data: unknown card
fields, deep JSON, idempotency keys that are not printable ASCII, dates out of range."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support import VISA, gateway_settings, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.service.app import create_app
from gateway_core.service.keys import ApiKeys

PAN = VISA.pan.replace(" ", "")
CARD = {"number": PAN, "expiry": "12/30", "cvv": VISA.cvv}
MAX_JSON_DEPTH = 32  # as gateway_core.service.models says


@pytest.fixture
async def client(tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """The API in process, authenticated as a terminal of the demo merchant."""
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    _key, secret = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).issue(
        "PAYGATEDEMO0001", "TERM0001", actor="owner"
    )
    transport = httpx.ASGITransport(app=create_app(rt, repair_on_start=False))
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gw", headers=headers
        ) as http:
            yield http
    finally:
        await rt.aclose()


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


@pytest.mark.parametrize(
    "card",
    [
        {**CARD, PAN: "1"},  # a card number as a field name
        {**CARD, "cvv2": VISA.cvv},
        {**CARD, "number": {PAN: PAN}},
        {**CARD, "number": [PAN, VISA.cvv]},
        {**CARD, "expiry": {"12/30": VISA.cvv}},
    ],
)
async def test_a_bad_card_field_is_named_without_echoing_what_was_sent(
    client: httpx.AsyncClient, card: dict
) -> None:
    response = await client.post("/v1/payments", json={"amount": 100, "card": card})
    error = error_of(response, 422)
    assert error["param"] in ("card", "card.number", "card.expiry", "card.cvv")
    for secret in (PAN, PAN[-4:] + '"', "cvv2", "12/30"):
        assert secret not in response.text


async def test_an_unknown_plain_field_is_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/payments", json={"amount": 100, "card": CARD, "amonut": 1})
    assert error_of(response, 422)["param"] == "amonut"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000])
async def test_json_nested_too_deep_is_refused_with_its_own_error(
    client: httpx.AsyncClient, depth: int
) -> None:
    body = "[" * depth + "]" * depth
    headers = {"Content-Type": "application/json"}
    response = await client.post("/v1/payments", content=body, headers=headers)
    error = error_of(response, 400)
    assert error["code"] == "json_too_deep"
    assert str(MAX_JSON_DEPTH) in error["message"]


def test_json_depth_skips_brackets_inside_strings() -> None:
    from gateway_core.service.limits import json_depth
    from gateway_core.service.models import MAX_JSON_DEPTH as configured

    assert configured == MAX_JSON_DEPTH
    assert json_depth(b'{"a": ["[[[", {"b": "\\"{{"}]}') == 3
    assert json_depth(b"") == 0


@pytest.mark.parametrize(
    "key",
    ["clé-ü".encode(), "キー".encode(), b"tab\there", b"x" * 256],
)
async def test_an_idempotency_key_that_is_not_printable_ascii_is_refused(
    client: httpx.AsyncClient, key: bytes
) -> None:
    response = await client.post(
        "/v1/payments", json={"amount": 100, "card": CARD}, headers={"Idempotency-Key": key}
    )
    error = error_of(response, 422)
    assert error["param"] == "Idempotency-Key"
    assert "printable ASCII" in error["message"]
    listed = await client.get("/v1/payments", params={"date": "2026-11-28"})
    assert listed.json()["data"] == []  # nothing was charged


async def test_a_printable_ascii_idempotency_key_comes_back_as_sent(
    client: httpx.AsyncClient,
) -> None:
    key = "order #42 / till-3 ~ ok"
    response = await client.post(
        "/v1/payments", json={"amount": 100, "card": CARD}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 200 and response.json()["idempotency_key"] == key


@pytest.mark.parametrize(
    "day", ["0001-01-01", "9999-12-31", "9999-12-30", "1999-12-31", "3000-01-01", "garbage"]
)
@pytest.mark.parametrize("path", ["/v1/payments", "/v1/reports/x"])
async def test_a_date_out_of_range_or_malformed_is_a_422(
    client: httpx.AsyncClient, path: str, day: str
) -> None:
    error = error_of(await client.get(path, params={"date": day}), 422)
    assert error["param"] == "date" and "\n" not in error["message"]
