"""What the composition root (the CLI's terminal module) hands the terminal: whatever is not
the gateway core's (the simulator's test cards, ISO 8583 field names and UPI payer app),
as plain data and callables, so that pos_app imports only the core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from gateway_core.gateway import Gateway
from gateway_core.ports import PayerApp

FieldRows = Callable[[Mapping[str, str]], list[tuple[str, str, str]]]
"""A frame's fields as (field id, name, masked value) rows, in message order."""


@dataclass(frozen=True)
class CardHint:
    """A demo test card as the card screen's picker and the help list it."""

    label: str
    pan: str
    behaviour: str
    cvv: str

    @property
    def digits(self) -> str:
        """The PAN without spaces."""
        return self.pan.replace(" ", "")


@dataclass(frozen=True)
class Wiring:
    """The terminal's outside help, built by the composition root."""

    gateway: Callable[[], Gateway]
    """The gateway, built on first use (with the route tap on its bank client)."""
    field_rows: FieldRows
    test_cards: Sequence[CardHint] = ()
    """The demo's test cards (ctrl+d on the card screen, the help)."""
    payer: Callable[[], PayerApp] | None = None
    """The simulated network's payer app, built on first use: the demo's phone on the UPI
    screen pays with it (None: no phone, e.g. a terminal on `paygate serve`)."""
    checkout: Callable[[], Awaitable[str | None]] | None = None
    """Serve the checkout pages from this terminal (a payment link's QR opens them):
    their address, or None when they cannot be served here (None: a server serves them)."""
