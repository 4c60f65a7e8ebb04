"""The on-screen keypad: the same keys the keyboard has (digits, 00, ., ⌫, C, Enter).

The buttons never take the focus, so the keyboard keeps driving the amount; a click
(or tap) posts `Keypad.Pressed` with the key's name.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Button

KEYS: tuple[tuple[str, str], ...] = (
    ("7", "7"),
    ("8", "8"),
    ("9", "9"),
    ("backspace", "⌫"),
    ("4", "4"),
    ("5", "5"),
    ("6", "6"),
    ("clear", "C"),
    ("1", "1"),
    ("2", "2"),
    ("3", "3"),
    (".", "."),
    ("00", "00"),
    ("0", "0"),
    ("enter", "Enter"),
)


class Keypad(Grid):
    """A 4-column keypad."""

    class Pressed(Message):
        """A keypad key was pressed (clicked)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def compose(self) -> ComposeResult:
        for key, label in KEYS:
            name = {"backspace": "back", ".": "dot", "enter": "enter", "clear": "clear"}.get(
                key, key
            )
            button = Button(label, id=f"key-{name}", classes="key", compact=True)
            button.can_focus = False
            if key == "enter":
                button.add_class("-enter")
            elif not key.isdigit():
                button.add_class("-fn")
            yield button

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        name = (event.button.id or "").removeprefix("key-")
        key = {"back": "backspace", "dot": "."}.get(name, name)
        self.post_message(self.Pressed(key))
