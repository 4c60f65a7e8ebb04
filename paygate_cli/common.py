"""What every command shares: opening the data dir, remote marking, approver options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from platformdirs import user_data_path

from bank_sim.embedded import SimulatedBanks
from gateway_core.clock import Clock
from gateway_core.errors import InputError
from gateway_core.ports import BankSettings
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.tenders.link import public_url

Handler = Callable[[argparse.Namespace, Settings], int]


def works_remotely(handler: Handler) -> Handler:
    """Mark a command that goes through `paygate serve` when a gateway URL is given
    (every other command is refused then, see `refuse_remote`)."""
    handler.remote = True  # type: ignore[attr-defined]  # a mark on the function, read by main
    return handler


def refuse_remote(settings: Settings, command: str) -> None:
    """Refuse (exit 2) a command that needs the data dir when a gateway URL is set."""
    if settings.gateway_url is not None:
        raise InputError(
            f"`paygate {command}` works on a data dir only, not through a gateway service: "
            "run it without --gateway-url (or PAYGATE_GATEWAY_URL)"
        )


def approver_options() -> argparse.ArgumentParser:
    """The options of a command a manager approves: --operator, --approver, --approver-pin."""
    approved = argparse.ArgumentParser(add_help=False)
    approved.add_argument("--operator", default="cli", help="who is doing this (a user id)")
    approved.add_argument("--approver", metavar="ID", help="the approving manager's user id")
    approved.add_argument(
        "--approver-pin", metavar="PIN", help="the manager's PIN (prompted, hidden, if left out)"
    )
    return approved


class ServedBanks(SimulatedBanks):
    """The simulated banks with their net banking pages where `paygate serve` (and
    `paygate sandbox`) mounts them: `{checkout public_url}/sim`."""

    def open(self, settings: BankSettings, clock: Clock):  # -> bank_sim.app.Banks
        banks = super().open(settings, clock)
        if isinstance(settings, Settings):
            banks.config.nb_public_url = f"{public_url(settings)}/sim"
        return banks


def open_runtime(settings: Settings, *, read_only: bool = False, create: bool = True) -> Runtime:
    """Open the data dir with the simulated banks embedded (unless the settings name a
    `bank_url`), telling the operator what a crash left to repair."""
    rt = Runtime.open(settings, read_only=read_only, create=create, banks=ServedBanks())
    for note in rt.store.recovered if rt.store else []:
        print(f"paygate: warning: {note}", file=sys.stderr)
    return rt


def demo_data_dir() -> Path:
    """The demo's own data dir, apart from real data."""
    return user_data_path("paygate") / "demo"
