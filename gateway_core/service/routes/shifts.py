"""Cashiers' shifts and their drawers: /v1/shifts (open, the current one, a day's list),
/v1/shifts/{id} (its report), /close (the counted drawer), /cash (paid in / out). A
terminal's key works on its own merchant's shifts; it opens shifts on its own terminal.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field

from gateway_core.errors import InputError
from gateway_core.ports import Approval
from gateway_core.service.dependencies import Caller, Day, GatewayDep
from gateway_core.service.models import ApprovalBody, Minor, Operated, UserId
from gateway_core.shift_models import DrawerMove, Shift, ShiftReport
from gateway_core.shifts import Shifts

router = APIRouter()
ShiftId = Annotated[str, Path(min_length=1, max_length=64)]
Pieces = Annotated[int, Field(strict=True, ge=0)]
CountBody = Annotated[
    dict[int, Pieces],
    Field(max_length=32, description="pieces per denomination (minor units): {50000: 2}"),
]


class ShiftOpen(Operated):
    """Open a shift on the calling terminal with its counted float."""

    count: CountBody
    cashier: UserId
    terminal_id: str | None = Field(None, max_length=8, description="the key's terminal only")


class ShiftClose(Operated):
    """Close a shift with the counted drawer (a manager approves a big short)."""

    count: CountBody
    approval: ApprovalBody | None = None


class CashMove(Operated):
    """Put cash in or take it out of the drawer, with a reason (a manager approves)."""

    kind: Literal["paid_in", "paid_out"]
    amount: Minor
    reason: str = Field(min_length=1, max_length=80)
    approval: ApprovalBody | None = None


def _shifts(caller: Caller, gateway: GatewayDep) -> Shifts:
    return gateway.shifts.of(caller.merchant_id)


def _approval(body: ApprovalBody | None) -> Approval | None:
    return None if body is None else Approval(body.approver_id, body.pin.get_secret_value())


@router.post("/shifts", summary="Open a shift on this terminal with its counted float")
async def open_shift(body: ShiftOpen, caller: Caller, gateway: GatewayDep) -> Shift:
    terminal_id = caller.key.terminal_id
    if body.terminal_id not in (None, terminal_id):
        raise InputError(f"this key opens shifts on {terminal_id} only")
    return await _shifts(caller, gateway).open_shift(
        count=body.count, cashier=body.cashier, terminal_id=terminal_id
    )


@router.get("/shifts", summary="The shifts of a business day (today by default) and open ones")
async def list_shifts(caller: Caller, day: Day, gateway: GatewayDep) -> list[Shift]:
    return _shifts(caller, gateway).shifts(day)


@router.get("/shifts/current", summary="The open shift on a terminal (null when none)")
async def current_shift(
    caller: Caller,
    gateway: GatewayDep,
    terminal_id: Annotated[str | None, Query(min_length=1, max_length=8)] = None,
) -> Shift | None:
    return _shifts(caller, gateway).current_shift(terminal_id or caller.key.terminal_id)


@router.get("/shifts/{shift_id}", summary="A shift's report: its drawer's moves and totals")
async def shift_report(shift_id: ShiftId, caller: Caller, gateway: GatewayDep) -> ShiftReport:
    return _shifts(caller, gateway).shift_report(shift_id)


@router.post("/shifts/{shift_id}/close", summary="Close a shift with the counted drawer")
async def close_shift(
    shift_id: ShiftId, body: ShiftClose, caller: Caller, gateway: GatewayDep
) -> ShiftReport:
    return await _shifts(caller, gateway).close_shift(
        shift_id,
        count=body.count,
        operator=caller.operator(body),
        approval=_approval(body.approval),
    )


@router.post("/shifts/{shift_id}/cash", summary="Paid in / paid out (a manager approves)")
async def move_cash(
    shift_id: ShiftId, body: CashMove, caller: Caller, gateway: GatewayDep
) -> DrawerMove:
    return await _shifts(caller, gateway).move_cash(
        shift_id,
        kind=body.kind,
        amount=body.amount,
        reason=body.reason,
        operator=caller.operator(body),
        approval=_approval(body.approval),
    )
