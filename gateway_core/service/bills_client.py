"""`RemoteBills`: split bills (`ports.BillsAPI`) over HTTP, as `RemoteGateway.bills`.

The same `Bill` models and exception classes as `Gateway.bills` (`BillError`,
`UnknownBill`, `BillNotOpen`, `NotPermitted`, ...). A part travels as a payment's body
with an idempotency key (the request's, else a fresh one), sent again with the same key
when the connection drops: never paid twice. `get_bill` and `bills` are synchronous, as
on `Gateway.bills` (one blocking HTTP call each: run them in a thread from a loop).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

from gateway_core.bill_models import Bill
from gateway_core.money import normalize_currency
from gateway_core.payments import ChargeRequest
from gateway_core.ports import Approval
from gateway_core.service.bill_bodies import BillList
from gateway_core.service.models import Repaired

T = TypeVar("T")
Call = Callable[..., Awaitable[Any]]  # RemoteGateway._call(method, path, model, json=, headers=)
Read = Callable[..., Any]  # RemoteGateway._read(path, model, **params)
PostKeyed = Callable[[str, type[Bill], ChargeRequest], Awaitable[Bill]]


def _bill(bill_id: str, action: str = "") -> str:
    """The path of a bill (or of an action on it), whatever the id holds."""
    return f"/v1/bills/{quote(bill_id, safe='')}" + (f"/{action}" if action else "")


class RemoteBills:
    """The bills of a `paygate serve`, through its `RemoteGateway`'s connections."""

    def __init__(
        self,
        call: Call,
        read: Read,
        post_keyed: PostKeyed,
        operator: Callable[[str], Mapping[str, str]],
    ) -> None:
        self._call = call
        self._read = read
        self._post_keyed = post_keyed
        self._operator = operator

    async def open_bill(
        self,
        *,
        amount: int,
        currency: str,
        operator: str,
        terminal_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Bill:
        """POST /v1/bills (the terminal is the server's key's: `terminal_id` is not
        sent)."""
        body = {"amount": amount, "currency": normalize_currency(currency)}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        json = {**body, **self._operator(operator)}
        bill: Bill = await self._call("POST", "/v1/bills", Bill, json=json, headers=headers)
        return bill

    async def pay_bill(self, bill_id: str, /, req: ChargeRequest) -> Bill:
        """POST /v1/bills/{id}/payments: one part, with a payment's body."""
        return await self._post_keyed(_bill(bill_id, "payments"), Bill, req)

    async def cancel_bill(
        self, bill_id: str, /, *, operator: str, approval: Approval | None = None
    ) -> Bill:
        """POST /v1/bills/{id}/cancel, with the manager's approval when given (the
        server refuses a cancel that gives money back without one)."""
        body: dict[str, object] = dict(self._operator(operator))
        if approval is not None:
            body["approval"] = {"approver_id": approval.user_id, "pin": approval.pin}
        bill: Bill = await self._call("POST", _bill(bill_id, "cancel"), Bill, json=body)
        return bill

    def get_bill(self, bill_id: str, /) -> Bill:
        """GET /v1/bills/{id}."""
        bill: Bill = self._read(_bill(bill_id), Bill)
        return bill

    def bills(self, day: date | None = None) -> list[Bill]:
        """GET /v1/bills?date=: this merchant's bills of a day, oldest first."""
        params = {"date": day.isoformat()} if day else {}
        listed: BillList = self._read("/v1/bills", BillList, **params)
        return [Bill.model_validate(b.model_dump()) for b in listed.data]

    async def repair(self) -> list[str]:
        """POST /v1/bills/repair: what the server finished among this merchant's bills."""
        repaired: Repaired = await self._call("POST", "/v1/bills/repair", Repaired)
        return repaired.repaired
