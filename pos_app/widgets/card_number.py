"""The card number field: digits in, a masked and grouped number out.

The field never shows the whole number, not even while it is typed: the screen shows
at most the first six (only once enough digits follow them) and the last four keyed,
grouped per detected brand (Amex 4-6-5), the rest as `•`. The digits live in this
widget only, handed out as a `SecretStr`, and `clear()` forgets them.

Typing spaces or dashes is ignored (they are how numbers are printed); pasting
"4111-1111-1111-1111" or "4111 1111 1111 1111" works; letters get a plain-words note.
"""

from __future__ import annotations

from pydantic import SecretStr
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from gateway_core.cards import (
    MASK,
    MIN_HIDDEN,
    PAN_MAX,
    Brand,
    detect_brand,
    group_as_brand,
    luhn_valid,
)


def live_mask(digits: str) -> str:
    """The number as the field shows it: never more than BIN-6 and the last 4."""
    n = len(digits)
    lead = max(0, min(6, n - 4 - MIN_HIDDEN))
    tail = min(4, n - lead)
    masked = digits[:lead] + MASK * (n - lead - tail) + digits[n - tail :]
    return group_as_brand(masked, detect_brand(digits) if n else None)


class CardNumberField(Widget, can_focus=True):
    """A focusable field that keeps the card number to itself."""

    BINDINGS = [
        Binding(
            "backspace",
            "delete_digit",
            "Delete",
            show=False,
            id="card.number_backspace",
            tooltip="Delete the last digit of the card number",
        ),
        Binding(
            "ctrl+u",
            "clear_number",
            "Clear number",
            show=False,
            id="card.number_clear",
            tooltip="Clear the card number",
        ),
    ]

    DEFAULT_CSS = """
    CardNumberField { height: 1; width: 1fr; }
    """

    class Changed(Message):
        """The number changed: only its shape travels, never the digits."""

        def __init__(self, field: CardNumberField, note: str | None = None) -> None:
            super().__init__()
            self.field = field
            self.note = note  # a plain-words note about a refused key, if any

        @property
        def control(self) -> CardNumberField:
            return self.field

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.__digits = ""

    def __repr__(self) -> str:  # never the digits
        return f"CardNumberField(id={self.id!r}, length={self.length})"

    # -- what others may know -------------------------------------------------------------
    @property
    def length(self) -> int:
        return len(self.__digits)

    @property
    def brand(self) -> Brand | None:
        return detect_brand(self.__digits) if self.__digits else None

    @property
    def masked(self) -> str:
        return live_mask(self.__digits)

    def secret(self) -> SecretStr:
        """The digits, as a secret for the card check and the gateway."""
        return SecretStr(self.__digits)

    def luhn_ok(self) -> bool:
        return luhn_valid(self.__digits)

    # -- changing it ---------------------------------------------------------------------
    def set_secret(self, value: SecretStr | None) -> None:
        """Restore a number kept while the cashier stepped back."""
        digits = value.get_secret_value() if value is not None else ""
        self.__digits = "".join(ch for ch in digits if ch.isascii() and ch.isdigit())[:PAN_MAX]
        self._changed()

    def clear(self) -> None:
        """Forget the number."""
        self.__digits = ""
        self._changed()

    def _changed(self, note: str | None = None) -> None:
        self.refresh()
        self.post_message(self.Changed(self, note))

    def _max_length(self) -> int:
        brand = self.brand
        return max(brand.lengths) if brand else PAN_MAX

    def _add(self, text: str) -> str | None:
        """Append digits; returns a note if some were refused."""
        for ch in text:
            if len(self.__digits) >= self._max_length():
                brand = self.brand
                if brand:
                    return f"{brand.display} card numbers are at most {self._max_length()} digits"
                return f"a card number has at most {PAN_MAX} digits"
            self.__digits += ch
        return None

    def action_delete_digit(self) -> None:
        self.__digits = self.__digits[:-1]
        self._changed()

    def action_clear_number(self) -> None:
        self.clear()

    def on_key(self, event: events.Key) -> None:
        char = event.character
        if char is None or not char.isprintable() or len(char) != 1:
            return
        event.stop()
        event.prevent_default()
        if char.isascii() and char.isdigit():
            self._changed(self._add(char))
        elif char in " -":
            return  # how numbers are printed: nothing to do
        else:
            self._changed("a card number has only digits (spaces and dashes are fine)")

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        text = event.text.strip()
        if not text:
            return
        if any(not (ch.isascii() and (ch.isdigit() or ch in " -")) for ch in text):
            self._changed("the pasted text is not a card number: digits, spaces and dashes only")
            return
        digits = "".join(ch for ch in text if ch.isdigit())
        self._changed(self._add(digits))

    # -- drawing ------------------------------------------------------------------------
    def render(self) -> Text:
        shown = self.masked
        text = Text(shown)
        if self.has_focus:
            text.append(" ", style="reverse")
        elif not shown:
            text = Text("card number", style="dim")
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
