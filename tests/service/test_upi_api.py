"""UPI through the HTTP API: the payment body (card or UPI, refused one line when mixed
or out of bounds), `next_action` in every payment shown, the QR of a pending payment as
PNG (decoded) and SVG, and `RemoteGateway.charge` sending a UPI payment."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image
from support import VISA, gateway_settings, open_runtime

from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest, UnknownPayment
from gateway_core.payments import Payment, UpiDetail, UpiInput, day_of
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.client import RemoteGateway
from gateway_core.service.keys import ApiKeys
from gateway_core.store.repos import TinyPaymentRepository
from gateway_core.upi_link import PaymentLink

MERCHANT, OTHER = "PAYGATEDEMO0001", "OTHERSHOP01"
OTP_CARD = card_for("4000 0000 0000 3220")


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


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    settings = gateway_settings(tmp_path / "data", 5.0)
    upi = settings.upi.model_copy(update={"collect_enabled": True})
    rt = open_runtime(settings.model_copy(update={"upi": upi}), clock=clock)
    keys = ApiKeys(rt.store, rt.keyring, rt.audit, rt.clock)
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


def stored_upi(api: Api, flow: str = "qr", status: str = "pending", n: int = 1) -> Payment:
    """A UPI payment written straight into the store, as the UPI tender leaves one."""
    now = api.clock.now()
    payment_id = f"pay_{now:%Y%m%d}_upi{n:07d}"
    link = None
    if flow != "collect":
        link = PaymentLink("demostore@pgbank", "Demo Store", 250_00, payment_id, flow=flow).link()
    payment = Payment(
        id=payment_id,
        status=status,
        method="upi",
        amount=250_00,
        currency="INR",
        upi=UpiDetail(
            flow=flow,
            link=link,
            payee_vpa="demostore@pgbank",
            payer_vpa="success@payer" if flow == "collect" else None,
            expires_at=now + timedelta(minutes=5),
        ),
        merchant_id=MERCHANT,
        terminal_id="TERM0001",
        operator="terminal:TERM0001",
        created_at=now,
        updated_at=now,
    )
    record = payment.model_dump(mode="json", exclude={"refunds", "amount_refunded"})
    api.rt.gateway._payments.save(day_of(payment_id), record)  # as the tender saves it
    return payment


# ---------------------------------------------------------------------------- the body
UPI = {"method": "upi", "amount": 250_00}


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
        ({"method": "cash", "amount": 100}, "parameter_invalid", "method"),
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
    pending = stored_upi(api)
    shown = (await api.get(f"/v1/payments/{pending.id}")).json()
    assert shown["next_action"] == {
        "type": "upi_qr",
        "link": pending.upi.link,
        "expires_at": pending.upi.expires_at.isoformat(),
    }
    listed = (await api.get("/v1/payments")).json()["data"]
    assert [p["next_action"] and p["next_action"]["type"] for p in listed] == [
        None,
        "otp",
        "upi_qr",
    ]
    schema = api.app.openapi()
    assert schema["paths"]["/v1/payments"]["post"]["summary"] == "Take a payment: card or UPI"


# ---------------------------------------------------------------------------- the QR
def decoded(png: bytes) -> str:
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return result.text


async def test_the_qr_of_a_pending_payment_decodes_to_its_link(api: Api) -> None:
    payment = stored_upi(api)
    png = await api.get(f"/v1/payments/{payment.id}/qr")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert decoded(png.content) == payment.upi.link
    svg = await api.get(f"/v1/payments/{payment.id}/qr", format="svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.startswith(b"<?xml") and b"<svg" in svg.content
    intent = stored_upi(api, flow="intent", n=2)
    answer = await api.get(f"/v1/payments/{intent.id}/qr")
    assert decoded(answer.content) == intent.upi.link


async def test_the_qr_is_refused_one_line_where_there_is_none(api: Api) -> None:
    payment = stored_upi(api)
    assert (await api.get(f"/v1/payments/{payment.id}/qr", who="other")).status_code == 404
    assert (await api.get("/v1/payments/pay_20261128_nosuchthing/qr")).status_code == 404
    bad = await api.get(f"/v1/payments/{payment.id}/qr", format="gif")
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "format"
    card = (await api.post({"amount": 1250, "card": _card(VISA)})).json()
    collect = stored_upi(api, flow="collect", n=2)
    paid = stored_upi(api, status="succeeded", n=3)
    for payment_id in (card["id"], collect.id, paid.id):
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
