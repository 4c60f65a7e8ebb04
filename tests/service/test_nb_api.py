"""Net banking through the HTTP API, against in-memory banks (`nb_fake`): the payment
body (one 422 line when out of bounds), the payment shown with its redirect and no
secret, `GET /v1/netbanking/return` (303 to the result page; a bad query or a refused
return: a 400 page of one line, nothing changes), and `RemoteGateway.charge`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from nb_fake import FakeBanks
from support import actions, gateway_settings, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest
from gateway_core.netbanking_api import NbReturn
from gateway_core.payments import NetbankingInput
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.client import RemoteGateway
from gateway_core.service.keys import ApiKeys

MERCHANT = "PAYGATEDEMO0001"
NB = {"method": "netbanking", "amount": 500_00, "netbanking": {"bank": "DEMOA"}}


@dataclass
class Api:
    client: httpx.AsyncClient
    app: object
    rt: Runtime
    banks: FakeBanks
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    async def post(self, body: dict) -> httpx.Response:
        return await self.client.post("/v1/payments", json=body, headers=self.auth)

    async def back(self, answer: NbReturn | dict) -> httpx.Response:
        """The customer's browser, sent back by the bank (no API key)."""
        query = answer.model_dump() if isinstance(answer, NbReturn) else answer
        return await self.client.get(f"/v1/netbanking/return?{urlencode(query)}")


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    banks = FakeBanks(clock)
    rt.gateway.netbanking = banks
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    secret = keys.issue(MERCHANT, "TERM0001", actor="owner")[1]
    await board_merchants(rt.gateway.bank, keys)
    app = create_app(rt, repair_on_start=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as client:
            yield Api(client, app, rt, banks, secret)
    finally:
        await rt.aclose()


async def created(api: Api) -> dict:
    response = await api.post(NB)
    assert response.status_code == 200, response.text
    return response.json()


def one_line(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("text/html")
    (line,) = re.findall(r"<h1>(.*)</h1>", response.text)
    assert "\n" not in response.text
    return line


async def test_a_payment_is_pending_with_the_banks_page(api: Api) -> None:
    payment = await created(api)
    assert (payment["status"], payment["method"]) == ("pending", "netbanking")
    detail = payment["netbanking"]
    assert (detail["bank"], detail["bank_name"]) == ("DEMOA", "Demo Bank A")
    action = payment["next_action"]
    assert (action["type"], action["url"]) == ("redirect", detail["login_url"])
    assert action["url"].startswith("http://banks.test/nb/DEMOA/pay/")
    secret = api.banks.secrets[MERCHANT, "DEMOA"]
    assert secret not in str(payment)
    shown = await api.client.get(f"/v1/payments/{payment['id']}", headers=api.auth)
    assert shown.json()["netbanking"] == detail


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({**NB, "netbanking": None}, "parameter_missing", "netbanking"),
        ({**NB, "netbanking": {"bank": "NOPE"}}, "parameter_invalid", "netbanking.bank"),
        ({**NB, "netbanking": {"bank": "DEMO A"}}, "parameter_invalid", "netbanking.bank"),
        ({**NB, "currency": "USD"}, "parameter_invalid", "currency"),
        ({**NB, "amount": 10_00_000_01}, "parameter_invalid", "amount"),
        ({**NB, "capture_method": "manual"}, "parameter_invalid", "capture_method"),
        ({**NB, "upi": {"flow": "qr"}}, "parameter_invalid", "upi"),
        ({"amount": 1250, "card": {"number": "4242", "expiry": "12/30", "cvv": "1"},
          "netbanking": {"bank": "DEMOA"}}, "parameter_invalid", "netbanking"),
        ({"method": "upi", "amount": 1250, "netbanking": {"bank": "DEMOA"}},
         "parameter_invalid", "netbanking"),
    ],
)  # fmt: skip
async def test_a_bad_body_is_one_422_and_stores_nothing(
    api: Api, body: dict, code: str, param: str
) -> None:
    response = await api.post(body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert "\n" not in error["message"]
    assert api.rt.gateway.list_day() == [] and api.banks.calls == []


async def test_the_return_sends_the_browser_to_the_result_page(api: Api) -> None:
    payment = await created(api)
    api.banks.set(payment["id"], "SUCCESS")
    response = await api.back(api.banks.answer(payment["id"]))
    assert response.status_code == 303
    assert response.headers["location"] == f"/checkout/{payment['id']}"
    assert api.rt.gateway.get(payment["id"]).status == "succeeded"


async def test_a_return_of_a_cancel_ends_the_payment_canceled(api: Api) -> None:
    payment = await created(api)
    api.banks.set(payment["id"], "CANCELED", "CX")
    response = await api.back(api.banks.answer(payment["id"]))
    assert response.status_code == 303
    assert api.rt.gateway.get(payment["id"]).status == "canceled"


@pytest.mark.parametrize(
    "spoil",
    [
        {"amount": "five hundred"},
        {"status": "MAYBE"},
        {"signature": None},
        {"extra": "field"},
    ],
)
async def test_a_query_that_is_not_a_return_is_a_400_page(api: Api, spoil: dict) -> None:
    payment = await created(api)
    api.banks.set(payment["id"], "SUCCESS")
    query = {**api.banks.answer(payment["id"]).model_dump(), **spoil}
    query = {k: v for k, v in query.items() if v is not None}
    response = await api.back(query)
    assert response.status_code == 400
    assert one_line(response) == "This is not a bank&#x27;s answer."
    assert api.rt.gateway.get(payment["id"]).status == "pending"
    assert actions(api.rt, payment["id"])[-1] == "payment.pending"


async def test_an_empty_or_huge_query_is_a_400_page(api: Api) -> None:
    assert (await api.client.get("/v1/netbanking/return")).status_code == 400
    huge = await api.client.get(f"/v1/netbanking/return?x={'a' * 5000}")
    assert huge.status_code == 400


async def test_a_refused_return_is_a_400_page_and_changes_nothing(api: Api) -> None:
    payment = await created(api)
    api.banks.set(payment["id"], "FAILURE", "51")
    forged = api.banks.answer(payment["id"]).model_copy(update={"status": "SUCCESS"})
    response = await api.back(forged)
    assert response.status_code == 400
    assert one_line(response) == ("The bank&#x27;s answer is refused: the signature does not match")
    assert api.rt.gateway.get(payment["id"]).status == "pending"
    assert actions(api.rt, payment["id"])[-1] == "netbanking.return_refused"


async def test_a_return_for_no_payment_is_a_404_page(api: Api) -> None:
    payment = await created(api)
    answer = api.banks.answer(payment["id"], payment_id="pay_20261128_0000000000")
    response = await api.back(answer)
    assert response.status_code == 404
    assert one_line(response) == "There is no such payment."


async def test_a_return_while_the_bank_is_down_waits_for_the_checks(api: Api) -> None:
    payment = await created(api)
    api.banks.set(payment["id"], "SUCCESS")
    answer = api.banks.answer(payment["id"])
    api.banks.down = True
    response = await api.back(answer)
    assert response.status_code == 303
    assert api.rt.gateway.get(payment["id"]).status == "pending"


async def test_remote_gateway_charges_net_banking(api: Api) -> None:
    transport = httpx.ASGITransport(app=api.app)
    remote = RemoteGateway("http://gw", api.secret, transport=transport)
    request = ChargeRequest(
        amount=750_00, currency="INR", method="netbanking", netbanking=NetbankingInput(bank="DEMOC")
    )
    payment = await remote.charge(request)
    assert (payment.status, payment.netbanking.bank, payment.brand) == ("pending", "DEMOC", "DEMOC")
    assert payment.next_action.url == payment.netbanking.login_url
