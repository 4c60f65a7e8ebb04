"""Probes for load balancers and orchestrators, unauthenticated: `GET /healthz` (the
process answers: 200) and `GET /readyz` (it can take payments: the store is writable,
the banks answer, the keys are at hand; 200 with each check, else 503 naming the
failing ones). A check's answer is "ok" or one line saying what is wrong, never a
secret or a stack trace. `GET /metrics` (no key either) is the Prometheus exposition
(`gateway_core.observe.metrics`).

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

import os
import secrets
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.routing import Route

from gateway_core.errors import PaygateError
from gateway_core.observe.metrics import metrics_endpoint
from gateway_core.runtime import Runtime
from gateway_core.service.dependencies import Rt

router = APIRouter(tags=["health"])
router.routes.append(Route("/metrics", metrics_endpoint, include_in_schema=False))  # no key
BANKS_WITHIN_S = 2.0  # a readiness probe waits at most this long for the banks
OK = "ok"


class Alive(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether the gateway can take payments: each check's answer ("ok" or what is
    wrong), and the names of those that failed."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]
    failing: list[str]


def store_check(rt: Runtime) -> str:
    """The records take writes: opened as the writer, a unit of work opens and closes
    (a database answers: one empty transaction), and the embedded store's data dir
    takes a file (made and removed)."""
    if rt.records.read_only:
        return "opened read-only"
    try:
        with rt.records.unit():
            pass
    except PaygateError as exc:
        return f"not writable: {exc}"
    except Exception as exc:  # a driver's error the store left unnamed: a probe answers 503
        return f"not writable ({type(exc).__name__})"
    if rt.store is None:  # the records are in a database
        return OK
    probe = rt.settings.data_dir / f".ready-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        return f"not writable ({exc.strerror or type(exc).__name__})"
    return OK


async def banks_check(rt: Runtime) -> str:
    """The acquirer answers its health probe in time."""
    try:
        await rt.gateway.bank.ping(min(BANKS_WITHIN_S, rt.settings.bank_timeout_s))
    except PaygateError as exc:
        return f"unreachable: {exc}"
    return OK


def keys_check(rt: Runtime) -> str:
    """The key provider has a current key and its file is still readable."""
    try:
        rt.keyring.current  # noqa: B018  (the lookup is the check)
    except (PaygateError, ValueError) as exc:
        return f"no current key: {exc}"
    if not os.access(rt.keyring.path, os.R_OK):
        return f"key file {rt.keyring.path} cannot be read"
    return OK


@router.get("/healthz", summary="The process answers (no key needed)")
async def healthz() -> Alive:  # no docstring: it would become the OpenAPI description
    return Alive()


@router.get(
    "/readyz",
    summary="Ready to take payments: store writable, banks reachable, keys ready (no key "
    "needed); 503 names the failing checks",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A check failed"}},
)
async def readyz(rt: Rt) -> JSONResponse:
    checks = {"store": store_check(rt), "banks": await banks_check(rt), "keys": keys_check(rt)}
    failing = [name for name, answer in checks.items() if answer != OK]
    ready = Readiness(status="not ready" if failing else "ready", checks=checks, failing=failing)
    return JSONResponse(ready.model_dump(), status_code=503 if failing else 200)
