"""A merchant's webhook endpoints and their delivery log over the API, and the delivery
worker running with the server (`delivering`).

Every request carries a terminal's key and sees its merchant's endpoints only (another
merchant's is a 404). Adding, removing and enabling an endpoint need a merchant admin's
approval in the body, as issuing a terminal key does; a test event and a replay need
the key only. The secret comes back once, in the answer that adds the endpoint.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from gateway_core.ports import Record
from gateway_core.runtime import Runtime
from gateway_core.service.dependencies import Caller, Terminal
from gateway_core.service.models import ApprovalBody, _Body
from gateway_core.webhooks.delivery import Deliverer, UnknownDelivery, deliver_forever, failed
from gateway_core.webhooks.endpoints import MAX_URL, Endpoint, UnknownEndpoint, WebhookEndpoints

router = APIRouter()
DELIVER_EVERY_S = 1.0  # how often the server's worker looks for events and retries
Id = Annotated[str, Path(min_length=1, max_length=64)]


@dataclass(frozen=True)
class Webhooks:
    """The app's endpoints and delivery worker."""

    endpoints: WebhookEndpoints
    deliverer: Deliverer


def attach(app: FastAPI, rt: Runtime) -> None:
    """Give the app its endpoints and worker (`app.state.webhooks`)."""
    endpoints = WebhookEndpoints(rt.records.webhooks, rt.keyring, rt.audit, rt.clock)
    app.state.webhooks = Webhooks(endpoints, Deliverer(rt.records, endpoints, rt.clock))


@contextlib.asynccontextmanager
async def delivering(app: FastAPI, every_s: float | None) -> AsyncIterator[None]:
    """While the server runs, a round of deliveries every `every_s` seconds in a task of
    its own (None or 0: none; `paygate webhooks deliver` then does it)."""
    hooks: Webhooks = app.state.webhooks
    task = asyncio.create_task(deliver_forever(hooks.deliverer, every_s)) if every_s else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await hooks.deliverer.aclose()


async def _webhooks(request: Request) -> Webhooks:
    hooks: Webhooks = request.app.state.webhooks
    return hooks


Hooks = Annotated[Webhooks, Depends(_webhooks)]


class EndpointCreate(_Body):
    """A new endpoint: where to POST, which events (none given: all)."""

    url: str = Field(min_length=1, max_length=MAX_URL)
    events: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=20)
    approval: ApprovalBody


class Approved(_Body):
    """A change a merchant admin approves."""

    approval: ApprovalBody


class CreatedEndpoint(BaseModel):
    """An endpoint just added: `secret` is the only copy there will ever be."""

    endpoint: Endpoint
    secret: str


class Delivery(BaseModel):
    """A delivery as its log shows it (its body is the event sent)."""

    id: str
    endpoint_id: str
    event_id: str
    type: str
    payment_id: str | None
    state: str
    tries: int = 0
    attempts: list[dict[str, Any]]
    created_at: datetime
    next_at: datetime | None = None
    delivered_at: datetime | None = None

    @classmethod
    def of(cls, record: Record) -> "Delivery":
        return cls.model_validate(record)


def _missing(exc: UnknownEndpoint | UnknownDelivery) -> HTTPException:
    return HTTPException(status_code=404, detail=exc.message)


@router.get("/webhook_endpoints", summary="The merchant's webhook endpoints (never a secret)")
async def list_endpoints(caller: Caller, hooks: Hooks) -> list[Endpoint]:
    return hooks.endpoints.list(caller.merchant_id)


@router.post("/webhook_endpoints", summary="Add an endpoint (a merchant admin approves)")
async def add_endpoint(body: EndpointCreate, caller: Caller, hooks: Hooks) -> CreatedEndpoint:
    actor = caller.admin(body.approval, "webhooks.add", caller.merchant_id)
    endpoint, secret = hooks.endpoints.add(caller.merchant_id, body.url, body.events, actor=actor)
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


@router.get("/webhook_endpoints/{endpoint_id}", summary="One endpoint")
async def get_endpoint(endpoint_id: Id, caller: Caller, hooks: Hooks) -> Endpoint:
    try:
        return hooks.endpoints.get(endpoint_id, caller.merchant_id)
    except UnknownEndpoint as exc:
        raise _missing(exc) from None


@router.post("/webhook_endpoints/{endpoint_id}/remove", summary="Stop sending to an endpoint")
async def remove_endpoint(
    endpoint_id: Id, body: Approved, caller: Caller, hooks: Hooks
) -> Endpoint:
    return _change(hooks, caller, endpoint_id, body, "remove")


@router.post("/webhook_endpoints/{endpoint_id}/enable", summary="Send to it again")
async def enable_endpoint(
    endpoint_id: Id, body: Approved, caller: Caller, hooks: Hooks
) -> Endpoint:
    return _change(hooks, caller, endpoint_id, body, "enable")


def _change(
    hooks: Webhooks, caller: Terminal, endpoint_id: str, body: Approved, change: str
) -> Endpoint:
    """Remove or enable an endpoint of the caller's merchant, a merchant admin approving."""
    try:
        hooks.endpoints.get(endpoint_id, caller.merchant_id)
    except UnknownEndpoint as exc:
        raise _missing(exc) from None
    actor = caller.admin(body.approval, f"webhooks.{change}", endpoint_id)
    do = hooks.endpoints.remove if change == "remove" else hooks.endpoints.enable
    return do(endpoint_id, actor=actor, merchant_id=caller.merchant_id)


@router.post("/webhook_endpoints/{endpoint_id}/test", summary="Send a webhook.test event now")
async def test_endpoint(endpoint_id: Id, caller: Caller, hooks: Hooks) -> Delivery:
    try:
        return Delivery.of(await hooks.deliverer.test(endpoint_id, caller.merchant_id))
    except UnknownEndpoint as exc:
        raise _missing(exc) from None


@router.get("/webhook_deliveries", summary="The delivery log, newest last")
async def list_deliveries(
    caller: Caller,
    hooks: Hooks,
    endpoint: Annotated[str | None, Query(max_length=64)] = None,
    only_failed: Annotated[bool, Query(alias="failed")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[Delivery]:
    mine = {e.id for e in hooks.endpoints.list(caller.merchant_id)}
    if endpoint is not None and endpoint not in mine:
        raise _missing(UnknownEndpoint(f"no webhook endpoint {endpoint!r}"))
    found = [d for d in caller.rt.records.webhooks.deliveries(endpoint) if d["endpoint_id"] in mine]
    return [Delivery.of(d) for d in (failed(found) if only_failed else found)[-limit:]]


@router.post("/webhook_deliveries/{delivery_id}/replay", summary="Send a delivery again now")
async def replay(delivery_id: Id, caller: Caller, hooks: Hooks) -> Delivery:
    try:
        return Delivery.of(await hooks.deliverer.replay(delivery_id, caller.merchant_id))
    except UnknownDelivery as exc:
        raise _missing(exc) from None
