"""Each HTTP request logs in a context of its own (`gateway_core.logs`): its trace id,
from a W3C `traceparent` header or made for it, and once its API key is checked, the
key's merchant and terminal (`dependencies`)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway_core.logs import log_context, trace_id_of


class RequestLog:
    """ASGI middleware: the request, and uvicorn's access line for it, in one context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with log_context(trace_id=trace_id_of(Headers(scope=scope).get("traceparent"))):
            await self.app(scope, receive, send)
