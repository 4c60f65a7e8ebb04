"""One contract for the gateway API (`ports.GatewayAPI`), run through both implementations:
the in-process `Gateway` and `RemoteGateway` on the FastAPI app (in process, no sockets).

Every test runs twice (`side` is parametrized) and asserts the same literal results on
both: statuses, amounts, exception classes and messages. The last tests check that the
Protocol's methods and both implementations have the same parameters.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from pydantic import SecretStr
from support import MANAGER, OTP_RE, VISA, card_input, charge, gateway_settings, open_runtime

from bank_sim import testcards
from gateway_core.access import NotPermitted
from gateway_core.bank_client import BankClient
from gateway_core.cards import CardError
from gateway_core.clock import FixedClock
from gateway_core.errors import BankRefused, InputError
from gateway_core.gateway import (
    ChargeRequest,
    Gateway,
    IdempotencyConflict,
    NotAllowed,
    UnknownPayment,
    WrongOtp,
)
from gateway_core.money import UnknownCurrency
from gateway_core.payments import Payment
from gateway_core.ports import GatewayAPI, GatewayBank, ShiftsAPI
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.client import RemoteBank, RemoteGateway, RemoteShifts
from gateway_core.service.keys import ApiKeys
from gateway_core.shifts import Shifts

T = TypeVar("T")
DECLINE = testcards.card_for("4000 0000 0000 0002")
OTP_CARD = testcards.card_for("4000 0000 0000 3220")
UNKNOWN = "pay_0000000000"


class LoopTransport(httpx.BaseTransport):
    """The remote gateway's synchronous reads, answered by the app on the test's loop
    (the reads run in a worker thread, as the terminal runs them)."""

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
class Side:
    """One implementation of the gateway API, and how its reads are called."""

    gw: GatewayAPI
    remote: bool

    async def _read(self, method: Callable[..., T], *args: object) -> T:
        return await asyncio.to_thread(method, *args) if self.remote else method(*args)

    async def get(self, payment_id: str) -> Payment:
        return await self._read(self.gw.get, payment_id)

    async def today(self) -> list[Payment]:
        return await self._read(self.gw.list_day)

    async def ids(self) -> list[str]:
        """The ids of today's payments, oldest first."""
        return [p.id for p in await self.today()]

    async def otp(self) -> str:
        """The code in the newest text the banks sent."""
        newest = (await self.gw.bank.outbox())[0]
        found = OTP_RE.search(newest.text)
        assert found is not None
        return found.group()


@pytest.fixture(params=["in_process", "http"])
async def side(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Side]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        if request.param == "in_process":
            yield Side(rt.gateway, remote=False)
            return
        keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
        _, secret = keys.issue(rt.settings.merchant_id, rt.settings.terminal_id, actor="owner")
        await board_merchants(rt.gateway.bank, keys)  # as the server's start does
        app = httpx.ASGITransport(app=create_app(rt, repair_on_start=False))
        reads = LoopTransport(app, asyncio.get_running_loop())
        remote = RemoteGateway("http://gw", secret, transport=app, read_transport=reads)
        try:
            yield Side(remote, remote=True)
        finally:
            await remote.aclose()
    finally:
        await rt.aclose()


def sale(card: testcards.TestCard = VISA, amount: int = 100_00, **kw: object) -> ChargeRequest:
    """A charge keyed by the demo cashier (a user on both sides)."""
    return charge(card, amount, operator="asha", **kw)


# -- charging -----------------------------------------------------------------------------------
async def test_a_sale_is_approved_stored_and_read_back(side: Side) -> None:
    payment = await side.gw.charge(sale(tip=10_00))
    assert (payment.status, payment.response_code, payment.message) == (
        "succeeded",
        "00",
        "Approved",
    )
    assert (payment.amount, payment.tip, payment.amount_captured) == (100_00, 10_00, 100_00)
    assert (payment.operator, payment.terminal_id) == ("asha", "TERM0001")
    assert payment.card.masked.endswith("4242")
    assert await side.get(payment.id) == payment
    assert await side.ids() == [payment.id]


async def test_a_decline_is_returned_and_stored(side: Side) -> None:
    payment = await side.gw.charge(sale(DECLINE))
    assert (payment.status, payment.response_code, payment.amount_captured) == ("declined", "05", 0)
    assert await side.get(payment.id) == payment


# -- OTP step-up --------------------------------------------------------------------------------
async def test_otp_a_wrong_code_then_the_right_one(side: Side) -> None:
    payment = await side.gw.charge(sale(OTP_CARD, 20_000_00))
    assert payment.status == "requires_action"
    with pytest.raises(WrongOtp, match=r"^wrong code: 2 tries left$"):
        await side.gw.confirm_otp(payment.id, "000000", operator="asha")
    assert (await side.get(payment.id)).status == "requires_action"
    done = await side.gw.confirm_otp(payment.id, await side.otp(), operator="asha")
    assert (done.status, done.amount_captured) == ("succeeded", 20_000_00)


