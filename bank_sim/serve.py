"""`paygate banks serve`: the simulated banks as their own process, under uvicorn."""

from __future__ import annotations

import uvicorn

from bank_sim.app import Banks, create_app
from bank_sim.config import BankConfig
from gateway_core.clock import Clock
from gateway_core.logs import uvicorn_logging
from gateway_core.ports import BankSettings


def bank_config(settings: BankSettings, clock: Clock, **overrides) -> BankConfig:
    """The banks' config from the gateway's settings (latency applies to every hop)."""
    latency = dict.fromkeys(("acquirer", "network", "issuer"), settings.bank_latency_ms)
    return BankConfig(
        settings.data_dir,
        latency_ms=latency,
        clock=clock,
        tz=settings.tz,
        merchant_id=settings.merchant_id,
        merchant_name=settings.merchant_name,
        **overrides,
    )


def serve(config: BankConfig, *, host: str = "127.0.0.1", port: int = 8700) -> None:
    """Run the banks until interrupted; their store is closed on the way out. The net
    banking pages are reached at http://HOST:PORT unless the config says otherwise."""
    config.nb_public_url = config.nb_public_url or f"http://{host}:{port}"
    banks = Banks(config)
    try:
        uvicorn.run(create_app(banks), host=host, port=port, **uvicorn_logging())
    finally:
        banks.close()
