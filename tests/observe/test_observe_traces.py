"""Traces (issue 20): one trace id from the gateway to the bank, whether the banks are in
process (the card calls without HTTP), served on their own (the `traceparent` header
carried over real HTTP to a bank app on a loopback port), or the payment came to
`paygate serve` with a `traceparent` of its own; the trace id is on the payment. With
tracing off (the default), nothing is made and a payment outside a request has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support import charge, gateway_settings, open_runtime

from bank_sim.embedded import simulated_banks
from bank_sim.processors.server import LoopbackServer
from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.observe import tracing
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.keys import ApiKeys

VISA = card_for("4242424242424242")
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
HOPS = {"acquirer", "network", "issuer"}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for the test; off again after it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(None)


def trace_of(span: ReadableSpan) -> str:
    return format(span.context.trace_id, "032x")


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


async def test_one_trace_in_process(
    tmp_path: Path, clock: FixedClock, spans: InMemorySpanExporter
) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        payment = await rt.gateway.charge(charge(VISA, 100_00))
    finally:
        await rt.aclose()
    named = by_name(spans)
    assert {"gateway.charge", *HOPS} <= set(named)
    assert {trace_of(s) for s in spans.get_finished_spans()} == {payment.trace_id}
    root = named["gateway.charge"]
    assert all(named[hop].parent.span_id == root.context.span_id for hop in HOPS)


async def test_one_trace_over_http_to_banks_served_apart(
    tmp_path: Path, clock: FixedClock, spans: InMemorySpanExporter
) -> None:
    """The banks on their own port (uvicorn, another thread: nothing shared with the
    gateway but the `traceparent` header)."""
    settings = gateway_settings(tmp_path / "data", 5.0)
    banks = simulated_banks.open(settings.model_copy(update={"data_dir": tmp_path / "b"}), clock)
    server = LoopbackServer(banks.asgi_app())
    url = server.start()
    try:
        rt = open_runtime(settings.model_copy(update={"bank_url": url}), clock=clock)
        try:
            payment = await rt.gateway.charge(charge(VISA, 100_00))
        finally:
            await rt.aclose()
    finally:
        server.stop()
        banks.close()
    assert payment.status == "succeeded"
    named = by_name(spans)
    served = named["banks POST acquirer"]
    assert served.kind.name == "SERVER"
    assert served.parent.span_id == named["gateway.charge"].context.span_id
    assert all(named[hop].parent.span_id == served.context.span_id for hop in HOPS)
    assert {trace_of(s) for s in spans.get_finished_spans()} == {payment.trace_id}


async def pay_over_the_api(rt: Runtime) -> httpx.Response:
    """A card sale through `paygate serve`'s app, with the caller's `traceparent`."""
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    key = keys.issue("PAYGATEDEMO0001", "TERM0001", actor="owner")[1]
    await board_merchants(rt.gateway.bank, keys)
    app = create_app(rt, repair_on_start=False, poll_every_s=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        return await client.post(
            "/v1/payments",
            json={
                "amount": 100_00,
                "card": {"number": VISA.pan, "expiry": "12/30", "cvv": VISA.cvv},
            },
            headers={
                "Authorization": f"Bearer {key}",
                "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
            },
        )


async def test_the_callers_traceparent_names_the_trace(
    tmp_path: Path, clock: FixedClock, spans: InMemorySpanExporter
) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        response = await pay_over_the_api(rt)
    finally:
        await rt.aclose()
    assert response.status_code == 200, response.text
    assert response.json()["trace_id"] == TRACE
    named = by_name(spans)
    assert named["POST /v1/payments"].parent.span_id == int("00f067aa0ba902b7", 16)
    assert {trace_of(named[name]) for name in ("gateway.charge", *HOPS)} == {TRACE}


async def test_off_by_default(tmp_path: Path, clock: FixedClock) -> None:
    """No span is made; a payment taken in a request keeps the request's trace id (its
    `traceparent`'s, as its log lines), one taken outside none."""
    tracing.configure({})
    assert not tracing.active() and tracing.headers() is None
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        payment = await rt.gateway.charge(charge(VISA, 100_00))
        response = await pay_over_the_api(rt)
    finally:
        await rt.aclose()
    assert payment.trace_id is None
    assert response.json()["trace_id"] == TRACE


def test_exporters_come_from_the_standard_variables() -> None:
    try:
        tracing.configure({"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "gw-1"})
        assert tracing.active()
        tracing.configure({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"})
        assert not tracing.active()
        with pytest.raises(InputError, match="no exporter 'zipkin'"):
            tracing.configure({"OTEL_TRACES_EXPORTER": "zipkin"})
    finally:
        tracing.install(None)


async def test_probes_and_scrapes_make_no_span(
    tmp_path: Path, clock: FixedClock, spans: InMemorySpanExporter
) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        app = create_app(rt, repair_on_start=False, poll_every_s=None)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            for path in ("/healthz", "/readyz", "/metrics", "/v1/payments"):
                await client.get(path)
    finally:
        await rt.aclose()
    assert [span.name for span in spans.get_finished_spans()] == ["GET /v1/payments"]
