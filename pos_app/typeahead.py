"""Type-ahead: keys typed faster than the terminal moves go where the cashier meant them.

Textual hands a key to the widget that has the focus when the app reads the key; what
the key sets off (Enter moving to the next field, a screen opening, a PIN being
checked) happens some messages later. Keys sent in one burst (a scanner, a fast
typist, `tmux send-keys` of a whole string) would reach the old field or screen: the
PIN the ID field, the card number a screen not built yet.

So the app lets keys in one at a time: a key waits until everything the keys before it
set off has happened (every message of the app and of its screens handled, every
screen mounted) and no screen change or check that ends in one is under way. Keys keep
their order and none is dropped. A step that takes longer than `HOLD_LIMIT_S` lets the
held keys go on, so a hung step never freezes the keyboard.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

HOLD_LIMIT_S = 15.0  # longer than a bank's answer to a void (bank_timeout_s, 8 s)
QUIET_TURNS = 3  # turns of the event loop with nothing to do: the last key is done
POLL_S = 0.01  # how often a held key looks again while a screen change is under way

TypedEvent = events.Key | events.Paste


def _idle(pump: MessagePump) -> bool:
    """Mounted, and no message waiting."""
    return pump._is_mounted and pump._pending_message is None and pump._message_queue.empty()


def _again(event: TypedEvent) -> TypedEvent:
    """A fresh copy of a held key (a message is handled once)."""
    if isinstance(event, events.Paste):
        return events.Paste(event.text)
    return events.Key(event.key, event.character)


class TypeAhead:
    """Holds typed keys while the app is still acting on the ones before them."""

    def __init__(self, app: App, moving: Callable[[], bool]) -> None:
        self.app = app
        self.moving = moving  # a screen change, or a step that ends in one, is under way
        self.held: deque[TypedEvent] = deque()
        self._released: dict[int, TypedEvent] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> bool:
        """Keys are held, or the last one let in is still being acted on."""
        return bool(self.held) or self._task is not None

    def admit(self, event: TypedEvent) -> bool:
        """True: the app handles `event` now. False: it is held and comes back later."""
        if self._released.pop(id(event), None) is not None:
            return True
        if self.pending:
            self.held.append(event)
            return False
        self._task = asyncio.create_task(self._release_held())
        return True

    async def _release_held(self) -> None:
        """Let the held keys in, each once the app is done with the one before."""
        try:
            while True:
                await self._settled()
                if not self.held or not self.app.is_running:
                    return
                event = _again(self.held.popleft())
                event.set_sender(self.app)
                self._released[id(event)] = event
                self.app.post_message(event)
        finally:
            self._task = None

    def _quiet(self) -> bool:
        app = self.app
        if not _idle(app):
            return False
        return all(
            _idle(node)
            for screen in app.screen_stack
            for node in screen.walk_children(with_self=True)
        )

    async def _settled(self) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + HOLD_LIMIT_S
        calm = 0
        while calm < QUIET_TURNS and loop.time() < give_up and self.app.is_running:
            if self.moving():
                calm = 0
                await asyncio.sleep(POLL_S)
                continue
            await asyncio.sleep(0)
            calm = calm + 1 if self._quiet() else 0
