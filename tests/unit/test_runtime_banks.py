"""The core opens no banks of its own: the composition root passes a factory."""

from __future__ import annotations

import pytest

from bank_sim.app import Banks
from bank_sim.embedded import simulated_banks
from gateway_core.bank_client import BankClient
from gateway_core.clock import FixedClock
from gateway_core.errors import SystemFailure
from gateway_core.ports import BanksFactory, EmbeddedBanks, Processor
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings


def test_without_bank_url_or_factory_the_gateway_is_one_clear_failure(
    settings: Settings, clock: FixedClock
) -> None:
    with Runtime.open(settings, clock=clock) as rt:
        with pytest.raises(SystemFailure, match="no banks to reach"):
            _ = rt.gateway
        assert rt.banks is None


async def test_the_simulator_satisfies_the_ports(runtime: Runtime) -> None:
    assert isinstance(simulated_banks, BanksFactory)
    gateway = runtime.gateway
    assert isinstance(runtime.banks, Banks)
    assert isinstance(runtime.banks, EmbeddedBanks)
    assert isinstance(gateway.bank, BankClient)
    assert isinstance(gateway.bank, Processor)
    await gateway.bank.close()
