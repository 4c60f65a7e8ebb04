"""Webhooks from the real processors: `POST /processors/{name}/webhook` (no API key:
the provider's signature vouches for it). A verified event is applied once
(`processor_webhooks.take_webhook`) and answered 200, a replayed one too; a bad
signature is a 400 of one line and changes nothing.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from gateway_core.errors import SystemFailure
from gateway_core.processor_webhooks import Taken, take_webhook
from gateway_core.service.dependencies import Rt

router = APIRouter()


class WebhookTaken(BaseModel):
    """What became of the event: applied to its payment, noted, or a replay."""

    received: bool = True
    outcome: Taken


@router.post(
    "/processors/{name}/webhook",
    summary="A real processor's webhook (signed by it)",
    tags=["processors"],
)
async def processor_webhook(name: str, request: Request, rt: Rt) -> WebhookTaken:
    gateway = rt.gateway
    if rt.processors is None:  # built with the gateway
        raise SystemFailure("the processors are not open")
    body = await request.body()
    outcome = await take_webhook(
        gateway, rt.processors, rt.audit, rt.clock, rt.settings, name, request.headers, body
    )
    return WebhookTaken(outcome=outcome)
