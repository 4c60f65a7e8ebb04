"""The frame inspector: the ISO 8583 messages of a payment, field by field, PAN masked.

The frames come from the acquirer already masked (BIN-6 and last-4 at most, no CVV,
no expiry); the composition root's `field_rows` names each data element.
"""

from __future__ import annotations

from datetime import tzinfo

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll

from gateway_core.acquirer_api import Frame
from gateway_core.presentation import time_text
from pos_app.screens.base import PosScreen, while_shown
from pos_app.screens.hosts import SaleDesk
from pos_app.widgets.line import Line
from pos_app.wiring import FieldRows

HOP_NAMES = {
    "gateway": "Gateway",
    "acquirer": "Acquirer",
    "network": "Card network",
    "issuer": "Issuer",
}
MTI_NAMES = {
    "0100": "authorization request",
    "0110": "authorization response",
    "0200": "financial request (sale or refund)",
    "0210": "financial response",
    "0220": "completion advice (capture)",
    "0230": "completion response",
    "0400": "reversal request",
    "0410": "reversal response",
}


def frames_view(frames: list[Frame], tz: tzinfo | None, field_rows: FieldRows) -> Group | str:
    """The frames of one payment, each titled (MTI, hops, time) over its data elements."""
    if not frames:
        return "The bank has no frames for this payment."
    parts: list[Text | Table] = []
    for number, frame in enumerate(frames, 1):
        mti = MTI_NAMES.get(frame.mti, "message")
        at = time_text(frame.at, tz)
        title = Text.assemble(
            (f"{number}. {frame.mti} ", "bold"),
            f"{mti} · {HOP_NAMES.get(frame.source, frame.source)} → "
            f"{HOP_NAMES.get(frame.target, frame.target)} · {at}",
        )
        table = Table(box=None, pad_edge=False, expand=True, show_header=False)
        table.add_column("DE", no_wrap=True, style="bold", width=3)
        table.add_column("Name", no_wrap=True, width=27, overflow="ellipsis")
        table.add_column("Value", ratio=1, overflow="fold")
        for key, name, value in field_rows({"t": frame.mti, **frame.fields}):
            if key == "t":
                continue
            table.add_row(key, name, value)
        parts += [title, table, Text("")]
    return Group(*parts)


class InspectorScreen(PosScreen):
    """ISO 8583 frames of one payment."""

    TITLE_TEXT = "Inspector"
    BINDINGS = [
        Binding("escape", "back", "Back", id="inspector.back", tooltip="Close the inspector"),
    ]

    def __init__(self, desk: SaleDesk, payment_id: str | None) -> None:
        super().__init__()
        self.desk = desk
        self.payment_id = payment_id
        self.frames: list[Frame] | None = None  # None until loaded

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="inspector", classes="panel") as box:
            box.border_title = f"ISO 8583 frames · {self.payment_id or 'no payment yet'}"
            box.can_focus = True
            yield Line("Loading…" if self.payment_id else self._empty(), id="frames")

    def _empty(self) -> str:
        return "No authorization yet in this session: take a payment, or pick one in Today (F2, i)."

    @while_shown
    def on_mount(self) -> None:
        self.query_one("#inspector").focus()
        if self.payment_id:
            self.desk.load_frames(self, self.payment_id)

    @while_shown
    def show_frames(self, frames: list[Frame]) -> None:
        self.frames = frames
        self.query_one("#frames", Line).update(
            frames_view(frames, self.desk.settings.tz, self.desk.field_rows)
        )

    @while_shown
    def show_error(self, message: str) -> None:
        self.query_one("#frames", Line).update(message)

    def action_back(self) -> None:
        self.dismiss()
