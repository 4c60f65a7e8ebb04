"""The terminal's command palette: its main actions and every theme (the app lists
them: `palette_commands`), closed once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider

from pos_app.screens.base import DismissOnce


class Commanded(Protocol):
    """An app that lists its palette's commands: (name, help, what it runs)."""

    def palette_commands(self) -> list[tuple[str, str, Callable[[], Any]]]: ...


class PaygateCommands(Provider):
    """The command palette: the terminal's main actions and every theme."""

    def _commands(self) -> list[tuple[str, str, Any]]:
        return cast(Commanded, self.app).palette_commands()

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class TerminalPalette(DismissOnce, CommandPalette):
    """Textual's command palette, closed once (an Enter typed twice in a row must not
    close the screen under it as well); a page key on a list still being filled does
    nothing instead of failing."""

    def _action_command_list(self, action: str) -> None:
        # Textual's list fails on a page key while it has no lines yet (KeyError 0).
        commands = self.query(CommandList)
        if commands and commands.first().option_count == 0:
            return
        try:
            super()._action_command_list(action)
        except KeyError:
            return  # the same, while the list is being filled
