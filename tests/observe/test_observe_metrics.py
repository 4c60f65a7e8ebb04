"""`/metrics` (issue 20): after an approved sale, a declined one, a pre-authorization
voided (a reversal) and a sale whose issuer never answers (a timeout, reversed), the
gateway's scrape holds each series with its value; the banks served on their own
expose theirs; the open payments are counted by age at scrape time.

The recorders start empty for each test (`fresh_metrics`): the values are this test's.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import MANAGER, charge, gateway_settings, open_runtime, open_world

from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.observe import recorders
from gateway_core.observe.metrics import OPEN_PAYMENTS, watch_open_payments
from gateway_core.observe.recorders import BUCKETS, Histogram, Recorders
from gateway_core.payments import ChargeRequest, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.service.app import create_app

VISA, DECLINE, TIMEOUT = (
    card_for(p) for p in ("4242424242424242", "4000000000000002", "4000000000009094")
)
UPI_QR = ChargeRequest(amount=100_00, currency="INR", method="upi", upi=UpiInput(flow="qr"))
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(autouse=True)
def fresh_metrics(monkeypatch: pytest.MonkeyPatch) -> Recorders:
    fresh = Recorders()
    monkeypatch.setattr(recorders, "METRICS", fresh)
    return fresh


async def scrape(app: object, path: str = "/metrics") -> Samples:
    """Every sample of a scrape, parsed by prometheus-client's own parser."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # an ASGI app
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_the_scrape_after_four_payments(tmp_path: Path, clock: FixedClock) -> None:
    async with open_world(tmp_path / "data", clock, 1.0) as world:
        gw = world.gw
        approved = await gw.charge(charge(VISA, 100_00))
        declined = await gw.charge(charge(DECLINE, 100_00))
        held = await gw.charge(charge(VISA, 50_00, capture="manual"))
        await gw.void(held.id, approval=MANAGER)
        lost = await gw.charge(charge(TIMEOUT, 70_00))
        assert (approved.status, declined.response_code, lost.response_code) == (
            "succeeded",
            "05",
            "91",
        )
        samples = await scrape(create_app(world.rt, repair_on_start=False, poll_every_s=None))

    issuer = approved.issuer or ""
    payments = "paygate_payments_total"
    card = {"method": "card", "issuer": issuer}
    assert value(samples, payments, outcome="approved", response_code="00", **card) == 2
    assert value(samples, payments, outcome="declined", response_code="05", **card) == 1
    lost_issuer = {"method": "card", "issuer": "none"}  # no answer: no issuer named
    assert value(samples, payments, outcome="declined", response_code="91", **lost_issuer) == 1
    reversals = "paygate_reversals_total"
    assert value(samples, reversals, reason="void", response_code="00") == 1
    assert value(samples, reversals, reason="timeout", response_code="00") == 1
    assert value(samples, "paygate_bank_timeouts_total", api="acquirer") == 1
    risk = "paygate_risk_decisions_total"
    assert value(samples, risk, method="card", action="allow", source="rules") == 4
    hop = "paygate_hop_duration_seconds_count"
    assert value(samples, hop, hop="gateway") == 4
    # the timeout card's issuer answers after the deadline: its hop is counted when it does
    assert value(samples, hop, hop="acquirer") >= 6  # 4 authorizations, the void, a reversal
    assert value(samples, "paygate_hop_duration_seconds_bucket", hop="gateway", le="+Inf") == 4
    assert value(samples, "paygate_store_fdatasyncs_total") >= 4
    assert value(samples, "paygate_store_commits_total") >= value(
        samples, "paygate_store_fdatasyncs_total"
    )
    assert "process_cpu_seconds_total" in {name for name, _ in samples}  # the default ones
    names = {name for name, _ in samples if name.startswith("paygate_")}
    labels = {v for (name, ls) in samples if name.startswith("paygate_") for _, v in ls}
    assert not any(label.startswith(("pay_", "4242", "4000")) for label in labels), labels
    assert names  # and no card number or payment id is ever a label value


async def test_open_payments_are_counted_by_age(tmp_path: Path, clock: FixedClock) -> None:
    """A UPI QR nobody paid yet: pending, then older than a minute, then ten."""
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        await rt.gateway.charge(UPI_QR)
        app = create_app(rt, repair_on_start=False, poll_every_s=None)
        name, pending = "paygate_open_payments", {"method": "upi", "status": "pending"}
        samples = await scrape(app)
        assert value(samples, name, older_than_seconds="0", **pending) == 1
        assert value(samples, name, older_than_seconds="60", **pending) is None
        clock.advance(minutes=11)
        samples = await scrape(app)
        assert value(samples, name, older_than_seconds="600", **pending) == 1
        assert value(samples, name, older_than_seconds="3600", **pending) is None
    finally:
        await rt.aclose()


async def test_the_banks_serve_their_own(tmp_path: Path, clock: FixedClock) -> None:
    """`banks serve`'s app answers /metrics without a key: its hops, the switch's too."""
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        gw = rt.gateway
        await gw.charge(charge(VISA, 100_00))
        await gw.charge(UPI_QR)
        samples = await scrape(rt.banks.asgi_app())
    finally:
        await rt.aclose()
    hop = "paygate_hop_duration_seconds_count"
    for name in ("acquirer", "network", "issuer", "upi_switch"):
        assert value(samples, hop, hop=name), name


def test_quantiles_are_read_as_promql_reads_them() -> None:
    histogram = Histogram()
    assert histogram.quantile(0.5) is None
    for seconds in (0.0004, 0.0004, 0.0009, 0.02):
        histogram.observe(seconds)
    assert histogram.count == 4 and histogram.cumulative()[-1] == ("+Inf", 4)
    assert histogram.quantile(0.5) == BUCKETS[2]  # the 2nd of 4 ends the 0.5 ms bucket
    assert 0.01 < histogram.quantile(0.99) <= 0.025
    histogram.observe(60.0)
    assert histogram.quantile(1.0) == BUCKETS[-1]


def test_no_scrape_fails_on_a_closed_store(runtime: Runtime, clock: FixedClock) -> None:
    watch_open_payments(runtime.records, clock)
    runtime.close()
    assert OPEN_PAYMENTS.counts() == {}
