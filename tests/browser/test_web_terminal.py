"""The terminal in a real browser: `paygate web --demo` on a free port, Chromium (Debian's,
driven by playwright; see conftest) opens it, the cashier signs in as asha / 1111 and
takes a ₹250.00 sale on the demo Visa 4242 4242 4242 4242 by keyboard; the result screen
says APPROVED, a screenshot of it is kept in the test's tmp dir, and the payment is in
the data dir, succeeded, by asha on TERM0001. A second tab meanwhile is told the session
ended (one terminal per data dir).

The screen is drawn on a canvas, so the page's websocket is tapped (an init script) and
the test waits for text in what the terminal sent since its last key press. The page
fetches nothing from elsewhere (textual-serve's web font is served by `paygate web`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import free_port

SHOT = "web-approved.png"
LOCAL_ONLY = re.compile(r"^(?!https?://127\.0\.0\.1[:/]|wss?://127\.0\.0\.1[:/])")
TAP = """
window.__screen = "";
const Native = window.WebSocket;
const decoder = new TextDecoder();
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__screen += decoder.decode(event.data, {stream: true});
      }
    });
  }
};
"""
# Escape sequences (CSI, OSC, charset) out of the terminal's output: its text is left.
SHOWS = r"""([since, text]) => window.__screen.slice(since)
    .replace(/\x1b(\[[0-9;?$]*[ -\/]*[@-~]|\][^\x07]*\x07|[()][A-Z0-9])/g, "")
    .includes(text)"""

PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@dataclass
class Web:
    proc: subprocess.Popen
    url: str
    line: str  # what it printed first
    data_dir: Path
    config: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    """`paygate web --demo` on a fresh demo data dir (IST days), up and saying where."""
    config = tmp_path / "config.toml"
    config.write_text('timezone = "Asia/Kolkata"\n', encoding="utf-8")
    data = tmp_path / "demo"
    port = free_port()
    argv = [sys.executable, "-m", "paygate_cli.main", "web", "--demo", "--port", str(port)]
    env = {**os.environ, "PAYGATE_CONFIG": str(config)}
    with (tmp_path / "web.err").open("wb") as err:
        proc = subprocess.Popen(
            [*argv, "--data-dir", str(data)], stdout=subprocess.PIPE, stderr=err, env=env
        )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()  # printed once the demo is seeded, before serving
    served = Web(proc, f"http://127.0.0.1:{port}", line, data, config)
    try:
        yield served
    finally:
        served.stop()


def test_a_cashier_signs_in_and_takes_an_approved_sale_in_chromium(
    chromium: str, web: Web, tmp_path: Path, cli: Callable
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert web.line == (
        f"the demo terminal in a browser on {web.url}  (data in {web.data_dir}); Ctrl-C stops\n"
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            elsewhere: list[str] = []
            page.on("request", lambda r: LOCAL_ONLY.match(r.url) and elsewhere.append(r.url))
            page.route(LOCAL_ONLY, lambda route: route.abort())
            page.add_init_script(TAP)
            page.goto(web.url)

            def keys(*typed: str, until: str) -> str:
                """Type each of `typed` (Enter after each); wait until the screen shows
                `until`; what the terminal sent meanwhile."""
                since = page.evaluate("window.__screen.length")
                for text in typed:
                    page.keyboard.type(text)
                    page.keyboard.press("Enter")
                page.wait_for_function(SHOWS, arg=[since, until], timeout=90_000)
                return page.evaluate("since => window.__screen.slice(since)", since)

            page.wait_for_function(SHOWS, arg=[0, "Cashier ID"], timeout=90_000)
            page.locator(".xterm-helper-textarea").focus()  # keys go to the terminal
            keys("asha", "1111", until="Sale")
            keys("250", until="Card number")
            sent = keys("4242424242424242", "1230", "123", until="APPROVED")
            page.evaluate(PAINTED)  # the terminal has drawn what it was sent
            page.screenshot(path=tmp_path / SHOT)

            second = browser.new_page()  # the data dir is the first terminal's
            second.goto(web.url)
            ended = second.locator(".closed-dialog")  # shown once the server closed it
            expect(ended).to_be_visible()
            expect(ended).to_contain_text("Session ended.")
        finally:
            browser.close()

    assert elsewhere == []  # the page, its script and its font all come from `paygate web`
    assert (tmp_path / SHOT).stat().st_size > 10_000
    (payment_id,) = set(re.findall(r"pay_\d{8}_[0-9a-f]{10}", sent))
    assert web.stop() == 0
    shown = cli("status", payment_id, "--json", "--data-dir", web.data_dir, "--config", web.config)
    assert shown.code == 0, shown.err
    payment = json.loads(shown.out)
    assert (payment["status"], payment["amount"], payment["operator"]) == (
        "succeeded",
        250_00,
        "asha",
    )
    assert (payment["terminal_id"], payment["card"]["last4"]) == ("TERM0001", "4242")


def test_a_taken_port_is_one_line_and_exit_2(cli: Callable, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        refused = cli("web", "--demo", "--port", str(port), "--data-dir", tmp_path / "demo")
    assert refused.code == 2
    assert refused.err == (
        f"paygate: port {port} on 127.0.0.1 is taken: stop what uses it or use --port\n"
    )
    assert not (tmp_path / "demo").exists()  # refused before any demo data was made


def test_a_session_runs_the_terminal_on_the_same_data_banks_and_gateway(tmp_path: Path) -> None:
    from gateway_core.settings import load_settings
    from paygate_cli.main import build_parser
    from paygate_cli.web import session_command

    argv = ["--config", str(tmp_path / "c.toml"), "web", "--demo", "--bank-url", "http://b:1"]
    args = build_parser().parse_args(argv)
    (tmp_path / "c.toml").write_text("", encoding="utf-8")
    settings = load_settings(
        args.config, data_dir=tmp_path / "d", bank_url=args.bank_url, api_key="pk_secret"
    )
    command = shlex.split(session_command(args, settings))
    assert command == [
        sys.executable,
        "-m",
        "paygate_cli.main",
        "--data-dir",
        str(tmp_path / "d"),
        "--config",
        str(tmp_path / "c.toml"),
        "--bank-url",
        "http://b:1",
        "--demo",
    ]  # the key stays off the command line (ps shows it): the environment carries it
