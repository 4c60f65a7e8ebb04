"""Webhooks from the real processors (`POST /processors/{name}/webhook`): verified by
the processor's connector, then applied to the payment the provider's id belongs to,
each event once.

A verified event is put in the processors' inbox for its payment and the payment is
refreshed: its tender applies it, files the event as taken and audits it
(`processor.webhook`) in the payment's unit. An event about no payment here, or about
one that no longer changes (a refund's confirmation on a captured sale), is filed as
taken and audited as it is. A replayed event (the same provider and event id) changes
nothing; a bad signature raises `SignatureRefused` (nothing changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from gateway_core.audit import AuditLog
from gateway_core.clock import Clock
from gateway_core.errors import InputError
from gateway_core.gateway import DayClosed, Gateway
from gateway_core.settings import Settings
from gateway_core.tenders.processors import Processors

Taken = Literal["applied", "noted", "replayed"]


async def take_webhook(
    gateway: Gateway,
    processors: Processors,
    audit: AuditLog,
    clock: Clock,
    settings: Settings,
    name: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Taken:
    """Verify and apply one webhook of processor `name`: "applied" (its payment's
    tender took it), "noted" (filed and audited, nothing to change) or "replayed"."""
    if name not in settings.processors:
        raise InputError(f"no processor {name!r} is set up here")
    event = await processors.get(name).parse_webhook(headers, body)
    if processors.taken(event):
        return "replayed"
    payment_id = processors.payment_of(event.provider, event.reference)
    outcome = "no such payment here" if payment_id is None else "no change"
    if payment_id is not None:
        processors.inbox[payment_id] = event
        try:
            await gateway.refresh(payment_id)
        except DayClosed:  # its day is closed: nothing of it may change any more
            outcome = "no change: its business day is closed"
        finally:
            left = processors.inbox.pop(payment_id, None)
        if left is None:
            return "applied"
        if processors.taken(event):  # taken meanwhile by another delivery of it
            return "replayed"
    subject = payment_id or f"{event.provider}:{event.reference}"
    audit.record(
        "processor",
        "processor.webhook",
        subject,
        processor=event.provider,
        event=event.type,
        event_id=event.event_id,
        outcome=outcome,
    )
    processors.take(event, subject, clock.now())
    return "noted"
