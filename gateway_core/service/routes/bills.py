"""Split bills: /v1/bills (open one), its parts (each a payment of any method), its
cancel, one bill, a day's bills (`?date=`, or `?day=`), and the bills' repair. Another
merchant's bill is a 404, as if it did not exist.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from gateway_core.bill_models import Bill
from gateway_core.bills import UnknownBill
from gateway_core.errors import InputError
from gateway_core.ports import Approval
from gateway_core.service.bill_bodies import BillCancel, BillCreate, BillList, BillView
from gateway_core.service.dependencies import Caller, Day, GatewayDep, IdempotencyKey, Terminal
from gateway_core.service.models import PaymentCreate, Repaired
from gateway_core.service.responses import invalid
from gateway_core.service.routes.payments import charge_request
from gateway_core.settlement import parse_day

router = APIRouter()
BillId = Annotated[str, Path(min_length=1, max_length=64)]


def _shown(caller: Terminal, bill: Bill) -> BillView:
    """The bill as its merchant sent it (its idempotency key unscoped)."""
    key = bill.idempotency_key
    if key is not None:
        bill = bill.model_copy(
            update={"idempotency_key": key.removeprefix(f"{caller.merchant_id}/")}
        )
    return BillView.model_validate(bill.model_dump())


def _owned(caller: Terminal, gateway: GatewayDep, bill_id: str) -> Bill:
    """The merchant's bill; another merchant's is unknown."""
    bill = gateway.bills.get_bill(bill_id)
    if bill.merchant_id != caller.merchant_id:
        raise UnknownBill(f"no bill {bill_id}")
    return bill


@router.post("/bills", summary="Open a bill: its total, paid by one or several tenders")
async def open_bill(
    body: BillCreate, caller: Caller, idempotency_key: IdempotencyKey, gateway: GatewayDep
) -> BillView:
    merchant_id = caller.merchant_id
    bill = await gateway.bills.open_bill(
        amount=body.amount,
        currency=body.currency or caller.rt.settings.currency,
        operator=caller.operator(body),
        terminal_id=caller.key.terminal_id,
        idempotency_key=f"{merchant_id}/{idempotency_key}" if idempotency_key else None,
        merchant_id=merchant_id,
    )
    return _shown(caller, bill)


@router.post("/bills/{bill_id}/payments", summary="Pay part of a bill with one tender")
async def pay_bill(
    bill_id: BillId,
    body: PaymentCreate,
    caller: Caller,
    idempotency_key: IdempotencyKey,
    gateway: GatewayDep,
) -> BillView:
    bill = _owned(caller, gateway, bill_id)
    if body.currency is None:  # the bill's, not the server's
        body = body.model_copy(update={"currency": bill.currency})
    request = charge_request(body, caller, idempotency_key)
    return _shown(caller, await gateway.bills.pay_bill(bill_id, request))


@router.post("/bills/{bill_id}/cancel", summary="Give up a bill: what was taken goes back")
async def cancel_bill(
    bill_id: BillId, caller: Caller, gateway: GatewayDep, body: BillCancel | None = None
) -> BillView:
    _owned(caller, gateway, bill_id)
    given = body.approval if body else None
    approval = None if given is None else Approval(given.approver_id, given.pin.get_secret_value())
    bill = await gateway.bills.cancel_bill(
        bill_id, operator=caller.operator(body), approval=approval
    )
    return _shown(caller, bill)


@router.post("/bills/repair", summary="Finish the bills a stop left (paid, or canceled)")
async def repair(caller: Caller, gateway: GatewayDep) -> Repaired:
    notes = await gateway.bills.repair()
    bills = gateway.bills
    mine = [n for n in notes if bills.get_bill(n.split(":")[0]).merchant_id == caller.merchant_id]
    return Repaired(repaired=mine)


@router.get("/bills/{bill_id}", summary="One bill with its parts")
async def get_bill(bill_id: BillId, caller: Caller, gateway: GatewayDep) -> BillView:
    return _shown(caller, _owned(caller, gateway, bill_id))


def _day_alias(
    text: Annotated[
        str | None, Query(alias="day", max_length=20, description="as `date` (YYYY-MM-DD)")
    ] = None,
) -> date | None:
    """`?day=`, read as `?date=` is."""
    try:
        return None if text is None else parse_day(text)
    except InputError as exc:
        raise invalid("query", "day", exc.message) from None


@router.get("/bills", summary="The bills of a business day (today by default)")
async def list_bills(
    caller: Caller,
    day: Day,
    gateway: GatewayDep,
    alias: Annotated[date | None, Depends(_day_alias)] = None,
) -> BillList:
    if day is not None and alias is not None and day != alias:
        raise invalid("query", "day", "give the day once: ?date= or ?day=")
    bills = gateway.bills.bills(day or alias)
    return BillList(data=[_shown(caller, b) for b in bills if b.merchant_id == caller.merchant_id])
