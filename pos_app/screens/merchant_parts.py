"""What the tabs of the merchant console share: the console as they see it, Esc in a
filter field, and how a card, a time and an audit event's time are shown."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Protocol, cast

from textual.binding import Binding

from gateway_core.dashboard import Record
from gateway_core.presentation import brand_name, method_name, time_text
from gateway_core.upi_link import mask_vpa
from pos_app.screens.hosts import BackOffice
from pos_app.widgets.fields import Field


class Console(Protocol):
    """The console screen as its tabs see it."""

    office: BackOffice
    day: date

    def open_payment(self, payment_id: str) -> None: ...

    def preview_close(self) -> None: ...


class ConsolePart:
    """A tab of the console: it reaches the back office through its screen."""

    @property
    def console(self) -> Console:
        """The console this tab is on."""
        return cast(Console, self.screen)  # type: ignore[attr-defined]


def leave_filter_binding(name: str, table: str) -> Binding:
    """Esc in a tab's search or filter field: it clears the field, or (empty) goes to the
    tab's table (`merchant.<name>`). Esc elsewhere leaves the console, as before."""
    return Binding(
        "escape",
        f"leave_filter('{table}')",
        "Clear",
        id=f"merchant.{name}",
        tooltip=f"Clear the {name.replace('_', ' ')} typed; once empty, back to the table",
    )


class FilterKeys(ConsolePart):
    """A tab with filter fields (`Field`s) over a table: Esc stays in the tab."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_filter":  # only while a filter field has the focus
            focused = self.screen.focused  # type: ignore[attr-defined]
            return isinstance(focused, Field) and self in focused.ancestors  # type: ignore[operator]
        return True

    def action_leave_filter(self, table: str) -> None:
        field = cast(Field, self.screen.focused)  # type: ignore[attr-defined]
        if field.value:
            field.value = ""
            self.filter_cleared()
        else:
            self.query_one(table).focus()  # type: ignore[attr-defined]

    def filter_cleared(self) -> None:
        """A filter field was cleared: show what the filters select now."""


def card_text(record: Record) -> str:
    """The card of a payment record as the table shows it: last-4, then the brand (at
    80 columns the brand's tail is what the edge cuts); a UPI payment's payer, masked;
    a net banking payment's bank; else the method ("Cash")."""
    card = record.get("card")
    if card:
        return f"••{card['last4']} {brand_name(card['brand'])}"
    payer = (record.get("upi") or {}).get("payer_vpa")
    if payer:
        return f"UPI {mask_vpa(payer)}"
    bank = (record.get("netbanking") or {}).get("bank")
    return f"NB {bank}" if bank else method_name(record.get("method") or "card")


def clock_time(iso: str, tz: tzinfo | None) -> str:
    return time_text(datetime.fromisoformat(iso), tz)


def event_time(stamp: object, tz: tzinfo | None) -> datetime | None:
    """An audit event's time in the merchant's timezone (None when it is garbled)."""
    try:
        return datetime.fromisoformat(stamp).astimezone(tz) if isinstance(stamp, str) else None
    except ValueError:
        return None