async def test_otp_resend_waits_then_sends_a_new_code(side: Side, clock: FixedClock) -> None:
    payment = await side.gw.charge(sale(OTP_CARD, 20_000_00))
    sent = len(await side.gw.bank.outbox())
    with pytest.raises(BankRefused, match=r"^the bank refused: wait 30 s before asking for a new"):
        await side.gw.resend_otp(payment.id, operator="asha")
    clock.advance(seconds=31)
    again = await side.gw.resend_otp(payment.id, operator="asha")
    assert again.status == "requires_action"
    assert len(await side.gw.bank.outbox()) == sent + 1
    assert (await side.gw.confirm_otp(payment.id, await side.otp())).status == "succeeded"


# -- after authorization ------------------------------------------------------------------------
async def test_capture_part_once_then_refused(side: Side) -> None:
    auth = await side.gw.charge(sale(capture="manual"))
    assert (auth.status, auth.amount_captured) == ("requires_capture", 0)
    with pytest.raises(InputError, match=r"^capture between 0 and ₹100\.00, not more$"):
        await side.gw.capture(auth.id, 100_01)
    done = await side.gw.capture(auth.id, 70_00)
    assert (done.status, done.amount_captured) == ("succeeded", 70_00)
    with pytest.raises(NotAllowed, match=rf"^payment {auth.id} cannot be captured \(it is "):
        await side.gw.capture(auth.id)
    assert (await side.get(auth.id)).amount_captured == 70_00


async def test_void_needs_a_managers_approval(side: Side) -> None:
    auth = await side.gw.charge(sale(capture="manual"))
    with pytest.raises(NotPermitted, match=r"^a void needs a manager's approval \(ID and PIN\)$"):
        await side.gw.void(auth.id)
    voided = await side.gw.void(auth.id, operator="asha", approval=MANAGER)
    assert (voided.status, voided.message, voided.approved_by) == ("canceled", "Voided", "meera")
    with pytest.raises(NotAllowed, match=rf"^payment {auth.id} cannot be voided"):
        await side.gw.void(auth.id, approval=MANAGER)


async def test_refund_part_then_more_than_is_left_is_refused(side: Side) -> None:
    payment = await side.gw.charge(sale())
    refunded = await side.gw.refund(payment.id, 30_00, operator="asha", approval=MANAGER)
    assert (refunded.amount_refunded, refunded.refundable, len(refunded.refunds)) == (
        30_00,
        70_00,
        1,
    )
    with pytest.raises(
        InputError, match=r"^refund at most ₹70\.00 \(what is left of the capture\)$"
    ):
        await side.gw.refund(payment.id, 80_00, approval=MANAGER)
    with pytest.raises(NotPermitted, match=r"^a refund needs a manager's approval"):
        await side.gw.refund(payment.id, 10_00)
    assert (await side.get(payment.id)).amount_refunded == 30_00
    rest = await side.gw.refund(payment.id, approval=MANAGER)
    assert (rest.amount_refunded, rest.refundable) == (100_00, 0)
    with pytest.raises(NotAllowed, match=rf"^payment {payment.id} is already fully refunded$"):
        await side.gw.refund(payment.id, approval=MANAGER)


# -- idempotency --------------------------------------------------------------------------------
async def test_a_retry_with_the_same_key_is_the_same_payment(side: Side) -> None:
    first = await side.gw.charge(sale(idempotency_key="order-17"))
    again = await side.gw.charge(sale(idempotency_key="order-17"))
    assert again == first and first.idempotency_key == "order-17"
    assert await side.ids() == [first.id]


async def test_a_key_reused_for_another_payment_is_refused(side: Side) -> None:
    first = await side.gw.charge(sale(idempotency_key="order-18"))
    with pytest.raises(IdempotencyConflict, match=r"was used for a different payment$"):
        await side.gw.charge(sale(amount=200_00, idempotency_key="order-18"))
    assert await side.ids() == [first.id]


# -- lookups and bad input ----------------------------------------------------------------------
async def test_an_unknown_payment_is_a_clear_error_and_creates_nothing(side: Side) -> None:
    with pytest.raises(UnknownPayment, match=rf"^no payment {UNKNOWN}$"):
        await side.get(UNKNOWN)
    with pytest.raises(UnknownPayment, match=rf"^no payment {UNKNOWN}$"):
        await side.gw.capture(UNKNOWN)
    with pytest.raises(UnknownPayment, match=rf"^no payment {UNKNOWN}$"):
        await side.gw.void(UNKNOWN, approval=MANAGER)
    with pytest.raises(UnknownPayment, match=rf"^no payment {UNKNOWN}$"):
        await side.gw.refund(UNKNOWN, approval=MANAGER)
    with pytest.raises(UnknownPayment, match=rf"^no payment {UNKNOWN}$"):
        await side.gw.confirm_otp(UNKNOWN, "123456")
    assert await side.ids() == []
    assert await side.gw.repair() == []


