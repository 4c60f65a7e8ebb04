"""A bank that was never reached is not a bank that went silent.

An authorization that never left (connection refused, DNS failure, connect timeout) is
declined 91 at once, with nothing to reverse; one that may have reached the bank (read
timeout, connection dropped after sending, HTTP 5xx) is reversed and then declined 91,
or stays `unknown` while the reversal cannot be sent either. Both with the embedded
banks and with `--bank-url`.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from support import VISA, account, actions, charge, free_port, open_world
from support import World as BaseWorld

from bank_sim.app import create_app
from gateway_core.bank_client import BankClient
from gateway_core.clock import FixedClock
from gateway_core.store.repos import TinyAuditRepository

TIMEOUT_S = 1.0
ID = re.compile(r"\bpay_[0-9]{8}_[0-9a-f]+\b")
CARD = ("--card", "4242 4242 4242 4242", "--exp", "12/30", "--cvv", "123")


class BrokenLink(httpx.AsyncBaseTransport):
    """The embedded banks behind a link that fails `path` requests with `error`: before
    sending them (`sent=False`) or after the bank has handled them (`sent=True`)."""

    def __init__(self, app, path: str, error: type[httpx.TransportError], sent: bool) -> None:
        self.inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.path, self.error, self.sent = path, error, sent
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url.path)
        if self.path not in request.url.path:
            return await self.inner.handle_async_request(request)
        if self.sent:
            await (await self.inner.handle_async_request(request)).aread()
        raise self.error("broken link", request=request)


class World(BaseWorld):
    async def charge_over(self, transport: httpx.AsyncBaseTransport, amount: int = 100_00):
        embedded, self.gw.bank = (
            self.gw.bank,
            BankClient(
                httpx.AsyncClient(transport=transport, base_url="http://banks"), timeout_s=TIMEOUT_S
            ),
        )
        try:
            return await self.gw.charge(charge(VISA, amount))
        finally:
            await self.gw.bank.close()
            self.gw.bank = embedded


@pytest.fixture
async def world(tmp_path: Path, clock: FixedClock) -> AsyncIterator[World]:
    async with open_world(tmp_path / "data", clock, TIMEOUT_S, World) as opened:
        yield opened


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_refused_connection_declines_91_without_reversal(world: World, error) -> None:
    before = await account(world.gw, VISA)
    link = BrokenLink(create_app(world.rt.banks), "/authorizations", error, sent=False)
    payment = await world.charge_over(link)
    assert (payment.status, payment.response_code, payment.reversal) == ("declined", "91", None)
    assert link.seen == ["/acquirer/v1/authorizations"]  # no reversal: nothing was sent
    assert world.gw.get(payment.id).status == "declined"
    assert actions(world.rt, payment.id) == ["payment.created", "payment.declined"]
    assert await world.gw.repair() == []  # nothing left open
    assert await account(world.gw, VISA) == before
    assert (await world.gw.bank.ledger_check()).ok


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
async def test_a_request_that_may_have_arrived_is_reversed_then_declined_91(
    world: World, error
) -> None:
    before = await account(world.gw, VISA)
    link = BrokenLink(create_app(world.rt.banks), "/authorizations", error, sent=True)
    payment = await world.charge_over(link, 700_00)
    assert (payment.status, payment.response_code) == ("declined", "91")
    assert payment.reversal.endswith("(released 70000)")  # the bank had held it
    assert link.seen == ["/acquirer/v1/authorizations", "/acquirer/v1/reversals"]
    assert await account(world.gw, VISA) == before
    assert (await world.gw.bank.ledger_check()).ok


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "bank.invalid:8700"])
async def test_a_closed_port_or_unknown_host_declines_91_without_reversal(
    world: World, host: str
) -> None:
    url = "http://" + host.format(port=free_port())
    nowhere = BankClient.remote(url, timeout_s=TIMEOUT_S)
    embedded, world.gw.bank = world.gw.bank, nowhere
    try:
        payment = await world.gw.charge(charge(VISA))
    finally:
        await nowhere.close()
        world.gw.bank = embedded
    assert (payment.status, payment.response_code, payment.reversal) == ("declined", "91", None)
    (declined,) = [
        e
        for _day, e in TinyAuditRepository(world.rt.store).events()
        if e["subject"] == payment.id and e["action"] == "payment.declined"
    ]
    assert declined["details"]["reason"].startswith("the bank cannot be reached (Connect")
    assert await world.gw.repair() == []


# ---------------------------------------------------------------------------- the CLI
@pytest.fixture
def dropping_bank() -> Iterator[str]:
    """A bank URL whose server reads each request and hangs up without answering."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def run() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        server.close()


def test_cli_charge_with_the_bank_refusing_is_a_decline_exit_0(cli, tmp_path: Path) -> None:
    data, nowhere = tmp_path / "data", f"http://127.0.0.1:{free_port()}"
    done = cli("charge", "--amount", "12.50", *CARD, "--data-dir", data, "--bank-url", nowhere,
               "--json")  # fmt: skip
    assert done.code == 0, done.err
    payment = json.loads(done.out)
    assert (payment["status"], payment["response_code"], payment["reversal"]) == (
        "declined",
        "91",
        None,
    )
    status = cli("status", payment["id"], "--data-dir", data, "--json")
    assert (status.code, status.err) == (0, "")
    assert json.loads(status.out)["status"] == "declined"
    check = cli("ledger", "check", "--data-dir", data)
    assert check.code == 0 and check.out.startswith("books balance"), check.err


def test_cli_a_bank_that_hangs_up_leaves_unknown_until_repair(
    cli, tmp_path: Path, dropping_bank: str
) -> None:
    data = tmp_path / "data"
    lost = cli("charge", "--amount", "12.50", *CARD, "--data-dir", data,
               "--bank-url", dropping_bank)  # fmt: skip
    assert lost.code == 1
    assert lost.out.startswith("UNKNOWN  ₹12.50  Visa 4242 42•• •••• 4242\n")
    assert "`paygate repair` will settle it" in lost.err
    payment_id = ID.search(lost.err)[0]
    still = cli("repair", "--data-dir", data, "--bank-url", dropping_bank)
    assert still.code == 1 and "still unknown" in still.err
    # a lookup repairs nothing; a command that opens the gateway repairs first
    assert cli("status", payment_id, "--data-dir", data).out.startswith("UNKNOWN  ")
    listed = cli("list", "--data-dir", data)  # here with the embedded banks
    assert listed.err == f"paygate: repaired: {payment_id}: reversed, declined 91\n"
    status = cli("status", payment_id, "--data-dir", data)
    assert status.code == 0
    assert status.out.startswith("DECLINED 91  ")
    check = cli("ledger", "check", "--data-dir", data)
    assert check.code == 0, check.err
