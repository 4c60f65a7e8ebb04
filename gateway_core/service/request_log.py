"""Each HTTP request logs in a context of its own (`gateway_core.logs`): its trace id,
from a W3C `traceparent` header or made for it (with tracing on: its server span's, a
child of that header's trace), and once its API key is checked, the key's merchant and
terminal (`dependencies`)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway_core.logs import log_context, trace_id_of
from gateway_core.observe import tracing


class RequestLog:
    """ASGI middleware: the request, and uvicorn's access line for it, in one context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = "/".join(scope["path"].split("/")[:3])  # no id in a span's name
        with tracing.incoming(f"{scope['method']} {path}", scope["path"], headers):
            trace = tracing.trace_id() or trace_id_of(headers.get("traceparent"))
            with log_context(trace_id=trace):
                await self.app(scope, receive, send)
