"""What every screen of the terminal shares: the status line on top, the keys below."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer

from pos_app.widgets.status import StatusBar


def while_shown(method: F) -> F:
    """For a screen method that may run as its screen is being built or taken down (a
    worker's answer, a blur during removal): without its widgets it does nothing."""

    @functools.wraps(method)
    def guarded(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except NoMatches:
            if self.is_attached and self.is_current and self.query("Footer"):
                raise  # the screen is up: a real bug, not a race
            return None

    return guarded  # type: ignore[return-value]


def sentence(text: str) -> str:
    """A message as a sentence: first letter up, the rest as written ("PIN" stays)."""
    return text[:1].upper() + text[1:]


class DismissOnce:
    """Textual's `dismiss` pops whatever screen is on top: a key pressed twice faster
    than the screen closes (Escape, Enter) would close the screen underneath too and
    leave the cashier on a blank terminal. Here a screen closes once, and only itself.
    A close that does nothing still returns an awaitable (done at once): Textual awaits
    the `dismiss()` of each screen it pops (`pop_until_active`), one closed meanwhile
    included."""

    _pos_dismissed = False

    def dismiss(self, result: Any = None) -> AwaitComplete:  # type: ignore[override]
        if self._pos_dismissed or self.app.screen is not self:
            return AwaitComplete()
        self._pos_dismissed = True
        return super().dismiss(result)  # type: ignore[misc]


class PosScreen(DismissOnce, Screen):
    """A full screen: status bar, the screen's body, footer with its keys."""

    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield from self.compose_body()
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        yield from ()


R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


class PosModal(DismissOnce, ModalScreen[R], Generic[R]):
    """A dialog over the current screen."""
