"""The terminal as a client of `paygate serve`: what the app needs of a Runtime when the
gateway, the users and the data live on the server.

The terminal then has no data dir of its own to lock: its settings, a clock and the
`RemoteGateway`. The server's answer to the API key decides the merchant and terminal
the screens and receipts show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway_core.clock import Clock, SystemClock
from gateway_core.errors import PaygateError
from gateway_core.service.client import RemoteGateway
from gateway_core.settings import Settings


@dataclass
class RemoteRuntime:
    """Settings, clock and gateway of a terminal whose gateway is a server."""

    settings: Settings
    gateway: RemoteGateway
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    async def connect(cls, settings: Settings) -> RemoteRuntime | None:
        """Reach the gateway `gateway_url` names (None when unset) and take on the
        merchant and terminal its API key belongs to."""
        gateway = RemoteGateway.from_settings(settings)
        if gateway is None:
            return None
        try:
            me = await gateway.whoami()
        except PaygateError:
            await gateway.aclose()
            raise
        mine = {"merchant_id": me.merchant_id, "terminal_id": me.terminal_id}
        return cls(settings.model_copy(update=mine), gateway)

    async def aclose(self) -> None:
        """Close the connections to the gateway."""
        await self.gateway.aclose()
