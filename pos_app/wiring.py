"""What the composition root (the CLI's terminal module) hands the terminal: whatever is not
the gateway core's (the simulator's test cards, the ISO 8583 field names, the report
layout), as plain data and callables, so that pos_app imports only the core."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gateway_core.gateway import Gateway
from gateway_core.settings import Settings
from gateway_core.settlement import DayReport, Reconciliation

FieldRows = Callable[[Mapping[str, str]], list[tuple[str, str, str]]]
"""A frame's fields as (field id, name, masked value) rows, in message order."""
ReportText = Callable[[DayReport, Settings, int], list[str]]
"""An X or Z report as lines of text at most `width` columns wide."""
ReconciliationText = Callable[[Reconciliation], list[str]]
"""A reconciliation as lines of text."""


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
    report_text: ReportText
    reconciliation_text: ReconciliationText
    test_cards: Sequence[CardHint] = ()
    """The demo's test cards (ctrl+d on the card screen, the help)."""
