"""Whatever arrives at the API, nothing answers 500 and no answer holds a full card
number: hypothesis writes the bodies (card numbers planted anywhere, wrong types,
broken JSON, valid payments with a few fields replaced) for every endpoint that takes one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import gateway_settings, open_runtime, pan_pattern

from bank_sim.testcards import TEST_CARDS
from gateway_core.clock import FixedClock
from gateway_core.service.app import create_app
from gateway_core.service.keys import ApiKeys

PANS = [c.pan for c in TEST_CARDS] + [c.digits for c in TEST_CARDS]
PATTERNS = [pan_pattern(c.pan) for c in TEST_CARDS]
FIELDS = ["amount", "currency", "tip", "capture_method", "card", "number", "expiry", "cvv",
          "operator", "otp", "approval", "approver_id", "pin"]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(PANS)
    | st.sampled_from(["12/30", "123", "INR", "manual", "meera", "4321", "asha"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=12,
)
valid_payment = st.fixed_dictionaries(
    {
        "amount": st.integers(min_value=1, max_value=10**6),
        "card": st.fixed_dictionaries(
            {
                "number": st.sampled_from(PANS),
                "expiry": st.just("12/30"),
                "cvv": st.sampled_from(["123", "1234"]),
            }
        ),
    },
    optional={
        "currency": st.sampled_from(["INR", "JPY", "KWD"]),
        "tip": st.integers(min_value=0, max_value=100),
        "capture_method": st.sampled_from(["automatic", "manual"]),
        "operator": st.sampled_from(["asha", "meera"]),
    },
)
planted = st.sampled_from(PANS) | values


def changes(*fields: str) -> st.SearchStrategy[dict]:
    return st.dictionaries(st.sampled_from(fields), planted, max_size=2)


def _changed(body: dict, top: dict, card: dict) -> dict:
    """A valid payment with a few fields (of the body and of its card) replaced."""
    body = {**body, **top}
    if isinstance(body.get("card"), dict):
        body["card"] = {**body["card"], **card}
    return body


payment = st.builds(
    _changed,
    valid_payment,
    changes("amount", "currency", "tip", "capture_method", "card", "operator"),
    changes("number", "expiry", "cvv"),
)
bodies = (
    payment.map(json.dumps).map(str.encode)
    | values.map(json.dumps).map(str.encode)
    | st.binary(max_size=200)
    | st.sampled_from(PANS).map(str.encode)
)
paths = st.sampled_from(
    ["/confirm", "/resend", "/capture", "/void", "/refunds", "login", "terminals", "revoke"]
)


def test_no_answer_is_a_500_or_holds_a_card_number(tmp_path: Path, clock: FixedClock) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    key = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).issue(
        "M1", "TERM0001", actor="t"
    )[1]
    app = create_app(rt, repair_on_start=False)
    runner = asyncio.Runner()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://gw",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    payment_ids: list[str] = ["pay_20261128_0000000000"]

    def check(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        response = runner.run(client.post(url, content=body, headers=headers))
        assert response.status_code < 500, (response.status_code, response.text)
        for pattern in PATTERNS:
            assert not pattern.search(response.content), response.text
        if response.status_code != 200:
            assert set(response.json()["error"]) == {"type", "code", "message", "param"}
        return response

    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=payment.map(json.dumps).map(str.encode) | bodies, idempotency=st.integers(0, 3))
    def pay(body: bytes, idempotency: int) -> None:
        headers = {"Idempotency-Key": str(idempotency)} if idempotency else {}
        response = check("/v1/payments", body, headers)
        if response.status_code == 200:
            payment_ids.append(response.json()["id"])

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=bodies, path=paths, pick=st.integers(min_value=0))
    def post(body: bytes, path: str, pick: int) -> None:
        url = {
            "login": "/v1/login",
            "terminals": "/v1/terminals",
            "revoke": f"/v1/terminals/{key.split('_')[1]}/revoke",
        }.get(path, f"/v1/payments/{payment_ids[pick % len(payment_ids)]}{path}")
        check(url, body, {})

    try:
        pay()
        post()
    finally:
        runner.run(client.aclose())
        runner.run(rt.aclose())
        runner.close()
    assert len(payment_ids) > 1  # some bodies were payments, and went all the way
