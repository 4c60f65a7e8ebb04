"""UPI through the HTTP API: the payment body (card or UPI, refused one line when mixed
or out of bounds), `next_action` in every payment shown, the QR of a pending payment as
PNG (decoded) and SVG, and `RemoteGateway.charge` sending a UPI payment."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image
from support import VISA, gateway_settings, open_runtime

from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest, NotAllowed, UnknownPayment
from gateway_core.payments import UpiInput
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.client import RemoteGateway
from gateway_core.service.keys import ApiKeys
from gateway_core.upi_api import TEST_PIN, UPI_CODES

MERCHANT, OTHER = "PAYGATEDEMO0001", "OTHERSHOP01"
OTP_CARD = card_for("4000 0000 0000 3220")
UPI = {"method": "upi", "amount": 250_00}


@dataclass
class Api:
    client: httpx.AsyncClient
    app: object
    rt: Runtime
    clock: FixedClock
    secrets: dict[str, str]

    def auth(self, who: str = "t1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}

    async def post(self, body: dict, who: str = "t1") -> httpx.Response:
        return await self.client.post("/v1/payments", json=body, headers=self.auth(who))

    async def get(self, path: str, who: str = "t1", **params: str) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth(who))

    def remote(self) -> RemoteGateway:
        transport = httpx.ASGITransport(app=self.app)
        return RemoteGateway("http://gw", self.secrets["t1"], transport=transport)


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    settings = gateway_settings(tmp_path / "data", 5.0)
    upi = settings.upi.model_copy(update={"collect_enabled": True})
    rt = open_runtime(settings.model_copy(update={"upi": upi}), clock=clock)
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    issued = {
        "t1": keys.issue(MERCHANT, "TERM0001", actor="owner")[1],
        "other": keys.issue(OTHER, "TERM0001", actor="owner")[1],
    }
    await board_merchants(rt.gateway.bank, keys)
    app = create_app(rt, repair_on_start=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as client:
            yield Api(client, app, rt, clock, issued)
    finally:
        await rt.aclose()


def _card(card) -> dict[str, str]:
    return {"number": card.pan, "expiry": "12/30", "cvv": card.cvv}


async def create_upi(api: Api, who: str = "t1", **upi: str) -> dict:
    response = await api.post({**UPI, "upi": upi}, who=who)
    assert response.status_code == 200, response.text
    return response.json()


async def paid(api: Api, payment: dict, vpa: str = "success@payer", pin: str = TEST_PIN):
    """The payer app pays the payment's link (or collect request)."""
    if payment["upi"]["link"] is not None:
        return await api.rt.payer.pay(vpa, pin, link=payment["upi"]["link"])
    return await api.rt.payer.pay(vpa, pin, request_id=payment["upi"]["txn_id"])


# ---------------------------------------------------------------------------- the body


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"amount": 1250, "card": _card(VISA), "upi": {"flow": "qr"}}, "parameter_invalid", "upi"),
        ({**UPI, "card": _card(VISA)}, "parameter_invalid", "card"),
        ({**UPI, "amount": 1_00_000_01}, "parameter_invalid", "amount"),
        ({**UPI, "currency": "USD"}, "parameter_invalid", "currency"),
        ({**UPI, "capture_method": "manual"}, "parameter_invalid", "capture_method"),
        ({**UPI, "upi": {"flow": "qr", "vpa": "ravi@okbank"}}, "parameter_invalid", "upi.vpa"),
        ({**UPI, "upi": {"flow": "collect"}}, "parameter_missing", "upi.vpa"),
        ({**UPI, "upi": {"flow": "collect", "vpa": "no-at-sign"}}, "parameter_invalid", "upi.vpa"),
        ({**UPI, "upi": {"flow": "nfc"}}, "parameter_invalid", "upi.flow"),
        ({**UPI, "upi": {"note": "x" * 51}}, "parameter_invalid", "upi.note"),
        ({"method": "cheque", "amount": 100}, "parameter_invalid", "method"),
    ],
)
async def test_a_bad_upi_body_is_one_422_and_stores_nothing(
    api: Api, body: dict, code: str, param: str
) -> None:
    response = await api.post(body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert "\n" not in error["message"]
    assert api.rt.gateway.list_day() == []


async def test_collect_is_refused_when_the_merchant_has_it_off(api: Api) -> None:
    upi = api.rt.settings.upi.model_copy(update={"collect_enabled": False})
    api.rt.settings = api.rt.settings.model_copy(update={"upi": upi})
    response = await api.post({**UPI, "upi": {"flow": "collect", "vpa": "success@payer"}})
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "upi.flow: collect requests are off for this merchant"
    )
    assert api.rt.gateway.list_day() == []


