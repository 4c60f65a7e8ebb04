"""`RemoteGateway`: the gateway API (`ports.GatewayAPI`) over HTTP, for a terminal on
`paygate serve`.

The port's methods (`charge` of a card or UPI payment, `confirm_otp`, `resend_otp`,
`capture`, `void`, `refund`, `refresh`, `cancel`, `repair`, `get`, `list_day`, and
`.bank.outbox()` / `.bank.frames(id)`), plus what only a remote terminal asks (`login`,
`whoami`, the terminal keys, `x_report`), returning the same `Payment` models and
raising the same exception classes as `Gateway`. As on
`Gateway`, `get` and `list_day` are synchronous: they make one blocking HTTP call
(bounded by `read_timeout_s`), safe from any thread; in an event loop, run them in a
thread (`asyncio.to_thread`) so the loop is not held for the round trip.

A charge always travels with an idempotency key (the request's, else a fresh one), and
a charge whose connection drops is sent again with the same key, up to `retries` times:
the server answers with the payment already in flight or done, never a second charge.
No answer at all raises `GatewayUnreachable` (one line).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import RootModel, TypeAdapter, ValidationError

from gateway_core.access import NotPermitted, User
from gateway_core.acquirer_api import Frame, Sms
from gateway_core.errors import InputError, SystemFailure
from gateway_core.gateway import ChargeRequest
from gateway_core.money import normalize_currency
from gateway_core.payments import Payment, UpiInput
from gateway_core.ports import Approval
from gateway_core.service.bills_client import RemoteBills
from gateway_core.service.errors import ErrorBody, GatewayUnreachable, to_exception
from gateway_core.service.keys import ApiKey
from gateway_core.service.models import IssuedKey, PaymentList, Repaired
from gateway_core.settings import Settings
from gateway_core.settlement import DayReport
from gateway_core.shift_models import Count, DrawerMove, Shift, ShiftReport

if TYPE_CHECKING:
    from gateway_core.gateway import Gateway
    from gateway_core.ports import GatewayAPI

T = TypeVar("T")
ADMIN_NEEDED = "a merchant admin must approve"


def _payment(payment_id: str, action: str = "") -> str:
    """The path of a payment (or of an action on it), whatever the id holds."""
    return f"/v1/payments/{quote(payment_id, safe='')}" + (f"/{action}" if action else "")


def _shift(shift_id: str, action: str = "") -> str:
    """The path of a shift (or of an action on it)."""
    return f"/v1/shifts/{quote(shift_id, safe='')}" + (f"/{action}" if action else "")


def _unreachable(url: str, exc: httpx.HTTPError) -> GatewayUnreachable:
    return GatewayUnreachable(f"the gateway at {url} cannot be reached ({type(exc).__name__})")


def _answer(response: httpx.Response, model: type[T]) -> T:
    """The body as `model`, or the exception its error body stands for."""
    try:
        if response.is_success:
            return TypeAdapter(model).validate_python(response.json())
        detail = ErrorBody.model_validate(response.json()).error
    except (ValueError, ValidationError):
        failure = InputError if 400 <= response.status_code < 500 else SystemFailure
        raise failure(
            f"the gateway's answer cannot be read (HTTP {response.status_code})"
        ) from None
    raise to_exception(response.status_code, detail)


class RemoteBank:
    """What the terminal reads from the banks, through the gateway service."""

    def __init__(self, gateway: RemoteGateway) -> None:
        self._gateway = gateway

    async def outbox(self, phone: str | None = None) -> list[Sms]:
        """The simulated phones' messages, newest first (demo banks only)."""
        messages = await self._gateway._call("GET", "/v1/demo/outbox", list[Sms])
        return [m for m in messages if phone is None or m.phone == phone]

    async def frames(self, payment_id: str) -> list[Frame]:
        """A payment's ISO 8583 frames, card masked."""
        return await self._gateway._call("GET", _payment(payment_id, "frames"), list[Frame])

    async def close(self) -> None:
        """Close the connections to the service."""
        await self._gateway.aclose()


