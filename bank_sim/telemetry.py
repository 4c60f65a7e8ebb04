"""The banks' app's share of monitoring: each request in a server span (a child of the
caller's W3C `traceparent`, when tracing is on) and the UPI switch's and net banking's
calls timed as hops (the card hops are timed by the acquirer itself)."""

from __future__ import annotations

import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway_core.observe import tracing
from gateway_core.observe.hooks import api_of, bank_hop

HOPS = {"upi": "upi_switch", "netbanking": "netbanking"}  # API → the hop it is


class BankTelemetry:
    """ASGI middleware of the banks' app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = api_of(scope["path"])
        started = time.perf_counter()
        name = f"banks {scope['method']} {api}"
        with tracing.incoming(name, scope["path"], Headers(scope=scope)):
            await self.app(scope, receive, send)
            if (hop := HOPS.get(api)) is not None:
                bank_hop(hop, time.perf_counter() - started)
