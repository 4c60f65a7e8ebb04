"""Who acts in the audit log: a refund, void or capture approved by a manager is the
manager's act (the actor); the cashier signed in is recorded as who asked for it."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive, on_screen, press
from console_support import act, console, open_payment, small_day

from gateway_core.clock import FixedClock
from gateway_core.dashboard import audit_events
from gateway_core.settings import Settings


async def test_the_approving_manager_is_the_actor_of_console_actions(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    p = await small_day(app, clock)  # refund and void approved by meera, asked by asha
    async with drive(app) as pilot:
        await console(pilot)  # asha signed in, meera opens the console
        await open_payment(pilot, p["sale"])
        assert await act(pilot, "f", "100") == "Refunded ₹100.00 (approved by meera)"
        await press(pilot, "escape")
        await on_screen(pilot, "MerchantScreen")
        await open_payment(pilot, p["preauth"])
        assert await act(pilot, "c", "2000") == "Captured ₹2,000.00 (approved by meera)"
    events = audit_events(app.rt.records)

    def acts(action: str, subject: str) -> list[tuple[str, str | None]]:
        return [
            (e["actor"], e["details"].get("requested_by"))
            for e in events
            if e["action"] == action and e["subject"] == subject
        ]

    assert acts("payment.refunded", p["refunded"].id) == [("meera", "asha")]  # the gateway's
    assert acts("payment.voided", p["voided"].id) == [("meera", "asha")]
    assert acts("payment.refunded", p["sale"].id) == [("meera", "asha")]  # the console's
    assert acts("payment.captured", p["preauth"].id) == [("meera", None)]
    granted = [
        (e["actor"], e["details"]["operator"], e["details"]["approved"])
        for e in events
        if e["action"] == "approval.granted" and e["subject"] in (p["sale"].id, p["preauth"].id)
    ]
    assert granted == [("meera", "asha", "refund"), ("meera", "asha", "capture")]
