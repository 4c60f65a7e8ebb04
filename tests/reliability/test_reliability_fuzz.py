"""Fuzzing: command arguments and the bank API never crash, whatever comes in.

Money and card parsers have their own property tests (test_money.py, test_cards.py);
this drives them through the `paygate` command line (exit 0, 1 or 2 with one line of
error, never a traceback) and throws malformed and oversized JSON at every POST route of
the banks (a 4xx, never a 500).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bank_sim.app import Banks, create_app
from bank_sim.config import BankConfig
from gateway_core.errors import InputError
from gateway_core.settlement import parse_day

AMOUNTS = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"\A-?[0-9,]{0,14}(\.[0-9]{0,4})?\Z"),
    st.sampled_from(["1e3", "NaN", "₹12", "١٢", "0", "99999999999999999999", " 1 "]),
)
CARDS = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[0-9 -]{0,25}\Z"),
    st.sampled_from(["4242 4242 4242 4242", "4242424242424241", "４２４２"]),
)
EXPIRIES = st.one_of(st.text(max_size=8), st.from_regex(r"\A[0-9]{0,2}/?[0-9]{0,4}\Z"))
SAFE_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"))
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    amount=AMOUNTS.filter(lambda a: "\0" not in a),
    card=CARDS.filter(lambda c: "\0" not in c and not c.startswith("-")),
    expiry=EXPIRIES.filter(lambda e: "\0" not in e and not e.startswith("-")),
    cvv=st.from_regex(r"\A[0-9a-z]{0,6}\Z"),
    day=SAFE_TEXT.filter(lambda d: not d.startswith("-")),
)
def test_charge_and_list_arguments_never_crash(tmp_path, cli, amount, card, expiry, cvv, day):
    data = tmp_path / "data"
    charged = cli(
        "charge", "--data-dir", data, "--amount", amount, "--card", card or "0",
        "--exp", expiry or "0", "--cvv", cvv or "0", "--currency", "INR",
    )  # fmt: skip
    assert charged.code in (0, 1, 2), charged
    if charged.code:
        assert charged.err.startswith("paygate: ") or charged.err.startswith("usage:"), charged
        assert "Traceback" not in charged.err
    listed = cli("list", "--data-dir", data, "--date", day)
    assert listed.code in (0, 2) and "Traceback" not in listed.err, listed


ARG = SAFE_TEXT.filter(lambda a: not a.startswith("-"))
PAID = "<the paid sale>"  # replaced by the id of a real sale in the data dir
COMMANDS = st.one_of(
    st.tuples(st.sampled_from(["status", "void", "capture", "refund", "risk explain"]), ARG),
    st.tuples(
        st.sampled_from(["capture", "refund"]), st.just(PAID), AMOUNTS.map("--amount={}".format)
    ),
    st.tuples(st.just("confirm"), st.sampled_from([PAID, "x"]), st.just("--otp"), ARG),
    st.tuples(st.just("report"), st.sampled_from(["x", "z"]), st.just("--date"), ARG),
    st.tuples(st.just("export"), st.just("--date"), ARG),
)
MANAGER = ["--approver", "meera", "--approver-pin", "4321"]


@settings(FUZZ, max_examples=25)
@given(command=COMMANDS)
def test_payment_and_report_arguments_never_crash(tmp_path, cli, command) -> None:
    data = tmp_path / "data"
    if not data.exists():  # one real sale for the commands to work on
        sale = cli(
            "charge", "--data-dir", data, "--amount", "500", "--card", "4242 4242 4242 4242",
            "--exp", "12/30", "--cvv", "123", "--json",
        )  # fmt: skip
        assert sale.code == 0, sale
        (tmp_path / "paid").write_text(json.loads(sale.out)["id"], encoding="utf-8")
    paid = (tmp_path / "paid").read_text(encoding="utf-8")
    first, *rest = (paid if arg == PAID else arg for arg in command)
    extra = MANAGER if first in ("void", "refund") else []
    result = cli(*first.split(), "--data-dir", data, *rest, *extra)
    assert result.code in (0, 1, 2), result
    assert "Traceback" not in result.err, result
    if result.code:
        assert result.err.startswith(("paygate: ", "usage:")), result


@given(SAFE_TEXT)
def test_parse_day_returns_a_date_or_a_clear_error(text: str) -> None:
    try:
        parse_day(text)
    except InputError as exc:  # anything else escapes and fails the test
        assert str(exc)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        key: JSON | st.text(max_size=30)
        for key in ("payment_id", "merchant_id", "terminal_id", "pan", "expiry", "cvv",
                    "amount", "currency", "capture", "reason", "refund_id", "otp")
    },
)  # fmt: skip
ROUTES = [
    "/acquirer/v1/authorizations",
    "/acquirer/v1/reversals",
    "/acquirer/v1/captures",
    "/acquirer/v1/refunds",
    "/acquirer/v1/challenges/x/verify",
    "/acquirer/v1/challenges/x/resend",
]


@pytest.fixture(scope="module")
def bank_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., httpx.Response]]:
    """POST to the banks' app in process; an exception escaping the app fails the test."""
    banks = Banks(BankConfig(tmp_path_factory.mktemp("banks")))
    transport = httpx.ASGITransport(app=create_app(banks))

    def post(route: str, **kw) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(transport=transport, base_url="http://banks") as client:
                return await client.post(route, **kw)

        return asyncio.run(send())

    yield post
    banks.close()


