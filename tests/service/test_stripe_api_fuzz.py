"""Stripe's form encoding, fuzzed: the parser reads back whatever the `stripe` SDK's own
encoder writes, and anything else is a 400 `invalid_request_error` naming at most a
plain parameter, never a 500 and never a card number; then the Stripe-compatible
endpoints in process with hypothesis's bodies and query strings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode
from support import gateway_settings, open_runtime, pan_pattern

from bank_sim.testcards import TEST_CARDS
from gateway_core.clock import FixedClock
from gateway_core.service.app import create_app
from gateway_core.service.keys import ApiKeys
from gateway_core.service.stripe_errors import StripeError
from gateway_core.service.stripe_form import MAX_DEPTH, parse_form

PANS = [c.pan for c in TEST_CARDS] + [c.digits for c in TEST_CARDS]
PATTERNS = [pan_pattern(c.pan) for c in TEST_CARDS]
NAMES = ["amount", "currency", "confirm", "payment_method", "payment_method_data", "type",
         "card", "number", "exp_month", "exp_year", "cvc", "metadata", "capture_method",
         "amount_to_capture", "payment_intent", "limit", "starting_after", "ending_before",
         "created", "gte", "lt", "expand", "reason", "description"]  # fmt: skip

names = st.sampled_from(NAMES) | st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)
texts = st.text(max_size=20) | st.sampled_from(PANS) | st.sampled_from(["true", "12", "inr"])
forms = st.recursive(
    texts,
    lambda inner: (
        st.dictionaries(names, inner, min_size=1, max_size=4)
        | st.lists(inner.filter(lambda v: isinstance(v, str)), min_size=1, max_size=3)
    ),
    max_leaves=10,
)
keys = (
    st.lists(
        names | st.sampled_from(["", "0", "[", "]", "4242424242424242"]), min_size=1, max_size=7
    ).map(lambda parts: parts[0] + "".join(f"[{p}]" for p in parts[1:]))
    | st.text(max_size=20)
    | st.sampled_from(PANS)
)
raw_bodies = (
    st.lists(st.tuples(keys, texts), max_size=8).map(lambda pairs: urlencode(pairs).encode())
    | st.lists(st.tuples(keys, texts), max_size=8).map(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode()
    )
    | st.binary(max_size=120)
)


def _as_parsed(value: object) -> object:
    """What the parser reads for a value the SDK encoded (lists as "0", "1"... hashes)."""
    if isinstance(value, list):
        value = dict(enumerate(value))
    if isinstance(value, dict):
        return {str(k): _as_parsed(v) for k, v in value.items()}
    return value


def _depth(value: object) -> int:
    if isinstance(value, dict | list):
        inner = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(v) for v in inner), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(form=st.dictionaries(names, forms, max_size=5))
def test_what_the_sdk_encodes_is_read_back(form: dict) -> None:
    body = urlencode(list(_api_encode(form))).encode()
    if _depth(form) >= MAX_DEPTH:
        return
    expected = {k: v for k, v in _as_parsed(form).items() if v not in ({}, [])}
    assert parse_form(body) == {k: v for k, v in expected.items() if _depth(v) or v != {}}


@settings(max_examples=600, deadline=None)
@given(body=raw_bodies)
def test_any_body_is_a_form_or_a_400_naming_no_card(body: bytes) -> None:
    try:
        parsed = parse_form(body)
    except StripeError as exc:
        assert (exc.status, exc.type) == (400, "invalid_request_error")
        shown = f"{exc.message} {exc.param}".encode()
        assert not any(p.search(shown) for p in PATTERNS), shown
        assert "\n" not in exc.message
        return
    assert isinstance(parsed, dict)


def test_no_endpoint_answers_500_or_a_card_number(tmp_path: Path, clock: FixedClock) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    key = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).issue(
        "PAYGATEDEMO0001", "TERM0001", actor="t"
    )[1]
    runner = asyncio.Runner()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(rt, repair_on_start=False)),
        base_url="http://gw/stripe/v1",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Paygate-Approval": "meera:4321",
        },
    )
    ids = ["pi_20261128_0000000000"]

    def check(method: str, url: str, body: bytes = b"", **headers: str) -> httpx.Response:
        response = runner.run(client.request(method, url, content=body, headers=headers))
        assert response.status_code < 500, (response.status_code, response.text)
        assert not any(p.search(response.content) for p in PATTERNS), response.text
        if response.status_code >= 400:
            assert {"type", "message"} <= set(response.json()["error"])
        return response

    sdk_bodies = st.dictionaries(names, forms, max_size=6).map(
        lambda form: urlencode(list(_api_encode(form))).encode()
    )
    valid = st.fixed_dictionaries(
        {"amount": st.integers(-5, 10**6), "currency": st.sampled_from(["inr", "usd", "x"]),
         "confirm": st.booleans(), "payment_method": st.sampled_from(["pm_card_visa", "pm_x"])},
        optional={"capture_method": st.sampled_from(["manual", "automatic", "z"]),
                  "metadata": st.dictionaries(names, texts, max_size=3)},
    ).map(lambda form: urlencode(list(_api_encode(form))).encode())  # fmt: skip

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=valid | sdk_bodies | raw_bodies, idempotency=st.integers(0, 3))
    def create(body: bytes, idempotency: int) -> None:
        headers = {"Idempotency-Key": str(idempotency)} if idempotency else {}
        response = check("POST", "/payment_intents", body, **headers)
        if response.status_code == 200:
            ids.append(response.json()["id"])

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        body=sdk_bodies | raw_bodies,
        what=st.sampled_from(["capture", "cancel", "confirm", "refund", "get", "list", "refunds"]),
        pick=st.integers(min_value=0),
    )
    def after(body: bytes, what: str, pick: int) -> None:
        pi = ids[pick % len(ids)]
        query = quote(body, safe="=&[]%")
        if what == "refund":
            check("POST", "/refunds", body + f"&payment_intent={pi}".encode())
        elif what == "get":
            check("GET", f"/payment_intents/{pi}?{query}")
        elif what == "list":
            check("GET", f"/payment_intents?{query}")
        elif what == "refunds":
            check("GET", f"/refunds?payment_intent={pi}&{query}")
        else:
            check("POST", f"/payment_intents/{pi}/{what}", body)

    try:
        create()
        after()
    finally:
        runner.run(client.aclose())
        runner.run(rt.aclose())
        runner.close()
