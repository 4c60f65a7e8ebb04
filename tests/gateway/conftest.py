"""A gateway whose card payments are routed to scripted processors (`Scripted`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from routing_support import Scripted
from support import open_runtime

from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.settings import ProcessorSettings, load_settings
from gateway_core.tenders.processors import Processors


@dataclass
class Routed:
    """An open runtime and the scripted processors its gateway routes to."""

    rt: Runtime
    stripe: Scripted
    razorpay: Scripted


def routed_runtime(
    data_dir: Path, clock: FixedClock, routing: list[dict[str, Any]], **settings: Any
) -> tuple[Runtime, dict[str, Scripted]]:
    """A runtime on `routing` with scripted "stripe" and "razorpay" processors."""
    scripted = {"stripe": Scripted("stripe"), "razorpay": Scripted("razorpay", ("card", "upi"))}
    conf = load_settings(
        data_dir=data_dir,
        timezone="Asia/Kolkata",
        processors={name: ProcessorSettings() for name in scripted},
        routing=routing,
        **settings,
    )
    rt = open_runtime(conf, clock=clock)
    rt.processors = Processors(scripted.__getitem__, rt.records.idempotency)
    return rt, scripted


@pytest.fixture
def routed(tmp_path: Path, clock: FixedClock) -> Iterator[Routed]:
    """Cards go to stripe, then razorpay; nothing else is routed."""
    rules = [{"method": "card", "processors": ["stripe", "razorpay"]}]
    rt, scripted = routed_runtime(tmp_path / "data", clock, rules)
    try:
        yield Routed(rt, scripted["stripe"], scripted["razorpay"])
    finally:
        rt.close()
