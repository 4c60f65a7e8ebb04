"""The route of the payment on screen, hop by hop: `RouteTap` and its events.

The gateway answers with a Payment; the hop-by-hop route is only visible on the link
to the banks. `RouteTap` wraps the gateway's bank client (same methods, passed
through) and reports each authorization, capture and reversal as it starts and ends,
to whoever set `ROUTE_REPORT` in the calling task: the worker of the payment on
screen. Other callers (the repair at start, the demo history) report to nobody. The
composition root (the CLI's terminal module) puts the tap on the gateway it hands the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from gateway_core.acquirer_api import AuthorizationRequest, AuthorizationResponse, HopTime
from gateway_core.errors import BankUnavailable

EventKind = Literal[
    "sent",
    "answered",
    "no_answer",
    "capture_sent",
    "captured",
    "capture_failed",
    "reversal_sent",
    "reversed",
    "reversal_failed",
]


@dataclass(frozen=True)
class RouteEvent:
    """One step of a payment on its way through the banks."""

    kind: EventKind
    payment_id: str
    hops: tuple[HopTime, ...] = ()
    code: str | None = None
    elapsed_ms: float = 0.0
    note: str = ""
    amount: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


ROUTE_REPORT: ContextVar[Callable[[RouteEvent], None] | None] = ContextVar(
    "paygate_route_report", default=None
)


class RouteTap:
    """The gateway's bank client with a window onto the route (everything else as is)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @staticmethod
    def _report(event: RouteEvent) -> None:
        report = ROUTE_REPORT.get()
        if report is not None:
            report(event)

    async def authorize(self, req: AuthorizationRequest) -> AuthorizationResponse:
        started = time.perf_counter()
        self._report(RouteEvent("sent", req.payment_id))
        try:
            answer = await self._inner.authorize(req)
        except BankUnavailable as exc:
            elapsed = (time.perf_counter() - started) * 1000
            self._report(RouteEvent("no_answer", req.payment_id, elapsed_ms=elapsed, note=str(exc)))
            raise
        elapsed = (time.perf_counter() - started) * 1000
        self._report(
            RouteEvent(
                "answered",
                req.payment_id,
                hops=tuple(answer.hops),
                code=answer.response_code,
                elapsed_ms=elapsed,
            )
        )
        return answer

    async def capture(self, payment_id: str, amount: int, day: date | None = None):
        self._report(RouteEvent("capture_sent", payment_id, amount=amount))
        try:
            result = await self._inner.capture(payment_id, amount, day)
        except BankUnavailable as exc:
            self._report(RouteEvent("capture_failed", payment_id, note=str(exc)))
            raise
        self._report(RouteEvent("captured", payment_id, code=result.response_code, amount=amount))
        return result

    async def reverse(self, payment_id: str, reason: str):
        self._report(RouteEvent("reversal_sent", payment_id, note=reason))
        try:
            result = await self._inner.reverse(payment_id, reason)
        except BankUnavailable as exc:
            self._report(RouteEvent("reversal_failed", payment_id, note=str(exc)))
            raise
        self._report(
            RouteEvent("reversed", payment_id, code=result.response_code, amount=result.released)
        )
        return result
