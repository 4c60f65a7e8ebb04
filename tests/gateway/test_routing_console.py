"""The console's payment detail for a routed payment: each attempt on the timeline
("stripe: down, failed over", "razorpay: approved"), and the processor with its
reference among the facts (a payment of the built-in acquirer shows neither)."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive, press
from console_support import console, open_payment, rendered, tab
from routing_support import Scripted
from support import VISA, charge

from gateway_core.clock import FixedClock
from gateway_core.settings import ProcessorSettings, RouteRule, Settings
from gateway_core.tenders.defaults import routed_tenders
from gateway_core.tenders.processors import Processors


async def test_the_timeline_shows_each_attempt_and_the_processor(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    scripted = {"stripe": Scripted("stripe"), "razorpay": Scripted("razorpay")}
    scripted["stripe"].script = ["down"]
    routing = settings.model_copy(
        update={
            "processors": {name: ProcessorSettings() for name in scripted},
            "routing": [RouteRule(processors=["stripe", "razorpay"])],
        }
    )
    async with drive(app) as pilot:
        gateway = app.rt.gateway
        processors = Processors(scripted.__getitem__, app.rt.records.idempotency)
        built_in = await gateway.charge(charge(VISA, 40_00, terminal_id="TERM0001"))
        gateway.tenders.update(routed_tenders(gateway.tenders, routing, processors))
        routed = await gateway.charge(charge(VISA, 50_00, terminal_id="TERM0001"))
        assert routed.processor == "razorpay"

        await console(pilot)
        await tab(pilot, "transactions")
        await open_payment(pilot, routed)
        timeline = rendered(app.screen.query_one("#pay-timeline"))
        assert "attempt stripe: down, failed over" in timeline
        assert "attempt razorpay: approved" in timeline
        summary = rendered(app.screen.query_one("#pay-summary"))
        assert "Processor razorpay · razorpay_1" in summary
        frames = rendered(app.screen.query_one("#pay-frames"))
        assert frames == "No ISO 8583 frames: the payment went through razorpay"
        await press(pilot, "escape")

        await open_payment(pilot, built_in)
        assert "Processor" not in rendered(app.screen.query_one("#pay-summary"))
        assert "attempt" not in rendered(app.screen.query_one("#pay-timeline"))