class _MaybeShift(RootModel[Shift | None]):
    """A shift, or JSON null when none is open."""


class RemoteShifts:
    """Cashiers' shifts (`ShiftsAPI`) through the gateway service: this key's merchant,
    opened on this key's terminal."""

    def __init__(self, gateway: RemoteGateway) -> None:
        self._gateway = gateway

    async def open_shift(
        self, *, count: Count, cashier: str, terminal_id: str | None = None
    ) -> Shift:
        """POST /v1/shifts."""
        body = {"count": count, "cashier": cashier, "terminal_id": terminal_id}
        return await self._gateway._call("POST", "/v1/shifts", Shift, json=body)

    async def close_shift(
        self, shift_id: str, /, *, count: Count, operator: str, approval: Approval | None = None
    ) -> ShiftReport:
        """POST /v1/shifts/{id}/close."""
        body = {"count": count, **_maybe_approval(approval), **_operator(operator)}
        return await self._gateway._call("POST", _shift(shift_id, "close"), ShiftReport, json=body)

    async def move_cash(
        self,
        shift_id: str,
        /,
        *,
        kind: Literal["paid_in", "paid_out"],
        amount: int,
        reason: str,
        operator: str,
        approval: Approval | None = None,
    ) -> DrawerMove:
        """POST /v1/shifts/{id}/cash."""
        body = {
            "kind": kind,
            "amount": amount,
            "reason": reason,
            **_maybe_approval(approval),
            **_operator(operator),
        }
        return await self._gateway._call("POST", _shift(shift_id, "cash"), DrawerMove, json=body)

    def current_shift(self, terminal_id: str | None = None) -> Shift | None:
        """GET /v1/shifts/current?terminal_id= (this key's terminal by default)."""
        params = {"terminal_id": terminal_id} if terminal_id else {}
        return self._gateway._read("/v1/shifts/current", _MaybeShift, **params).root

    def shift_report(self, shift_id: str, /) -> ShiftReport:
        """GET /v1/shifts/{id}."""
        return self._gateway._read(_shift(shift_id), ShiftReport)

    def shifts(self, day: date | None = None) -> list[Shift]:
        """GET /v1/shifts?date=: the shifts of a day and the open ones, oldest first."""
        params = {"date": day.isoformat()} if day else {}
        return self._gateway._read("/v1/shifts", list[Shift], **params)


