"""A gateway whose card payments are routed to scripted processors (`Scripted`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from routing_support import Routed, routed_runtime

from gateway_core.clock import FixedClock


@pytest.fixture
def routed(tmp_path: Path, clock: FixedClock, database_url: str | None) -> Iterator[Routed]:
    """Cards go to stripe, then razorpay; nothing else is routed (on both stores)."""
    rules = [{"method": "card", "processors": ["stripe", "razorpay"]}]
    rt, scripted = routed_runtime(tmp_path / "data", clock, rules, database_url=database_url)
    try:
        yield Routed(rt, scripted["stripe"], scripted["razorpay"])
    finally:
        rt.close()
