"""The checkout pages served by the terminal itself: a terminal on a data dir (no
`paygate serve` behind it) answers its payment links' pages, the net banking return and
the simulated banks' pages on the sandbox's address, in its own event loop, from the
first payment link on, until it quits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gateway_core.runtime import Runtime
from gateway_core.tenders.link import public_url

if TYPE_CHECKING:  # uvicorn and FastAPI: imported with the first payment link
    import uvicorn

log = logging.getLogger(__name__)


class CheckoutServer:
    """The data dir's API and pages (`create_app`) on `checkout.public_url`'s port of this
    machine (the sandbox's 8765 by default), over the terminal's own runtime."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._task: asyncio.Task[None] | None = None
        self._server: uvicorn.Server | None = None
        self._url: str | None = None

    async def start(self) -> str | None:
        """Serve the pages (once): their base URL, or None when this machine cannot take
        the address (its port is in use: a `paygate sandbox` or another terminal)."""
        if self._task is not None:
            return self._url
        url = public_url(self._rt.settings)
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            return None  # another server's address: it serves the pages
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", parts.port))
        except OSError:
            sock.close()
            return None
        import uvicorn

        from gateway_core.service.app import create_app

        app = create_app(self._rt, repair_on_start=False, poll_every_s=None)
        config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        self._url = url
        log.info("checkout pages on %s", url)
        return url

    async def stop(self) -> None:
        """Stop serving (the terminal quits)."""
        if self._task is None or self._server is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, timeout=5)
