"""The fakes served from this process on a loopback port, so that each provider's SDK
(which speaks HTTP through its own client) reaches them as it would the real service."""

from __future__ import annotations

import threading
import time

import uvicorn

from gateway_core.errors import SystemFailure
from gateway_core.ports import ASGIApp


class LoopbackServer:
    """`app` on 127.0.0.1 at a free port, in a daemon thread; `url` once started."""

    def __init__(self, app: ASGIApp) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="fake-processors", daemon=True
        )
        self.url = ""

    def start(self, wait_s: float = 10.0) -> str:
        """Start serving; the base URL (http://127.0.0.1:PORT)."""
        self._thread.start()
        deadline = time.monotonic() + wait_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise SystemFailure("the local processor fakes did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
