"""No request leaves the machine: with every outbound connection refused unless it is
to loopback, the Stripe connector (its SDK, its HTTP client) does a whole sale, capture,
refund and status against the local fake, and one pointed elsewhere is not reached."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
from fakes_support import FakesServer
from test_stripe import charge

from gateway_core.connectors.stripe import StripeConnector
from gateway_core.errors import BankNotReached
from gateway_core.settings import ProcessorSettings

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=:DeprecationWarning")  # the SDK's


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every address a socket connects to; any but loopback refused."""
    seen: list[str] = []
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        seen.append(str(host))
        inet = self.family in (socket.AF_INET, socket.AF_INET6)
        if inet and not ipaddress.ip_address(str(host).split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"test guard: {host} is not loopback")
        connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield seen


async def test_the_connector_only_reaches_the_local_fake(
    fakes_server: FakesServer, outbound: list[str]
) -> None:
    connector = StripeConnector(ProcessorSettings(), f"{fakes_server.url}/stripe")
    try:
        held = await connector.authorize(charge(capture=False))
        await connector.capture(held.reference, 20_00, "cap-" + held.reference)
        await connector.refund(held.reference, "rf-" + held.reference, 5_00, "k")
        assert await connector.status(reference=held.reference) is not None
    finally:
        await connector.close()
    assert outbound and all(ipaddress.ip_address(h).is_loopback for h in outbound)


async def test_anywhere_else_is_not_reached(outbound: list[str]) -> None:
    elsewhere = StripeConnector(
        ProcessorSettings(api_key="sk_test_x", base_url="http://203.0.113.9"),
        "http://203.0.113.9",
    )
    try:
        with pytest.raises(BankNotReached):
            await elsewhere.authorize(charge())
    finally:
        await elsewhere.close()
    assert outbound == ["203.0.113.9"]
