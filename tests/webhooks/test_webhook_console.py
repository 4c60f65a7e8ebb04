"""The console's dashboard tells the merchant when a webhook endpoint was disabled."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive
from console_support import console, rendered

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from gateway_core.webhooks.endpoints import WebhookEndpoints


async def test_a_disabled_endpoint_is_a_notice_on_the_dashboard(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        rt = app.rt
        endpoints = WebhookEndpoints(rt.records.webhooks, rt.keyring, rt.audit, rt.clock)
        quiet, _ = endpoints.add(settings.merchant_id, "https://ok.example/h", None, actor="t")
        failing, _ = endpoints.add(settings.merchant_id, "https://shop.example/h", None, actor="t")
        endpoints.disable(failing.id, "every delivery failed for 3 days (20 attempts)")

        await console(pilot)
        notice = app.screen.query_one("#notices")
        text = rendered(notice)
        assert notice.display and failing.id in text and "shop.example" in text
        assert "3 days" in text and f"paygate webhooks enable {failing.id}" in text
        assert quiet.id not in text
