"""`paygate serve`: the gateway as its own process, under uvicorn (as `banks serve`)."""

from __future__ import annotations

import socket

import uvicorn

from gateway_core.logs import uvicorn_logging
from gateway_core.runtime import Runtime
from gateway_core.service.app import POLL_EVERY_S, create_app


def serve(
    rt: Runtime,
    *,
    host: str = "127.0.0.1",
    port: int = 8600,
    poll_every_s: float = POLL_EVERY_S,
    sock: socket.socket | None = None,
) -> None:
    """Run the API over `rt` until interrupted (resolving pending payments every
    `poll_every_s` seconds; 0: never); the runtime is closed on the way out. `sock`: a
    listening socket to accept on (a supervisor's, shared by its workers) instead of
    binding `host:port`.

    X-Forwarded-For is read only from `trusted_proxies` (uvicorn's own default would
    believe any local process, and FORWARDED_ALLOW_IPS is not consulted)."""
    proxies = rt.settings.trusted_proxies
    config = uvicorn.Config(
        create_app(rt, poll_every_s=poll_every_s),
        host=host,
        port=port,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
        **uvicorn_logging(),
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=None if sock is None else [sock])
    finally:
        rt.close()
    if not server.started:
        raise SystemExit(3)  # as `uvicorn.run`: it could not start (the port is taken)
