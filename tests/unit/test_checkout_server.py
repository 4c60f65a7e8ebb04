"""A terminal on a data dir serves its payment links' pages itself (`CheckoutServer`):
on the checkout address of this machine, once, over the terminal's own runtime; an
address already taken (a sandbox, another terminal) or another machine's is left alone."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway_core.payments import ChargeRequest
from gateway_core.runtime import Runtime
from gateway_core.settings import load_settings
from paygate_cli.checkout_server import CheckoutServer
from paygate_cli.common import open_runtime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def runtime_on(tmp_path: Path, url: str) -> Runtime:
    settings = load_settings(
        data_dir=tmp_path / "data", timezone="Asia/Kolkata", checkout={"public_url": url}
    )
    return open_runtime(settings)  # the terminal's own: banks with pages under /sim


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Runtime, str]]:
    url = f"http://127.0.0.1:{free_port()}"
    rt = runtime_on(tmp_path, url)
    try:
        yield rt, url
    finally:
        rt.close()


async def test_the_first_link_serves_its_page_from_the_terminal(
    served: tuple[Runtime, str],
) -> None:
    rt, url = served
    server = CheckoutServer(rt)
    assert await server.start() == url
    assert await server.start() == url  # once
    link = await rt.gateway.charge(
        ChargeRequest(amount=250_00, currency="INR", method="link", operator="asha")
    )
    assert link.next_action is not None and link.next_action.url == f"{url}/checkout/{link.id}"
    async with httpx.AsyncClient() as client:
        page = await client.get(link.next_action.url)
        assert page.status_code == 200 and "₹250.00" in page.text
        bank = await client.get(f"{url}/sim/netbanking/v1/banks")  # the banks' pages too
        assert bank.status_code == 200 and "DEMOA" in bank.text
    await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"{url}/health")


async def test_a_taken_address_or_another_machine_is_left_alone(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        rt = runtime_on(tmp_path / "a", f"http://127.0.0.1:{port}")
        try:
            assert await CheckoutServer(rt).start() is None
        finally:
            rt.close()
    rt = runtime_on(tmp_path / "b", "https://pay.example.com")
    try:
        assert await CheckoutServer(rt).start() is None
        await CheckoutServer(rt).stop()  # never started: nothing to stop
    finally:
        rt.close()