# ---------------------------------------------------------------------------- next_action
async def test_every_payment_shown_carries_next_action(api: Api) -> None:
    sale = (await api.post({"amount": 1250, "card": _card(VISA)})).json()
    assert sale["status"] == "succeeded" and sale["next_action"] is None
    challenged = (await api.post({"amount": 100_00, "card": _card(OTP_CARD)})).json()
    assert challenged["status"] == "requires_action"
    assert challenged["next_action"]["type"] == "otp"
    assert challenged["next_action"]["expires_at"]
    pending = await create_upi(api)
    assert pending["next_action"] == {
        "type": "upi_qr",
        "link": pending["upi"]["link"],
        "url": None,
        "expires_at": pending["upi"]["expires_at"],
    }
    shown = (await api.get(f"/v1/payments/{pending['id']}")).json()
    assert shown["next_action"] == pending["next_action"]
    intent = await create_upi(api, flow="intent")
    assert intent["next_action"]["type"] == "upi_intent"
    collect = await create_upi(api, flow="collect", vpa="success@payer")
    assert collect["next_action"] == {
        "type": "upi_collect",
        "link": None,
        "url": None,
        "expires_at": collect["upi"]["expires_at"],
    }
    listed = (await api.get("/v1/payments")).json()["data"]
    assert [p["next_action"] and p["next_action"]["type"] for p in listed] == [
        None,
        "otp",
        "upi_qr",
        "upi_intent",
        "upi_collect",
    ]
    schema = api.app.openapi()
    assert schema["paths"]["/v1/payments"]["post"]["summary"] == "Take a payment: card or UPI"


# ---------------------------------------------------------------------------- end to end
async def test_create_pay_then_get_shows_it_succeeded(api: Api) -> None:
    payment = await create_upi(api, note="table 4")
    assert payment["status"] == "pending" and payment["amount"] == 250_00
    result = await paid(api, payment)
    assert (result.status, result.response_code) == ("SUCCESS", "00")
    looked_up = (await api.get(f"/v1/payments/{payment['id']}")).json()
    assert looked_up["status"] == "pending"  # a GET is a lookup: the server's poll resolves
    assert await api.rt.gateway.poll()  # what `paygate serve` runs every few seconds
    done = (await api.get(f"/v1/payments/{payment['id']}")).json()
    assert done["status"] == "succeeded" and done["rrn"] == result.rrn
    assert done["next_action"] is None and done["upi"]["payer_vpa"] == "success@payer"


@pytest.mark.parametrize(
    ("vpa", "pin", "code"),
    [
        ("insufficient@payer", TEST_PIN, "Z9"),
        ("decline@payer", TEST_PIN, "ZA"),
        ("noaccount@payer", TEST_PIN, "XH"),
        ("debitfail@payer", TEST_PIN, "U30"),
        ("success@payer", "9999", "ZM"),
    ],
)
async def test_a_payer_side_failure_declines_the_payment_with_its_code(
    api: Api, vpa: str, pin: str, code: str
) -> None:
    payment = await create_upi(api)
    assert (await paid(api, payment, vpa, pin)).response_code == code
    refreshed = await api.client.post(f"/v1/payments/{payment['id']}/refresh", headers=api.auth())
    body = refreshed.json()
    assert (body["status"], body["response_code"]) == ("declined", code)
    assert body["decline_code"] == UPI_CODES[code].decline_code


@pytest.mark.parametrize(
    ("vpa", "status", "code"),
    [("bankdown@payer", "PENDING", "BT"), ("timeout@payer", "PENDING", "UT"),
     ("deemed@payer", "DEEMED", "RB")],
)  # fmt: skip
async def test_a_bank_outage_leaves_the_payment_pending(
    api: Api, vpa: str, status: str, code: str
) -> None:
    payment = await create_upi(api)
    result = await paid(api, payment, vpa)
    assert (result.status, result.response_code) == (status, code)
    await api.rt.gateway.poll()
    shown = (await api.get(f"/v1/payments/{payment['id']}")).json()
    assert shown["status"] == "pending" and shown["next_action"]["type"] == "upi_qr"


async def test_three_wrong_pins_lock_and_a_late_payer_gets_u69(api: Api) -> None:
    codes = [(await paid(api, await create_upi(api), pin="9999")).response_code for _ in "123"]
    assert codes == ["ZM", "ZM", "ZD"]
    late = await create_upi(api)
    api.clock.advance(minutes=6)  # the link lived 5
    assert (await paid(api, late, "decline@payer")).response_code == "U69"
    await api.rt.gateway.poll()
    shown = (await api.get(f"/v1/payments/{late['id']}")).json()
    assert (shown["status"], shown["response_code"]) == ("expired", "U69")


async def test_a_limit_is_one_vpa_away_too(api: Api) -> None:
    payment = (await api.post({**UPI, "amount": 2_500_00})).json()
    assert (await paid(api, payment, "limit@payer")).response_code == "Z8"
    await api.rt.gateway.poll()
    shown = (await api.get(f"/v1/payments/{payment['id']}")).json()
    assert (shown["status"], shown["response_code"]) == ("declined", "Z8")


