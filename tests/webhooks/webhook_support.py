"""A local receiver of webhooks (an httpx MockTransport) and the runtime's webhooks."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from gateway_core.runtime import Runtime
from gateway_core.webhooks.delivery import Backoff, Deliverer
from gateway_core.webhooks.endpoints import WebhookEndpoints
from gateway_core.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, verify

URL = "https://shop.example/hooks"


@dataclass
class Receiver:
    """Answers every POST with `status` (or what `answer` says for its event); keeps
    what came, each body checked with `secret` when one is set."""

    status: int = 200
    answer: Callable[[dict], int] | None = None
    secret: str | None = None
    got: list[dict] = field(default_factory=list)  # the events, in the order received
    ids: list[str] = field(default_factory=list)  # their Paygate-Event-Id headers
    answered: list[int] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        event = json.loads(body)
        if self.secret is not None:
            now = int(request.headers[SIGNATURE_HEADER].split(",")[0][2:])
            verify(body, request.headers[SIGNATURE_HEADER], self.secret, now=now)
        status = self.answer(event) if self.answer else self.status
        self.got.append(event)
        self.ids.append(request.headers[EVENT_ID_HEADER])
        self.answered.append(status)
        return httpx.Response(status)

    @property
    def delivered(self) -> list[dict]:
        return [e for e, s in zip(self.got, self.answered, strict=True) if 200 <= s < 300]


def webhooks(rt: Runtime, receiver: Receiver, seed: int = 7) -> tuple[WebhookEndpoints, Deliverer]:
    """The runtime's endpoints and a worker sending to `receiver` (backoff seeded)."""
    endpoints = WebhookEndpoints(rt.records.webhooks, rt.keyring, rt.audit, rt.clock)
    deliverer = Deliverer(
        rt.records,
        endpoints,
        rt.clock,
        transport=httpx.MockTransport(receiver),
        backoff=Backoff(rng=random.Random(seed)),
    )
    return endpoints, deliverer
