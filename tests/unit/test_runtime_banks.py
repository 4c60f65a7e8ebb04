"""The core opens no banks of its own: the composition root passes a factory."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_the_gateway_runtime_and_tenders_name_no_bank_sim_module() -> None:
    core = Path(__file__).resolve().parents[2] / "gateway_core"
    mine = [core / "runtime.py", core / "gateway.py", core / "payments.py"]
    for path in [*mine, *sorted((core / "tenders").glob("*.py")), *(core / "ports").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not [n for n in names if n.split(".")[0] == "bank_sim"], path.name