async def test_a_collect_request_is_paid_from_the_inbox(api: Api) -> None:
    payment = await create_upi(api, flow="collect", vpa="success@payer", note="order 7")
    (waiting,) = await api.rt.payer.inbox("success@payer")
    assert (waiting.request_id, waiting.amount) == (payment["upi"]["txn_id"], 250_00)
    assert (await paid(api, payment)).status == "SUCCESS"
    refreshed = await api.client.post(f"/v1/payments/{payment['id']}/refresh", headers=api.auth())
    assert refreshed.json()["status"] == "succeeded"
    nobody = await create_upi(api, flow="collect", vpa="nobody@payer")
    assert (nobody["status"], nobody["response_code"]) == ("declined", "XH")


async def test_cancel_and_the_remote_gateway(api: Api) -> None:
    remote = api.remote()
    try:
        request = ChargeRequest(amount=99_00, currency="INR", method="upi",
                                upi=UpiInput(flow="intent"))  # fmt: skip
        payment = await remote.charge(request)
        assert payment.status == "pending" and payment.next_action.type == "upi_intent"
        assert (await remote.refresh(payment.id)).status == "pending"
        canceled = await remote.cancel(payment.id)
        assert canceled.status == "canceled"
        with pytest.raises(NotAllowed):
            await remote.cancel(payment.id)
    finally:
        await remote.aclose()


# ---------------------------------------------------------------------------- the QR
def decoded(png: bytes) -> str:
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return result.text


async def test_the_qr_of_a_pending_payment_decodes_to_its_link(api: Api) -> None:
    payment = await create_upi(api)
    link = payment["next_action"]["link"]
    png = await api.get(f"/v1/payments/{payment['id']}/qr")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert decoded(png.content) == link
    svg = await api.get(f"/v1/payments/{payment['id']}/qr", format="svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.startswith(b"<?xml") and b"<svg" in svg.content
    intent = await create_upi(api, flow="intent")
    answer = await api.get(f"/v1/payments/{intent['id']}/qr", format="png")
    assert decoded(answer.content) == intent["next_action"]["link"]


async def test_the_qr_is_refused_one_line_where_there_is_none(api: Api) -> None:
    payment = await create_upi(api)
    assert (await api.get(f"/v1/payments/{payment['id']}/qr", who="other")).status_code == 404
    assert (await api.get("/v1/payments/pay_20261128_nosuchthing/qr")).status_code == 404
    bad = await api.get(f"/v1/payments/{payment['id']}/qr", format="gif")
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "format"
    card = (await api.post({"amount": 1250, "card": _card(VISA)})).json()
    collect = await create_upi(api, flow="collect", vpa="success@payer")
    done = await create_upi(api)
    await paid(api, done)
    await api.rt.gateway.refresh(done["id"])
    for payment_id in (card["id"], collect["id"], done["id"]):
        refused = await api.get(f"/v1/payments/{payment_id}/qr")
        assert refused.status_code == 409, payment_id
        error = refused.json()["error"]
        assert error["code"] == "payment_unexpected_state" and "\n" not in error["message"]


# ---------------------------------------------------------------------------- the client
async def test_the_remote_gateway_sends_a_upi_payment() -> None:
    sent: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        error = {"type": "invalid_request_error", "code": "resource_missing", "message": "no"}
        return httpx.Response(404, json={"error": error})

    remote = RemoteGateway("http://gw", "pk_0_x", transport=httpx.MockTransport(answer))
    request = ChargeRequest(
        amount=250_00,
        currency="inr",
        method="upi",
        upi=UpiInput(flow="collect", vpa="success@payer", note="table 4"),
    )
    try:
        with pytest.raises(UnknownPayment):
            await remote.charge(request)
    finally:
        await remote.aclose()
    assert sent == [
        {
            "method": "upi",
            "amount": 250_00,
            "currency": "INR",
            "tip": 0,
            "capture_method": "automatic",
            "upi": {"flow": "collect", "vpa": "success@payer", "note": "table 4"},
        }
    ]


# ---------------------------------------------------------------------------- serve's poll
async def test_the_server_resolves_pending_payments_on_its_own(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's lifespan polls the gateway: a round that fails is logged and the next
    goes on; a paid payment ends succeeded with nobody asking; shutdown stops it."""
    gateway, rounds, resolved = api.rt.gateway, [], asyncio.Event()
    real = gateway.poll

    async def poll() -> list[str]:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("a bug in one round")
        notes = await real()
        if notes:
            resolved.set()
        return notes

    gateway.poll = poll
    app = create_app(api.rt, repair_on_start=False, poll_every_s=0.001)
    async with app.router.lifespan_context(app):
        payment = await create_upi(api)
        await paid(api, payment)
        await asyncio.wait_for(resolved.wait(), timeout=30)
    stopped = len(rounds)
    await asyncio.sleep(0.01)
    assert len(rounds) == stopped  # no round after shutdown
    assert gateway.get(payment["id"]).status == "succeeded"
    assert "RuntimeError" in caplog.text and "a bug in one round" not in caplog.text