@pytest.mark.parametrize(
    ("pan", "expiry", "field"),
    [("4242 4242 4242 4241", "12/30", "number"), ("4242 4242 4242 4242", "13/30", "expiry")],
)
async def test_a_bad_card_is_one_line_and_nothing_is_stored(
    side: Side, pan: str, expiry: str, field: str
) -> None:
    card = card_input(VISA).model_copy(update={"pan": SecretStr(pan), "expiry": expiry})
    with pytest.raises(CardError) as caught:
        await side.gw.charge(ChargeRequest(amount=100_00, currency="INR", card=card))
    assert caught.value.field == field
    assert "\n" not in str(caught.value) and "4242" not in str(caught.value)
    assert await side.ids() == []


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"currency": "XYZ"}, UnknownCurrency, r"^unknown currency 'XYZ'; use one of INR, USD, "),
        ({"tip": 100_00}, InputError, r"^the tip must be less than the total$"),
    ],
)
async def test_a_bad_request_is_one_line_and_nothing_is_stored(
    side: Side, change: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await side.gw.charge(sale().model_copy(update=change))
    assert await side.ids() == []


async def test_a_day_lists_the_payments_oldest_first(side: Side) -> None:
    ids = [(await side.gw.charge(sale(amount=amount))).id for amount in (1_00, 2_00, 3_00)]
    assert await side.ids() == ids
    assert [p.amount for p in await side.today()] == [1_00, 2_00, 3_00]


# -- the port itself ----------------------------------------------------------------------------
def _members(port: type) -> list[str]:
    members = vars(port).items()  # not the properties (bank, bills, shifts): their ports are apart
    return sorted(n for n, v in members if not n.startswith("_") and not isinstance(v, property))


def _same_parameters(port: type, impl: type, name: str) -> None:
    """`impl.name` takes every parameter of `port.name` (same kind and default); any
    more it takes are optional."""
    wanted = inspect.signature(getattr(port, name)).parameters
    got = inspect.signature(getattr(impl, name)).parameters
    for param in wanted.values():
        assert param.name in got, f"{impl.__name__}.{name} lacks {param.name}"
        have = got[param.name]
        kinds = {param.kind}
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:  # an implementation may name it
            kinds.add(inspect.Parameter.POSITIONAL_OR_KEYWORD)
        assert have.kind in kinds and have.default == param.default, f"{impl.__name__}.{name}"
    for extra in set(got) - set(wanted):
        assert got[extra].default is not inspect.Parameter.empty, f"{impl.__name__}.{name}"
    wanted_async = inspect.iscoroutinefunction(getattr(port, name)) or str(
        inspect.signature(getattr(port, name)).return_annotation
    ).startswith("Awaitable")
    assert inspect.iscoroutinefunction(getattr(impl, name)) == wanted_async, (
        f"{impl.__name__}.{name}: async on one side only"
    )


@pytest.mark.parametrize("impl", [Gateway, RemoteGateway])
def test_each_gateway_has_the_ports_methods_with_its_parameters(impl: type) -> None:
    assert _members(GatewayAPI) == [
        "cancel",
        "capture",
        "charge",
        "confirm_otp",
        "get",
        "list_day",
        "refresh",
        "refund",
        "repair",
        "resend_otp",
        "void",
    ]
    for name in _members(GatewayAPI):
        _same_parameters(GatewayAPI, impl, name)


@pytest.mark.parametrize("impl", [BankClient, RemoteBank])
def test_each_gateways_bank_has_the_ports_methods_with_its_parameters(impl: type) -> None:
    assert _members(GatewayBank) == ["close", "frames", "outbox"]
    for name in _members(GatewayBank):
        _same_parameters(GatewayBank, impl, name)


@pytest.mark.parametrize("impl", [Shifts, RemoteShifts])
def test_each_gateways_shifts_have_the_ports_methods_with_their_parameters(impl: type) -> None:
    assert _members(ShiftsAPI) == [
        "close_shift",
        "current_shift",
        "move_cash",
        "open_shift",
        "shift_report",
        "shifts",
    ]
    for name in _members(ShiftsAPI):
        _same_parameters(ShiftsAPI, impl, name)


def test_the_check_sees_a_drift() -> None:
    """Control: a method that lost a parameter's default fails the check."""

    class Drifted:
        async def capture(self, payment_id: str, amount: int | None, *, operator: str) -> None:
            return None

    with pytest.raises(AssertionError):
        _same_parameters(GatewayAPI, Drifted, "capture")
