"""The processors' fakes together: each under `/{name}/...` with its
`/{name}/_faults`, served by `paygate banks serve` (bank_sim/app.py) and on a loopback
port in process (`server.LoopbackServer`). A fake is `cls(directory, clock, settings)`
(`settings`: the provider's `ProcessorSettings`, whose keys it takes besides its own
test ones) with `faults` and `router()`; adding one is one line in `FAKES`."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from fastapi import APIRouter, FastAPI

from bank_sim.processors.faults import Faults, faults_router
from gateway_core.clock import Clock
from gateway_core.settings import ProcessorSettings

# name -> "module:class", imported on first use
FAKES = {
    "stripe": "bank_sim.processors.stripe.fake:StripeFake",
    "razorpay": "bank_sim.processors.razorpay.api:RazorpayFake",
    "paypal": "bank_sim.processors.paypal.fake:PaypalFake",
}


class ProcessorFake(Protocol):
    """One provider's fake."""

    faults: Faults

    def router(self) -> APIRouter: ...


class Fakes:
    """Every fake in `FAKES`, each keeping its state in `directory/<name>` and taking
    the keys of `settings[name]` (the gateway's `Settings.processors`) when given."""

    def __init__(
        self, directory: Path, clock: Clock, settings: Mapping[str, ProcessorSettings] = {}
    ) -> None:
        self.by_name: dict[str, ProcessorFake] = {}
        for name, target in FAKES.items():
            module, cls = target.split(":")
            made = getattr(importlib.import_module(module), cls)
            self.by_name[name] = made(directory / name, clock, settings.get(name))

    def __getitem__(self, name: str) -> ProcessorFake:
        return self.by_name[name]

    def router(self) -> APIRouter:
        """Every fake's routes and its `_faults`."""
        router = APIRouter()
        for name, fake in self.by_name.items():
            router.include_router(fake.router())
            router.include_router(faults_router(f"/{name}", fake.faults))
        return router

    def app(self) -> FastAPI:
        """These fakes as an app of their own (its `state.fakes`), e.g. for a
        `LoopbackServer`: one process serves one `Fakes` per directory (two would
        overwrite each other's state)."""
        app = FastAPI(title="paygate processor fakes", version="1")
        app.state.fakes = self
        app.include_router(self.router())
        return app


def processors_app(
    directory: Path, clock: Clock, settings: Mapping[str, ProcessorSettings] = {}
) -> FastAPI:
    """New fakes over `directory` as one app (its `state.fakes` is the `Fakes`)."""
    return Fakes(directory, clock, settings).app()