@FUZZ
@given(route=st.sampled_from(ROUTES), body=JSON | FIELDS)
def test_any_json_to_the_bank_api_is_answered_4xx(bank_api, route: str, body) -> None:
    response = bank_api(route, json=body)
    assert response.status_code < 500, (route, body, response.text)
    if response.status_code >= 400:
        assert response.json()["error"]


@FUZZ
@given(route=st.sampled_from(ROUTES), raw=st.binary(max_size=200))
def test_malformed_bytes_to_the_bank_api_are_answered_4xx(bank_api, route: str, raw) -> None:
    response = bank_api(route, content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, (route, raw, response.text)


AUTHORIZATION = {
    "merchant_id": "PAYGATEDEMO0001",
    "terminal_id": "TERM0001",
    "pan": "4242424242424242",
    "expiry": "12/30",
    "cvv": "123",
    "amount": 100,
    "currency": "INR",
}
NEAR_MISSES = st.fixed_dictionaries(
    {},
    optional={
        "amount": st.integers(-(10**15), 10**15) | st.integers(),
        "currency": st.from_regex(r"\A[A-Z]{3}\Z"),
        "pan": st.from_regex(r"\A[0-9]{0,25}\Z"),
        "expiry": st.from_regex(r"\A[0-9]{2}/[0-9]{2}\Z"),
        "cvv": st.from_regex(r"\A[0-9]{0,8}\Z") | st.none(),
        "terminal_id": st.text(min_size=1, max_size=8),
    },
)


@FUZZ
@given(changes=NEAR_MISSES)
def test_an_authorization_one_field_off_is_answered_not_a_500(bank_api, changes) -> None:
    """Well-formed requests with a field a little wrong: the fuzz that reaches past
    validation into the acquirer and the ISO 8583 encoder (a new payment id each time,
    so a replay is not answered from the first attempt)."""
    body = {**AUTHORIZATION, **changes, "payment_id": f"pay_20261128_{secrets.token_hex(5)}"}
    response = bank_api("/acquirer/v1/authorizations", json=body)
    assert response.status_code < 500, (body, response.text)


@pytest.mark.parametrize("route", ROUTES[:4])
def test_an_oversized_body_is_refused_not_a_500(bank_api, route: str) -> None:
    huge = {"payment_id": "p" * 5_000_000, "pan": "4" * 1_000_000, "amount": 10**400}
    response = bank_api(route, content=str(huge).replace("'", '"'))
    assert 400 <= response.status_code < 500, response.text[:300]
