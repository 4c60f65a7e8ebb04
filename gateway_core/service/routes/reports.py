"""The reports a terminal reads: the X report of a business day.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

from fastapi import APIRouter

from gateway_core.service.dependencies import Caller, ClockDep, Day
from gateway_core.settlement import DayReport, Settlement

router = APIRouter()


@router.get("/reports/x", summary="The X report of a business day (today by default)")
async def x_report(caller: Caller, day: Day, clock: ClockDep) -> DayReport:
    rt = caller.rt
    mine = Settlement(rt.records, rt.settings, clock=clock, merchant_id=caller.merchant_id)
    return mine.x_report(day)
