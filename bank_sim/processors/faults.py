"""Failures a fake processor can be told to make, for tests and demos:

- `down`: answers 503 with the provider's "unavailable" error; nothing is processed.
- `error`: processes the request, then answers 500 with the provider's server error
  (the answer is lost: the caller cannot know what happened).
- `slow`: waits `delay_s`, then processes and answers normally.
- `timeout_after_accept`: processes the request, then waits `delay_s` (longer than
  the caller's deadline) before answering.

Set by `POST /{provider}/_faults` `{"mode": ..., "count": n, "delay_s": s}` (count
omitted: until cleared) and cleared by `DELETE /{provider}/_faults`, or in process
through `Faults`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

FaultMode = Literal["down", "error", "slow", "timeout_after_accept"]


class Fault(BaseModel):
    """One failure to make, `count` times (None: until cleared)."""

    mode: FaultMode
    count: int | None = Field(default=None, ge=1)
    delay_s: float = Field(default=30.0, ge=0, le=600)


@dataclass
class ErrorBodies:
    """A provider's error answers: `down` for 503, `error` for 500 (status, body)."""

    down: Callable[[], tuple[int, dict[str, object]]]
    error: Callable[[], tuple[int, dict[str, object]]]


class Faults:
    """The failure a provider's fake is set to make next, if any."""

    def __init__(self) -> None:
        self._fault: Fault | None = None

    def set(self, fault: Fault) -> None:
        self._fault = fault

    def clear(self) -> None:
        self._fault = None

    def take(self) -> Fault | None:
        """The fault for this request (one use of its count)."""
        fault = self._fault
        if fault is None:
            return None
        if fault.count is not None:
            left = fault.count - 1
            self._fault = fault.model_copy(update={"count": left}) if left else None
        return fault

    async def around(
        self,
        bodies: ErrorBodies,
        request: Request,
        handle: Callable[[Request], Awaitable[Response]],
    ) -> Response:
        """`handle(request)` with the next fault applied."""
        fault = self.take()
        if fault is None:
            return await handle(request)
        if fault.mode == "down":
            status, body = bodies.down()
            return JSONResponse(body, status_code=status)
        if fault.mode == "slow":
            await asyncio.sleep(fault.delay_s)
            return await handle(request)
        response = await handle(request)
        if fault.mode == "error":
            status, body = bodies.error()
            return JSONResponse(body, status_code=status)
        await asyncio.sleep(fault.delay_s)
        return response


def faults_router(prefix: str, faults: Faults) -> APIRouter:
    """`POST|DELETE {prefix}/_faults`: set or clear a fake's failure."""
    router = APIRouter(prefix=prefix, include_in_schema=False)

    @router.post("/_faults")
    async def set_fault(fault: Fault) -> dict[str, str]:
        faults.set(fault)
        return {"mode": fault.mode}

    @router.delete("/_faults")
    async def clear_fault() -> dict[str, str]:
        faults.clear()
        return {"mode": "none"}

    return router
