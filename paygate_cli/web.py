"""`paygate web`: the cashier's terminal in a browser, through textual-serve.

Each browser session runs the terminal (`paygate [--demo]` on the same data dir, banks
and gateway) as its own process under Textual's web driver; textual-serve carries its
screen and keys over a websocket. The server listens on localhost unless `--host` says
otherwise. With `--demo` the demo's data dir is prepared (and seeded on first use)
before the first browser comes. One session at a time works on a data dir (the
terminal holds its writer lock); sessions on a served gateway (`--gateway-url`) are many.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import re
import shlex
import socket
import sys
from typing import Any

from gateway_core.errors import InputError
from gateway_core.settings import Settings
from paygate_cli.common import works_remotely

DEFAULT_PORT = 8000
log = logging.getLogger("paygate.web")
# textual-serve's page takes its font from Google; the same font ships in its static files.
REMOTE_FONT = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>")
LOCAL_FONT = (
    '<style>@font-face { font-family: "Roboto Mono"; '
    'src: url("URL/fonts/RobotoMono-VariableFont_wght.ttf"); }</style>'
)


def add_web_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register `web` on the command tree."""
    web = sub.add_parser(
        "web",
        parents=[common],
        help="the terminal in a browser (textual-serve), on localhost by default",
        description="Serve the cashier's terminal to a browser: open the address it prints. "
        "Each browser session runs its own terminal on this data dir (one at a time) or on "
        "a served gateway (--gateway-url).",
    )
    web.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,  # `paygate --demo web` says the same
        help="the demo terminal on the demo data dir (as `paygate --demo`)",
    )
    web.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (this machine)")
    web.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}")
    web.set_defaults(handler=cmd_web)


def session_command(args: argparse.Namespace, settings: Settings) -> str:
    """The shell command a browser session runs: the terminal on the same data dir,
    config, banks and gateway (the API key goes by the environment, off the command line)."""
    argv = [sys.executable, "-m", "paygate_cli.main", "--data-dir", str(settings.data_dir)]
    if args.config is not None:
        argv += ["--config", str(args.config)]
    if settings.bank_url:
        argv += ["--bank-url", settings.bank_url]
    if settings.gateway_url:
        argv += ["--gateway-url", settings.gateway_url]
    if args.demo:
        argv.append("--demo")
    return shlex.join(argv)


def _address(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _refused(host: str, port: int, exc: OSError) -> InputError:
    """One line for a port that cannot be listened on."""
    if exc.errno == errno.EADDRINUSE:
        return InputError(f"port {port} on {host} is taken: stop what uses it or use --port")
    return InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc})")


def _check_free(host: str, port: int) -> None:
    """Refuse a port something listens on before any work (as the server would bind)."""
    try:
        socket.create_server((host, port)).close()
    except OSError as exc:
        raise _refused(host, port, exc) from None


@works_remotely  # the terminal itself may work through `paygate serve`
def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the terminal to browsers until Ctrl-C or SIGTERM."""
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port must be 1 to 65535, not {args.port}")
    _check_free(args.host, args.port)
    from aiohttp.web import WebSocketResponse  # aiohttp and Textual: when `paygate web` runs
    from textual_serve.server import Server

    from paygate_cli.terminal import prepare_demo, reset_demo_dir

    class Served(Server):
        """textual-serve with paygate's logging and its one line at start."""

        open_sessions = 0

        def initialize_logging(self) -> None:
            pass  # configured by `paygate` (gateway_core.logs)

        async def on_startup(self, app: Any) -> None:
            pass  # the address was printed by `cmd_web`

        async def handle_websocket(self, request: Any) -> Any:
            """A session: its own terminal, unless one holds the data dir already (the
            browser then says the session ended; a served gateway takes many)."""
            if self.open_sessions and settings.gateway_url is None:
                log.warning("a second browser session refused: one terminal per data dir")
                refused = WebSocketResponse()
                await refused.prepare(request)
                await refused.close()
                return refused
            self.open_sessions += 1
            try:
                return await super().handle_websocket(request)
            finally:
                self.open_sessions -= 1

        async def handle_index(self, request: Any) -> Any:
            """The page, its font served from here: nothing is fetched from elsewhere."""
            page = await super().handle_index(request)
            local = LOCAL_FONT.replace("URL", f"{self.public_url}/static")
            page.text = REMOTE_FONT.sub(local, page.text)
            return page

    if args.demo and args.reset:
        reset_demo_dir(settings.data_dir)
    if args.demo:
        prepare_demo(settings)  # seeded now, not while the first browser waits
    if settings.api_key is not None:  # sessions read it from the environment
        os.environ["PAYGATE_API_KEY"] = settings.api_key.get_secret_value()
    url = _address(args.host, args.port)
    server = Served(
        session_command(args, settings),
        host=args.host,
        port=args.port,
        title="paygate",
        public_url=url,
    )
    what = "the demo terminal" if args.demo else "the terminal"
    where = (
        f"gateway {settings.gateway_url}"
        if settings.gateway_url
        else f"data in {settings.data_dir}"
    )
    print(f"{what} in a browser on {url}  ({where}); Ctrl-C stops", flush=True)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # textual-serve runs on the current loop
    try:
        server.serve()
    except OSError as exc:  # taken between the check and the start
        raise _refused(args.host, args.port, exc) from None
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    print("web stopped", flush=True)
    return 0
