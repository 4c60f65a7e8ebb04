"""The processors' fakes on one loopback port for a whole test module
(`fakes_server`), as each provider's SDK reaches them; conftest.py makes it a fixture."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bank_sim.processors.app import Fakes, processors_app
from bank_sim.processors.server import LoopbackServer
from gateway_core.clock import SystemClock


@dataclass
class FakesServer:
    """The fakes (`fakes["stripe"]`, ...) and the URL they answer at."""

    fakes: Fakes
    url: str


@pytest.fixture(scope="module")
def fakes_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakesServer]:
    directory: Path = tmp_path_factory.mktemp("processors")
    app = processors_app(directory, SystemClock())
    server = LoopbackServer(app)
    url = server.start()
    try:
        yield FakesServer(app.state.fakes, url)
    finally:
        server.stop()