class RemoteGateway:
    """A `Gateway` that is a `paygate serve` process at `url`, reached with `api_key`."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout_s: float = 30.0,
        read_timeout_s: float = 10.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        read_transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`transport` and `read_transport` replace the network of the async calls and
        of the synchronous reads (tests pass transports into the app)."""
        self.url = url.rstrip("/")
        self.retries = retries
        self.key_id = api_key.split("_")[1] if api_key.count("_") >= 2 else ""
        headers = {"Authorization": f"Bearer {api_key}"}
        self._async = httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=timeout_s, transport=transport
        )
        self._sync = httpx.Client(
            base_url=self.url, headers=headers, timeout=read_timeout_s, transport=read_transport
        )
        self.bank = RemoteBank(self)
        self.bills = RemoteBills(self._call, self._read, self._post_keyed, _operator)
        self.shifts = RemoteShifts(self)

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteGateway | None:
        """The remote gateway `gateway_url` and `api_key` select, or None when unset."""
        if settings.gateway_url is None:
            return None
        if settings.api_key is None:
            raise InputError("a gateway URL needs an API key: --api-key pk_... (or api_key)")
        return cls(settings.gateway_url, settings.api_key.get_secret_value())

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        self._sync.close()
        await self._async.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        model: type[T],
        *,
        json: Mapping[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        try:
            response = await self._async.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from None
        return _answer(response, model)

    def _read(self, path: str, model: type[T], **params: str) -> T:
        try:
            response = self._sync.get(path, params=params)
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from None
        return _answer(response, model)

    # -- taking payments ------------------------------------------------------------------
    async def charge(self, req: ChargeRequest) -> Payment:
        """POST /v1/payments (a card or UPI payment); a dropped connection is retried
        with the same key."""
        return await self._post_keyed("/v1/payments", Payment, req)

    async def _post_keyed(self, path: str, model: type[T], req: ChargeRequest) -> T:
        """POST a payment's body (`payment_body`) with its idempotency key (else a fresh
        one), sent again with the same key when the connection drops (`retries` times)."""
        key = req.idempotency_key or f"charge_{secrets.token_hex(12)}"
        body = payment_body(req)
        for attempt in range(self.retries + 1):
            try:
                return await self._call(
                    "POST", path, model, json=body, headers={"Idempotency-Key": key}
                )
            except GatewayUnreachable:
                if attempt == self.retries:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def confirm_otp(self, payment_id: str, otp: str, *, operator: str = "cli") -> Payment:
        """POST /v1/payments/{id}/confirm."""
        body = {"otp": otp, **_operator(operator)}
        return await self._call("POST", _payment(payment_id, "confirm"), Payment, json=body)

    async def resend_otp(self, payment_id: str, *, operator: str = "cli") -> Payment:
        """POST /v1/payments/{id}/resend."""
        body = _operator(operator)
        return await self._call("POST", _payment(payment_id, "resend"), Payment, json=body)

    async def capture(
        self, payment_id: str, amount: int | None = None, *, operator: str = "cli"
    ) -> Payment:
        """POST /v1/payments/{id}/capture (all of it when `amount` is None)."""
        body = {"amount": amount, **_operator(operator)}
        return await self._call("POST", _payment(payment_id, "capture"), Payment, json=body)

    async def void(
        self, payment_id: str, *, operator: str = "cli", approval: Approval | None = None
    ) -> Payment:
        """POST /v1/payments/{id}/void with the manager's approval."""
        body = {**_approval(approval, "a void needs a manager's approval"), **_operator(operator)}
        return await self._call("POST", _payment(payment_id, "void"), Payment, json=body)

    async def refund(
        self,
        payment_id: str,
        amount: int | None = None,
        *,
        operator: str = "cli",
        approval: Approval | None = None,
    ) -> Payment:
        """POST /v1/payments/{id}/refunds with the manager's approval."""
        approved = _approval(approval, "a refund needs a manager's approval")
        body = {"amount": amount, **approved, **_operator(operator)}
        return await self._call("POST", _payment(payment_id, "refunds"), Payment, json=body)

    async def refresh(self, payment_id: str) -> Payment:
        """POST /v1/payments/{id}/refresh: callbacks applied, a check made when due."""
        return await self._call("POST", _payment(payment_id, "refresh"), Payment)

    async def cancel(self, payment_id: str, *, operator: str = "cli") -> Payment:
        """POST /v1/payments/{id}/cancel: give up on a payment waiting for the customer."""
        body = _operator(operator)
        return await self._call("POST", _payment(payment_id, "cancel"), Payment, json=body)

    async def login(self, user_id: str, pin: str) -> User:
        """POST /v1/login: the user, once the server has checked the PIN (as
        `Access.login`: 5 wrong PINs lock the user)."""
        body = {"user_id": user_id, "pin": pin}
        return await self._call("POST", "/v1/login", User, json=body)

    async def terminal_keys(self) -> list[ApiKey]:
        """GET /v1/terminals: the merchant's keys (never a key itself)."""
        return await self._call("GET", "/v1/terminals", list[ApiKey])

    async def whoami(self) -> ApiKey:
        """This client's own key: its merchant and terminal (they decide, not Settings)."""
        (mine,) = [k for k in await self.terminal_keys() if k.id == self.key_id]
        return mine

    async def issue_key(self, terminal_id: str, approval: Approval) -> IssuedKey:
        """POST /v1/terminals: a key for another terminal of this merchant."""
        body = {"terminal_id": terminal_id, **_approval(approval, ADMIN_NEEDED)}
        return await self._call("POST", "/v1/terminals", IssuedKey, json=body)

    async def revoke_key(self, key_id: str, approval: Approval) -> ApiKey:
        """POST /v1/terminals/{id}/revoke: the key stops working at once."""
        body = _approval(approval, ADMIN_NEEDED)
        return await self._call(
            "POST", f"/v1/terminals/{quote(key_id, safe='')}/revoke", ApiKey, json=body
        )

    async def repair(self) -> list[str]:
        """POST /v1/repair: what the server settled among this merchant's payments."""
        return (await self._call("POST", "/v1/repair", Repaired)).repaired

    # -- reading (synchronous, as on Gateway) ----------------------------------------------
    def get(self, payment_id: str) -> Payment:
        """GET /v1/payments/{id}."""
        return self._read(_payment(payment_id), Payment)

    def list_day(self, day: date | None = None) -> list[Payment]:
        """GET /v1/payments?date=: this merchant's payments of a day, oldest first."""
        params = {"date": day.isoformat()} if day else {}
        return list[Payment](self._read("/v1/payments", PaymentList, **params).data)

    def page_day(self, day: date | None, after: str | None, size: int) -> list[Payment]:
        """GET /v1/payments?limit=&after=: up to `size` of this merchant's payments of a
        day, newest first, after the payment `after` (read a page at a time)."""
        params: dict[str, str] = {"limit": str(min(size, 1000))}
        if day:
            params["date"] = day.isoformat()
        found: list[Payment] = []
        while True:
            if after:
                params["after"] = after
            page = self._read("/v1/payments", PaymentList, **params)
            found += page.data
            if not page.has_more or len(found) >= size or not page.data:
                return found[:size]
            after = page.data[-1].id

    def x_report(self, day: date | None = None) -> DayReport:
        """GET /v1/reports/x?date=: this merchant's X report of a day (the server's today
        by default)."""
        params = {"date": day.isoformat()} if day else {}
        return self._read("/v1/reports/x", DayReport, **params)


def payment_body(req: ChargeRequest) -> dict[str, object]:
    """A payment's body: POST /v1/payments, and a bill's part."""
    return {
        "method": req.method,
        "amount": req.amount,
        "currency": normalize_currency(req.currency),  # refused as `Gateway` refuses it
        "tip": req.tip,
        "capture_method": req.capture,
        **_tender(req),
        **_operator(req.operator),
    }


def _tender(req: ChargeRequest) -> dict[str, object]:
    """The method's part of a payment body: a card's card, a UPI payment's flow, a net
    banking payment's bank, the cash tendered."""
    if req.card is not None:
        card = req.card
        number, cvv = card.pan.get_secret_value(), card.cvv.get_secret_value()
        return {"card": {"number": number, "expiry": card.expiry, "cvv": cvv}}
    if req.method == "upi":
        return {"upi": (req.upi or UpiInput()).model_dump(exclude_none=True)}
    if req.method == "link":
        return {"return_url": req.return_url} if req.return_url else {}
    if req.netbanking is not None:
        return {"netbanking": req.netbanking.model_dump()}
    if req.cash is not None:
        return {"cash": req.cash.model_dump()}
    raise InputError(f"the gateway service takes no {req.method} payments")


def _operator(operator: str) -> dict[str, str]:
    """The operator when it is a user; the defaults ("cli", "terminal") are not, and the
    server then records the key's terminal."""
    return {} if operator in ("cli", "terminal") else {"operator": operator}


def _maybe_approval(approval: Approval | None) -> dict[str, object]:
    """An approval when there is one (the server says whether one is needed)."""
    return {} if approval is None else _approval(approval, "")


def _approval(approval: Approval | None, refusal: str) -> dict[str, object]:
    """The approval as the API takes it; refused here, as `Gateway` does, when missing."""
    if approval is None:
        raise NotPermitted(f"{refusal} (ID and PIN)")
    return {"approval": {"approver_id": approval.user_id, "pin": approval.pin}}


if TYPE_CHECKING:

    def _both_are_the_gateway_api(local: Gateway, remote: RemoteGateway) -> list[GatewayAPI]:
        """mypy checks here that both gateways satisfy the port (no test runs this)."""
        return [local, remote]
