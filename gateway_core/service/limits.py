"""The size and depth limits on a request body, checked before FastAPI parses it."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_core.service.errors import ErrorDetail
from gateway_core.service.models import MAX_JSON_DEPTH
from gateway_core.service.responses import error_response

MAX_BODY_BYTES = 16 * 1024  # the largest request is a payment of a few hundred bytes


class BodyLimit:
    """Refuse request bodies over `max_bytes` (413) or nested deeper than
    `MAX_JSON_DEPTH` (400 `json_too_deep`), in the API's error shape.

    (FastAPI's own `max_body_size` answers a too-long Content-Length in plain text.)
    A declared length is refused before the body is read; an undeclared (chunked) one
    is counted as it arrives. The body (small by then) is read whole, its nesting
    checked, and handed on to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            return await error_response(*_too_large(self.max_bytes))(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return await error_response(*_too_large(self.max_bytes))(scope, receive, send)
            more = message.get("more_body", False)
        if json_depth(body) > MAX_JSON_DEPTH:
            return await error_response(*_too_deep())(scope, receive, send)
        whole: Message | None = {"type": "http.request", "body": body, "more_body": False}

        async def replay() -> Message:
            nonlocal whole
            if whole is None:
                return await receive()
            message, whole = whole, None
            return message

        await self.app(scope, replay, send)


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped), counted
    in one pass before parsing: Python's parser gives up on a deep one with a
    RecursionError, which FastAPI reports as a bare "error parsing the body"."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def _too_deep() -> tuple[int, ErrorDetail]:
    message = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
    return 400, ErrorDetail(type="invalid_request_error", code="json_too_deep", message=message)


def _too_large(max_bytes: int) -> tuple[int, ErrorDetail]:
    message = f"the request body is over {max_bytes} bytes"
    return 413, ErrorDetail(type="invalid_request_error", code="body_too_large", message=message)
