"""Text fields of the terminal: Textual's `Input`, with a note when a key is refused.

`restrict` silently drops refused characters; a cashier should know why nothing
happened, so a refused key posts `Field.Refused` with a plain-words note the screen
shows under the field. The cursor does not blink when the app runs without
animations (tests and snapshots).
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.widgets import Input


class Field(Input):
    """An `Input` that explains refused keys."""

    class Refused(Message):
        def __init__(self, field: Field, note: str) -> None:
            super().__init__()
            self.field = field
            self.note = note

        @property
        def control(self) -> Field:
            return self.field

    def __init__(self, *args, refused_note: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.refused_note = refused_note

    def on_mount(self) -> None:
        if not getattr(self.app, "animate", True):
            self.cursor_blink = False

    def restricted(self) -> None:
        if self.refused_note:
            self.post_message(self.Refused(self, self.refused_note))


def secret_digits(field_id: str, max_length: int, refused_note: str, **options: Any) -> Field:
    """A masked field that takes digits only: a PIN, a UPI PIN, a CVV."""
    return Field(
        id=field_id,
        password=True,
        restrict=r"[0-9]*",
        max_length=max_length,
        refused_note=refused_note,
        **options,
    )
