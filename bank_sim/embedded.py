"""The simulated banks in the gateway's process: the `BanksFactory` that the composition
root (paygate_cli, the tests) gives `Runtime.open`. Light to import: the bank app
(FastAPI) is imported when the banks are first opened, or by `preload`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from bank_sim.testcards import bin_country
from gateway_core.clock import Clock
from gateway_core.ports import BankSettings

if TYPE_CHECKING:
    from bank_sim.app import Banks


class SimulatedBanks:
    """Opens `bank_sim.app.Banks` on a data dir's `banks/` (satisfies `BanksFactory`)."""

    def preload(self) -> None:
        """Import the bank app and its config (FastAPI: 0.4 s)."""
        for name in ("bank_sim.app", "bank_sim.serve"):
            importlib.import_module(name)

    def open(self, settings: BankSettings, clock: Clock) -> Banks:
        """The banks of `settings`, on `clock` (latency from the settings)."""
        from bank_sim.app import Banks
        from bank_sim.serve import bank_config

        return Banks(bank_config(settings, clock))

    def country_of(self, bin6: str) -> str | None:
        """The issuing country of a test card's BIN-6."""
        return bin_country(bin6)


simulated_banks = SimulatedBanks()
