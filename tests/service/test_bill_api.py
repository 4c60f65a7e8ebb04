"""Split bills through the HTTP API (/v1/bills: open, parts, cancel, one, a day's,
repair), and one contract for `Gateway.bills` and `RemoteGateway.bills`: the same
results and the same exception classes and messages on both."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import MANAGER, VISA, card_input, gateway_settings, open_runtime

from bank_sim.testcards import card_for
from gateway_core.access import NotPermitted
from gateway_core.bill_models import BillError
from gateway_core.bills import BillNotOpen, Bills, UnknownBill
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import IdempotencyConflict, UpiInput
from gateway_core.ports import BillsAPI, GatewayAPI
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.bills_client import RemoteBills
from gateway_core.service.client import RemoteGateway
from gateway_core.service.keys import ApiKeys
from gateway_core.upi_api import TEST_PIN

MERCHANT, OTHER = "PAYGATEDEMO0001", "OTHERSHOP01"
DECLINED = card_for("4000 0000 0000 0002")
CARD = {"number": VISA.pan, "expiry": "12/30", "cvv": VISA.cvv}
APPROVAL = {"approver_id": "meera", "pin": "4321"}


class LoopTransport(httpx.BaseTransport):
    """The remote side's synchronous reads, answered by the app on the test's loop."""

    def __init__(self, app: httpx.ASGITransport, loop: asyncio.AbstractEventLoop) -> None:
        self._app = app
        self._loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def answer() -> httpx.Response:
            response = await self._app.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return asyncio.run_coroutine_threadsafe(answer(), self._loop).result(timeout=30)


@dataclass
class Api:
    client: httpx.AsyncClient
    app: object
    rt: Runtime
    secrets: dict[str, str]

    async def post(self, path: str, body: dict | None = None, who: str = "t1", **headers: str):
        auth = {"Authorization": f"Bearer {self.secrets[who]}", **headers}
        return await self.client.post(path, json=body, headers=auth)

    async def get(self, path: str, who: str = "t1", **params: str) -> httpx.Response:
        auth = {"Authorization": f"Bearer {self.secrets[who]}"}
        return await self.client.get(path, params=params, headers=auth)

    def remote(self) -> RemoteGateway:
        app = httpx.ASGITransport(app=self.app)
        reads = LoopTransport(app, asyncio.get_running_loop())
        return RemoteGateway("http://gw", self.secrets["t1"], transport=app, read_transport=reads)


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
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
            yield Api(client, app, rt, issued)
    finally:
        await rt.aclose()


async def opened(api: Api, amount: int = 1000_00, **headers: str) -> dict:
    response = await api.post("/v1/bills", {"amount": amount, "operator": "asha"}, **headers)
    assert response.status_code == 200, response.text
    return response.json()


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# -- HTTP ---------------------------------------------------------------------------------------
async def test_a_bill_paid_by_card_then_a_declined_card_then_upi(api: Api) -> None:
    bill = await opened(api)
    assert (bill["status"], bill["balance"], bill["paid"], bill["currency"]) == (
        "open",
        1000_00,
        0,
        "INR",
    )
    assert (bill["terminal_id"], bill["operator"], bill["merchant_id"]) == (
        "TERM0001",
        "asha",
        MERCHANT,
    )
    pay = f"/v1/bills/{bill['id']}/payments"
    first = await api.post(pay, {"amount": 600_00, "card": CARD})
    assert first.status_code == 200, first.text
    assert (first.json()["balance"], first.json()["parts"][0]["label"]) == (
        400_00,
        "Visa •••• 4242",
    )
    declined = {"number": DECLINED.pan, "expiry": "12/30", "cvv": DECLINED.cvv}
    second = (await api.post(pay, {"amount": 400_00, "card": declined})).json()
    assert ([p["status"] for p in second["parts"]], second["balance"]) == (
        ["succeeded", "declined"],
        400_00,
    )
    third = (await api.post(pay, {"method": "upi", "amount": 400_00})).json()
    upi = api.rt.gateway.get(third["parts"][-1]["payment_id"])
    assert (upi.status, upi.bill_id) == ("pending", bill["id"])
    await api.rt.payer.pay("success@payer", TEST_PIN, link=upi.upi.link)
    await api.post(f"/v1/payments/{upi.id}/refresh")
    shown = (await api.get(f"/v1/bills/{bill['id']}")).json()
    assert (shown["status"], shown["paid"], shown["balance"]) == ("paid", 1000_00, 0)
    listed = (await api.get("/v1/bills")).json()
    assert [b["id"] for b in listed["data"]] == [bill["id"]]
    assert (await api.get("/v1/bills", who="other")).json()["data"] == []
    for query in ({"date": "2026-11-28"}, {"day": "2026-11-28"}):
        assert [b["id"] for b in (await api.get("/v1/bills", **query)).json()["data"]] == [
            bill["id"]
        ]
    assert (await api.get("/v1/bills", day="2026-11-27")).json()["data"] == []
    assert (await api.get("/v1/bills", day="yesterday-ish")).status_code == 422
    assert error(await api.post(pay, {"amount": 1_00, "card": CARD})) == (
        409,
        "bill_not_open",
        f"bill {bill['id']} is paid: it takes no more payments",
    )


async def test_a_bill_paid_in_cash_with_change_then_by_card(api: Api) -> None:
    await api.rt.gateway.shifts.open_shift(count={50000: 2}, cashier="asha")
    bill = await opened(api, 800_00)
    pay = f"/v1/bills/{bill['id']}/payments"
    cash = await api.post(pay, {"method": "cash", "amount": 300_00, "cash": {"tendered": 500_00}})
    assert cash.status_code == 200, cash.text
    (part,) = cash.json()["parts"]
    assert (part["method"], part["change"], part["label"]) == ("cash", 200_00, "Cash")
    paid = (await api.post(pay, {"amount": 500_00, "card": CARD})).json()
    assert (paid["status"], [p["method"] for p in paid["parts"]]) == ("paid", ["cash", "card"])


async def test_bad_parts_are_one_line_4xx_and_store_nothing(api: Api) -> None:
    bill = await opened(api, 500_00)
    pay = f"/v1/bills/{bill['id']}/payments"
    assert error(await api.post(pay, {"amount": 500_01, "card": CARD})) == (
        400,
        "bill_invalid",
        f"₹500.01 is more than the ₹500.00 still due on bill {bill['id']}",
    )
    assert error(await api.post(pay, {"amount": 1_00, "currency": "USD", "card": CARD})) == (
        400,
        "bill_invalid",
        f"bill {bill['id']} is in INR, not USD",
    )
    assert (await api.post(pay, {"amount": 1_00})).status_code == 422  # a card part, no card
    assert (await api.post(pay, {"amount": 1.5, "card": CARD})).status_code == 422
    assert (await api.post("/v1/bills", {"amount": 0})).status_code == 422
    missing = await api.post(
        "/v1/bills/bill_20261128_nope/payments", {"amount": 1_00, "card": CARD}
    )
    assert error(missing) == (404, "bill_missing", "no bill bill_20261128_nope")
    assert error(await api.get(f"/v1/bills/{bill['id']}", who="other"))[0] == 404
    assert error(await api.get("/v1/bills/pay_x"))[:2] == (404, "bill_missing")
    assert api.rt.gateway.list_day() == []


async def test_cancel_needs_a_manager_once_money_was_taken(api: Api) -> None:
    bill = await opened(api)
    await api.post(f"/v1/bills/{bill['id']}/payments", {"amount": 300_00, "card": CARD})
    cancel = f"/v1/bills/{bill['id']}/cancel"
    refused = await api.post(cancel, {"operator": "asha"})
    assert error(refused)[:2] == (403, "not_permitted")
    assert (await api.post(cancel, {"approval": APPROVAL}, who="other")).status_code == 404
    done = (await api.post(cancel, {"operator": "asha", "approval": APPROVAL})).json()
    assert (done["status"], done["approved_by"], done["paid"]) == ("canceled", "meera", 0)
    assert done["parts"][0]["refunded"] == 300_00


async def test_open_with_the_same_key_is_the_same_bill(api: Api) -> None:
    first = await opened(api, 700_00, **{"Idempotency-Key": "table-7"})
    again = await opened(api, 700_00, **{"Idempotency-Key": "table-7"})
    assert again == first and first["idempotency_key"] == "table-7"
    other = await api.post(
        "/v1/bills", {"amount": 700_00}, who="other", **{"Idempotency-Key": "table-7"}
    )
    assert other.json()["id"] != first["id"]  # keys are the merchant's own


async def test_repair_over_http_names_this_merchants_bills(api: Api) -> None:
    assert (await api.post("/v1/bills/repair")).json() == {"repaired": []}


# -- one contract, two implementations ------------------------------------------------------------
@dataclass
class Side:
    bills: BillsAPI
    remote: bool

    async def get(self, bill_id: str):
        return (
            await asyncio.to_thread(self.bills.get_bill, bill_id)
            if self.remote
            else (self.bills.get_bill(bill_id))
        )

    async def today(self):
        return await asyncio.to_thread(self.bills.bills) if self.remote else self.bills.bills()


@pytest.fixture(params=["in_process", "http"])
async def side(request: pytest.FixtureRequest, api: Api) -> AsyncIterator[Side]:
    if request.param == "in_process":
        yield Side(api.rt.gateway.bills, remote=False)
        return
    remote = api.remote()
    try:
        yield Side(remote.bills, remote=True)
    finally:
        await remote.aclose()


def part(amount: int, card=VISA, **kw) -> ChargeRequest:
    return ChargeRequest(
        amount=amount, currency="INR", card=card_input(card), operator="asha", **kw
    )


async def test_contract_a_bill_in_two_parts(side: Side) -> None:
    bill = await side.bills.open_bill(amount=500_00, currency="INR", operator="asha")
    assert (bill.status, bill.amount, bill.operator, bill.terminal_id) == (
        "open",
        500_00,
        "asha",
        "TERM0001",
    )
    bill = await side.bills.pay_bill(bill.id, part(200_00))
    bill = await side.bills.pay_bill(bill.id, part(300_00, DECLINED))
    assert ([p.status for p in bill.parts], bill.balance) == (["succeeded", "declined"], 300_00)
    upi = ChargeRequest(
        amount=100_00, currency="INR", method="upi", upi=UpiInput(), operator="asha"
    )
    bill = await side.bills.pay_bill(bill.id, upi)
    with pytest.raises(
        BillError,
        match=rf"^₹300.00 is more than the ₹200.00 still due on bill {bill.id} "
        r"\(₹100.00 waiting\)$",
    ):
        await side.bills.pay_bill(bill.id, part(300_00))
    bill = await side.bills.pay_bill(bill.id, part(200_00, idempotency_key="p-3"))
    again = await side.bills.pay_bill(bill.id, part(200_00, idempotency_key="p-3"))
    assert again == bill and len(bill.parts) == 4
    assert await side.get(bill.id) == bill
    assert [b.id for b in await side.today()] == [bill.id]
    with pytest.raises(NotPermitted, match=r"^canceling bill .* a manager must approve"):
        await side.bills.cancel_bill(bill.id, operator="asha")
    canceled = await side.bills.cancel_bill(bill.id, operator="asha", approval=MANAGER)
    assert ([p.status for p in canceled.parts], canceled.status, canceled.paid) == (
        ["succeeded", "declined", "canceled", "succeeded"],
        "canceled",
        0,
    )
    with pytest.raises(BillNotOpen, match=rf"^bill {bill.id} is canceled: it takes no more"):
        await side.bills.pay_bill(bill.id, part(1_00))
    assert await side.bills.repair() == []


async def test_contract_refusals(side: Side) -> None:
    with pytest.raises(UnknownBill, match=r"^no bill bill_20261128_nope$"):
        await side.get("bill_20261128_nope")
    with pytest.raises(UnknownBill, match=r"^no bill bill_20261128_nope$"):
        await side.bills.pay_bill("bill_20261128_nope", part(1_00))
    bill = await side.bills.open_bill(
        amount=100_00, currency="INR", operator="asha", idempotency_key="k"
    )
    with pytest.raises(IdempotencyConflict):
        await side.bills.open_bill(
            amount=200_00, currency="INR", operator="asha", idempotency_key="k"
        )
    with pytest.raises(BillError, match=rf"^bill {bill.id} is in INR, not USD$"):
        await side.bills.pay_bill(bill.id, part(1_00).model_copy(update={"currency": "USD"}))
    assert [b.id for b in await side.today()] == [bill.id]


def _members(port: type) -> list[str]:
    return sorted(name for name in vars(port) if not name.startswith("_"))


@pytest.mark.parametrize("impl", [Bills, RemoteBills])
def test_both_bills_have_the_ports_methods_with_its_parameters(impl: type) -> None:
    assert _members(BillsAPI) == [
        "bills",
        "cancel_bill",
        "get_bill",
        "open_bill",
        "pay_bill",
        "repair",
    ]
    for name in _members(BillsAPI):
        wanted = inspect.signature(getattr(BillsAPI, name)).parameters
        got = inspect.signature(getattr(impl, name)).parameters
        for param in wanted.values():
            assert param.name in got and got[param.name].default == param.default, (impl, name)
        for extra in set(got) - set(wanted):
            assert got[extra].default is not inspect.Parameter.empty, (impl, name, extra)
        assert inspect.iscoroutinefunction(getattr(impl, name)) == inspect.iscoroutinefunction(
            getattr(BillsAPI, name)
        ), (impl, name)
    assert "bills" in dir(GatewayAPI)


# -- whatever arrives ---------------------------------------------------------------------------
FIELDS = ["amount", "currency", "method", "card", "cash", "tendered", "upi", "approval",
          "approver_id", "pin", "operator", "number", "expiry", "cvv", "tip"]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from([VISA.pan, "12/30", "INR", "USD", "cash", "upi", "meera", "4321"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(FIELDS) | st.text(max_size=6),
            inner,
            max_size=5,
        )
    ),
    max_leaves=10,
)
bodies = values.map(json.dumps).map(str.encode) | st.binary(max_size=100)


def test_no_bill_endpoint_answers_a_500(tmp_path: Path, clock: FixedClock) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    key = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).issue(
        MERCHANT, "TERM0001", actor="t"
    )
    app = create_app(rt, repair_on_start=False)
    runner = asyncio.Runner()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://gw",
        headers={"Authorization": f"Bearer {key[1]}", "Content-Type": "application/json"},
    )
    opened = runner.run(client.post("/v1/bills", json={"amount": 500_00})).json()["id"]
    paths = st.sampled_from(["/v1/bills", "/v1/bills/bill_20261128_x/payments", "/v1/bills/%00/x"])
    paths |= st.sampled_from([f"/v1/bills/{opened}/payments", f"/v1/bills/{opened}/cancel"])

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=bodies, path=paths)
    def post(body: bytes, path: str) -> None:
        response = runner.run(client.post(path, content=body))
        assert response.status_code < 500, (response.status_code, response.text)
        if response.status_code != 200:
            error = response.json()["error"]
            assert "\n" not in error["message"] and VISA.pan not in response.text

    try:
        post()
    finally:
        runner.run(client.aclose())
        runner.run(rt.aclose())
        runner.close()
