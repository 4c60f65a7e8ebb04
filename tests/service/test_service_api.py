"""The gateway's HTTP API end to end, in process (`httpx.ASGITransport`, no sockets).

Keys are issued for two terminals of the demo merchant and one of another merchant;
the clock is frozen, so the failed-authentication limit is tested without waiting.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support import OTP_RE, VISA, card_input, gateway_settings, open_runtime, pan_pattern

from bank_sim.testcards import TEST_CARDS, card_for
from gateway_core.access import NotPermitted, WrongPin
from gateway_core.cards import CardError
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest, NotAllowed, UnknownPayment, WrongOtp
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.client import RemoteGateway
from gateway_core.service.errors import AuthenticationFailed
from gateway_core.service.keys import ApiKeys
from gateway_core.store.repos import TinyAuditRepository

MERCHANT, OTHER = "PAYGATEDEMO0001", "OTHERSHOP01"
DECLINE = card_for("4000 0000 0000 0002")
OTP_CARD = card_for("4000 0000 0000 3220")


@dataclass
class Api:
    client: httpx.AsyncClient
    app: object
    rt: Runtime
    keys: ApiKeys
    clock: FixedClock
    secrets: dict[str, str]  # "t1", "t2", "other" → the key

    def auth(self, who: str = "t1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}

    async def pay(self, who: str = "t1", card=VISA, amount: int = 100_00, **kw) -> httpx.Response:
        headers = {**self.auth(who), **kw.pop("headers", {})}
        body = {"amount": amount, "card": _card(card), **kw}
        return await self.client.post("/v1/payments", json=body, headers=headers)

    def remote(self, who: str = "t1") -> RemoteGateway:
        transport = httpx.ASGITransport(app=self.app)
        return RemoteGateway("http://gw", self.secrets[who], transport=transport)


def _card(card) -> dict[str, str]:
    return {"number": card.pan, "expiry": "12/30", "cvv": card.cvv}


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    issued = {
        "t1": keys.issue(MERCHANT, "TERM0001", actor="owner")[1],
        "t2": keys.issue(MERCHANT, "TERM0009", actor="owner")[1],
        "other": keys.issue(OTHER, "TERM0001", actor="owner")[1],
    }
    await board_merchants(rt.gateway.bank, keys)  # as the server's start does
    app = create_app(rt, repair_on_start=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Api(client, app, rt, keys, clock, issued)
    finally:
        await rt.aclose()


def _error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "code", "message", "param"}
    return body["error"]


# -- payments ------------------------------------------------------------------------------------
async def test_a_sale_is_taken_stored_and_read_back_masked(api: Api) -> None:
    response = await api.pay(tip=10_00, operator="asha")
    assert response.status_code == 200
    payment = Payment.model_validate(response.json())
    assert (payment.status, payment.amount, payment.tip) == ("succeeded", 100_00, 10_00)
    assert (payment.merchant_id, payment.terminal_id, payment.operator) == (
        MERCHANT,
        "TERM0001",
        "asha",
    )
    assert payment.card.masked.endswith("4242") and payment.card.bin6 == "424242"
    got = await api.client.get(f"/v1/payments/{payment.id}", headers=api.auth())
    assert Payment.model_validate(got.json()) == payment
    listed = await api.client.get("/v1/payments", headers=api.auth())
    assert [p["id"] for p in listed.json()["data"]] == [payment.id]
    frames = await api.client.get(f"/v1/payments/{payment.id}/frames", headers=api.auth())
    assert {"0200", "0210"} <= {f["mti"] for f in frames.json()}
    for text in (response.text, got.text, listed.text, frames.text):
        assert not pan_pattern(VISA.pan).search(text.encode())


async def test_a_decline_is_a_200_with_the_payment(api: Api) -> None:
    response = await api.pay(card=DECLINE)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["response_code"]) == ("declined", "05")


async def test_otp_wrong_code_then_the_right_one(api: Api) -> None:
    response = await api.pay(card=OTP_CARD, amount=20_000_00)
    payment = response.json()
    assert payment["status"] == "requires_action"
    url = f"/v1/payments/{payment['id']}"
    wrong = await api.client.post(f"{url}/confirm", json={"otp": "000000"}, headers=api.auth())
    assert wrong.status_code == 400
    assert _error(wrong)["code"] == "incorrect_otp" and _error(wrong)["param"] == "otp"
    outbox = await api.client.get("/v1/demo/outbox", headers=api.auth())
    code = OTP_RE.search(outbox.json()[0]["text"]).group()
    done = await api.client.post(f"{url}/confirm", json={"otp": code}, headers=api.auth())
    assert (done.status_code, done.json()["status"]) == (200, "succeeded")


async def test_preauth_capture_refund_and_void_with_a_managers_approval(api: Api) -> None:
    kept = (await api.pay(capture_method="manual")).json()
    dropped = (await api.pay(capture_method="manual", amount=50_00)).json()
    base = "/v1/payments"
    captured = await api.client.post(
        f"{base}/{kept['id']}/capture", json={"amount": 70_00}, headers=api.auth()
    )
    assert (captured.json()["status"], captured.json()["amount_captured"]) == ("succeeded", 70_00)
    again = await api.client.post(f"{base}/{kept['id']}/capture", headers=api.auth())
    assert (again.status_code, _error(again)["code"]) == (409, "payment_unexpected_state")
    wrong_pin = {"approval": {"approver_id": "meera", "pin": "0000"}, "amount": 20_00}
    refused = await api.client.post(
        f"{base}/{kept['id']}/refunds", json=wrong_pin, headers=api.auth()
    )
    assert (refused.status_code, _error(refused)["code"]) == (403, "incorrect_pin")
    cashier = {"approval": {"approver_id": "asha", "pin": "1111"}}
    not_a_manager = await api.client.post(
        f"{base}/{dropped['id']}/void", json=cashier, headers=api.auth()
    )
    assert (not_a_manager.status_code, _error(not_a_manager)["code"]) == (403, "not_permitted")
    manager = {"approval": {"approver_id": "meera", "pin": "4321"}}
    refunded = await api.client.post(
        f"{base}/{kept['id']}/refunds", json={**manager, "amount": 20_00}, headers=api.auth()
    )
    assert refunded.json()["amount_refunded"] == 20_00
    voided = await api.client.post(f"{base}/{dropped['id']}/void", json=manager, headers=api.auth())
    assert (voided.status_code, voided.json()["status"]) == (200, "canceled")
    report = (await api.client.get("/v1/reports/x", headers=api.auth())).json()
    total = report["totals"][0]
    assert (total["gross"], total["refunds"], total["voids"]) == (70_00, 20_00, 50_00)


async def test_the_same_idempotency_key_charges_once_and_refuses_other_details(api: Api) -> None:
    first = await api.pay(headers={"Idempotency-Key": "sale-1"})
    again = await api.pay(headers={"Idempotency-Key": "sale-1"})
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["idempotency_key"] == "sale-1"
    other_merchant = await api.pay("other", headers={"Idempotency-Key": "sale-1"})
    assert other_merchant.json()["id"] != first.json()["id"]  # keys are per merchant
    changed = await api.pay(amount=200_00, headers={"Idempotency-Key": "sale-1"})
    assert (changed.status_code, _error(changed)["code"]) == (409, "idempotency_key_in_use")
    listed = (await api.client.get("/v1/payments", headers=api.auth())).json()["data"]
    assert len(listed) == 1


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        (b"{not json", 400, "invalid_json", None),
        ({"amount": 12.5, "card": _card(VISA)}, 422, "parameter_invalid", "amount"),
        ({"amount": "1250", "card": _card(VISA)}, 422, "parameter_invalid", "amount"),
        ({"amount": 1250}, 422, "parameter_missing", "card"),
        ({"amount": 0, "card": _card(VISA)}, 422, "parameter_invalid", "amount"),
        ({"amount": 1250, "card": _card(VISA), "extra": 1}, 422, "parameter_invalid", "extra"),
        (
            {"amount": 1250, "card": {**_card(VISA), "number": "4242424242424241"}},
            400,
            "incorrect_number",
            "card.number",
        ),
        (
            {"amount": 1250, "card": {**_card(VISA), "cvv": "12"}},
            400,
            "invalid_cvc",
            "card.cvv",
        ),
        ({"amount": 1250, "currency": "XYZ", "card": _card(VISA)}, 400, "invalid_request", None),
        ({"amount": 1250, "card": _card(VISA), "operator": "nobody"}, 400, "invalid_request", None),
    ],
)
async def test_bad_requests_get_one_error_shape_and_store_nothing(
    api: Api, body: object, status: int, code: str, param: str | None
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**api.auth(), "Content-Type": "application/json"}
    response = await api.client.post("/v1/payments", content=content, headers=headers)
    assert response.status_code == status
    error = _error(response)
    assert (error["code"], error["param"]) == (code, param)
    assert not pan_pattern(VISA.pan).search(response.content)
    assert api.rt.gateway.list_day() == []


async def test_unknown_payment_route_and_oversized_body(api: Api) -> None:
    missing = await api.client.get("/v1/payments/pay_20261128_0000000000", headers=api.auth())
    assert (missing.status_code, _error(missing)["code"]) == (404, "resource_missing")
    nowhere = await api.client.get("/v1/nothing", headers=api.auth())
    assert (nowhere.status_code, _error(nowhere)["code"]) == (404, "resource_missing")
    huge = b'{"amount": 1250, "pad": "' + b"x" * 100_000 + b'"}'
    headers = {**api.auth(), "Content-Type": "application/json"}
    too_big = await api.client.post("/v1/payments", content=huge, headers=headers)
    assert (too_big.status_code, _error(too_big)["code"]) == (413, "body_too_large")

    async def chunks():  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"x" * 1000

    streamed = await api.client.post("/v1/payments", content=chunks(), headers=headers)
    assert (streamed.status_code, _error(streamed)["code"]) == (413, "body_too_large")


# -- keys and merchants -------------------------------------------------------------------------
async def test_missing_wrong_and_revoked_keys_are_refused_and_audited(api: Api) -> None:
    token = api.secrets["t2"]
    wrong = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    (t2,) = [k for k in api.keys.list() if k.terminal_id == "TERM0009"]
    assert (await api.client.get("/v1/payments", headers=api.auth("t2"))).status_code == 200
    api.keys.revoke(t2.id, actor="owner")
    for headers in (
        {},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"Authorization": f"Bearer {wrong}"},
        api.auth("t2"),
    ):
        response = await api.client.get("/v1/payments", headers=headers)
        assert response.status_code == 401, headers
        assert _error(response)["code"] == "invalid_api_key"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    reasons = [
        e["details"].get("reason")
        for _day, e in TinyAuditRepository(api.rt.store).events()
        if e["action"] == "api.auth_failed"
    ]
    assert reasons == ["no bearer token", "no bearer token", "wrong secret", "revoked"]
    assert (await api.client.get("/health")).status_code == 200  # no key needed


async def test_another_merchants_payments_do_not_exist_for_a_key(api: Api) -> None:
    mine = (await api.pay()).json()
    theirs = (await api.pay("other")).json()
    assert theirs["merchant_id"] == OTHER
    assert theirs["response_code"] == "00"  # boarded at the acquirer with its first key
    manager = {"approval": {"approver_id": "meera", "pin": "4321"}}
    for method, path, body in (
        ("GET", "", None),
        ("GET", "/frames", None),
        ("POST", "/capture", {}),
        ("POST", "/confirm", {"otp": "123456"}),
        ("POST", "/resend", {}),
        ("POST", "/void", manager),
        ("POST", "/refunds", manager),
    ):
        response = await api.client.request(
            method, f"/v1/payments/{mine['id']}{path}", json=body, headers=api.auth("other")
        )
        assert response.status_code == 404, path
        assert _error(response)["message"] == f"no payment {mine['id']}"
    listed = (await api.client.get("/v1/payments", headers=api.auth("other"))).json()["data"]
    assert [p["id"] for p in listed] == [theirs["id"]]
    report = (await api.client.get("/v1/reports/x", headers=api.auth("other"))).json()
    assert (report["merchant_id"], report["activity"]["payments"]) == (OTHER, 1)
    assert api.rt.gateway.get(mine["id"]).status == "succeeded"  # untouched


async def test_failed_authentications_are_rate_limited_per_address(api: Api) -> None:
    bad = {"Authorization": "Bearer pk_000000000000_" + "x" * 43}
    codes = [(await api.client.get("/v1/payments", headers=bad)).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    limited = await api.client.get("/v1/payments", headers=bad)
    assert _error(limited)["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # a valid key from the same address still gets in (its neighbours' failures are theirs)
    assert (await api.client.get("/v1/payments", headers=api.auth())).status_code == 200
    audited = [
        e
        for _d, e in TinyAuditRepository(api.rt.store).events()
        if e["action"] == "api.auth_failed"
    ]
    assert len(audited) == 10
    api.clock.advance(minutes=1)
    assert (await api.client.get("/v1/payments", headers=bad)).status_code == 401


async def test_keys_are_kept_only_as_hashes(api: Api) -> None:
    await api.rt.aclose()  # flush everything to disk
    for path in (p for p in api.rt.settings.data_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        for secret in api.secrets.values():
            assert secret.encode() not in content, path
            assert secret.split("_", 2)[2].encode() not in content, path


async def test_the_openapi_document_describes_every_endpoint(api: Api) -> None:
    doc = (await api.client.get("/openapi.json")).json()
    assert {
        "/v1/payments",
        "/v1/payments/{payment_id}",
        "/v1/payments/{payment_id}/confirm",
        "/v1/payments/{payment_id}/resend",
        "/v1/payments/{payment_id}/capture",
        "/v1/payments/{payment_id}/void",
        "/v1/payments/{payment_id}/refunds",
        "/v1/payments/{payment_id}/frames",
        "/v1/reports/x",
        "/v1/repair",
        "/v1/demo/outbox",
        "/health",
    } <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    create = doc["paths"]["/v1/payments"]["post"]
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


# -- the client with the Gateway's interface ----------------------------------------------------
async def test_remote_gateway_returns_payments_and_raises_the_gateways_exceptions(
    api: Api,
) -> None:
    remote = api.remote()
    try:
        req = ChargeRequest(amount=20_000_00, currency="INR", card=card_input(OTP_CARD))
        payment = await remote.charge(req)
        assert isinstance(payment, Payment) and payment.status == "requires_action"
        with pytest.raises(WrongOtp, match="wrong code: 2 tries left"):
            await remote.confirm_otp(payment.id, "000000", operator="asha")
        code = OTP_RE.search((await remote.bank.outbox())[0].text).group()
        payment = await remote.confirm_otp(payment.id, code, operator="asha")
        assert payment.status == "succeeded" and payment.operator == "terminal:TERM0001"
        assert {"0200", "0210"} <= {f.mti for f in await remote.bank.frames(payment.id)}
        with pytest.raises(NotPermitted):
            await remote.refund(payment.id)
        with pytest.raises(WrongPin):
            await remote.refund(payment.id, approval=Approval("meera", "0000"))
        refunded = await remote.refund(payment.id, 1_00, approval=Approval("meera", "4321"))
        assert refunded.amount_refunded == 1_00
        with pytest.raises(NotAllowed):
            await remote.capture(payment.id)
        with pytest.raises(UnknownPayment):
            await remote.void(f"{payment.id[:-1]}x", approval=Approval("meera", "4321"))
        bad = ChargeRequest(amount=100, currency="INR", card=card_input(VISA))
        bad.card.__dict__["expiry"] = "13/30"  # past the client's own checks, as a bug would be
        with pytest.raises(CardError) as caught:
            await remote.charge(bad)
        assert caught.value.field == "expiry"
        assert await remote.repair() == []
    finally:
        await remote.aclose()


async def test_remote_gateway_with_a_wrong_key(api: Api) -> None:
    api.secrets["t1"] = "pk_000000000000_" + "y" * 43
    remote = api.remote()
    try:
        with pytest.raises(AuthenticationFailed, match="missing, unknown or revoked"):
            await remote.repair()
    finally:
        await remote.aclose()


def test_every_test_card_number_is_masked_by_the_pan_pattern() -> None:
    """The leak checks above are only as good as this pattern."""
    for card in TEST_CARDS:
        assert pan_pattern(card.pan).search(card.pan.encode())


# -- signing in and managing keys through the API ----------------------------------------------
async def test_login_checks_the_pin_on_the_server(api: Api) -> None:
    ok = await api.client.post(
        "/v1/login", json={"user_id": "asha", "pin": "1111"}, headers=api.auth()
    )
    assert (ok.status_code, ok.json()["role"]) == (200, "cashier")
    assert "pin" not in ok.text
    wrong = await api.client.post(
        "/v1/login", json={"user_id": "asha", "pin": "9999"}, headers=api.auth()
    )
    assert (wrong.status_code, _error(wrong)["code"]) == (403, "incorrect_pin")
    remote = api.remote()
    try:
        assert (await remote.login("meera", "4321")).role == "manager"
        with pytest.raises(WrongPin, match="3 tries left"):
            await remote.login("asha", "9999")
    finally:
        await remote.aclose()


async def test_an_admin_issues_and_revokes_keys_while_the_server_runs(api: Api) -> None:
    remote = api.remote()
    try:
        me = await remote.whoami()
        assert (me.merchant_id, me.terminal_id) == (MERCHANT, "TERM0001")
        with pytest.raises(NotPermitted, match="an admin must approve"):
            await remote.issue_key("TERM0042", Approval("meera", "4321"))
        issued = await remote.issue_key("TERM0042", Approval("owner", "9876"))
        assert (issued.key.merchant_id, issued.key.terminal_id) == (MERCHANT, "TERM0042")
        api.secrets["new"] = issued.secret
        sale = await api.pay("new")
        assert (sale.json()["terminal_id"], sale.json()["status"]) == ("TERM0042", "succeeded")
        mine = {k.id for k in await remote.terminal_keys()}
        assert issued.key.id in mine
        assert {k.id for k in api.keys.list() if k.merchant_id == OTHER}.isdisjoint(mine)
        (theirs,) = [k for k in api.keys.list() if k.merchant_id == OTHER]
        with pytest.raises(InputError, match="no API key"):
            await remote.revoke_key(theirs.id, Approval("owner", "9876"))
        revoked = await remote.revoke_key(issued.key.id, Approval("owner", "9876"))
        assert revoked.revoked_at is not None
        refused = await api.client.get("/v1/payments", headers=api.auth("new"))
        assert refused.status_code == 401
        assert (await api.client.get("/v1/payments", headers=api.auth("other"))).status_code == 200
    finally:
        await remote.aclose()


async def test_the_simulated_phone_is_there_only_with_the_simulated_banks(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = gateway_settings(tmp_path / "data", 5.0).model_copy(
        update={"bank_url": "http://127.0.0.1:9"}  # never contacted by this test
    )
    rt = open_runtime(settings, clock=clock)
    key = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).issue(
        MERCHANT, "T1", actor="t"
    )[1]
    transport = httpx.ASGITransport(app=create_app(rt, repair_on_start=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            headers = {"Authorization": f"Bearer {key}"}
            response = await client.get("/v1/demo/outbox", headers=headers)
            assert (response.status_code, _error(response)["code"]) == (404, "resource_missing")
            doc = (await client.get("/openapi.json")).json()
            assert "/v1/demo/outbox" not in doc["paths"]
    finally:
        await rt.aclose()
