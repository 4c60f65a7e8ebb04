"""OpenTelemetry traces, set up from the standard `OTEL_*` variables (`configure`):
`OTEL_TRACES_EXPORTER` = `none` (the default here: no tracer, nothing made, nothing
imported), `console` (each span as one JSON line on stdout, for a demo; stderr stays
the logs'), `otlp` (when the
opentelemetry-exporter-otlp package is installed; its `OTEL_EXPORTER_OTLP_*` variables
apply), several separated by commas. `OTEL_SERVICE_NAME` (default `paygate`),
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER` and `OTEL_PROPAGATORS` are the SDK's.

A payment's spans: `gateway.charge` (under the request's server span in `paygate
serve`), the banks' server span when they are reached over HTTP (the bank client sends
the W3C `traceparent` header, the banks' app reads it), then the hops `acquirer`,
`network`, `issuer` (or `upi_switch`), timed where the banks time them. In process
(embedded banks, the card calls without HTTP) the context flows with the call: one
trace holds it all.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from gateway_core.errors import InputError

if TYPE_CHECKING:  # the SDK is imported only when tracing is on
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

EXPORTERS = ("none", "console", "otlp")
PROBES = frozenset({"/metrics", "/healthz", "/readyz", "/health"})  # no span: scraped often
_tracer: Tracer | None = None
_provider: TracerProvider | None = None
_OFF: contextlib.nullcontext[None] = contextlib.nullcontext()


def configure(environ: Mapping[str, str] = os.environ) -> None:
    """Turn tracing on or off as `environ` says (`InputError`: an exporter unknown or
    not installed)."""
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "none").split(",")]
    names = [n for n in names if n and n != "none"]
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true" or not names:
        install(None)
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    service = environ.get("OTEL_SERVICE_NAME") or "paygate"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    for name in names:
        exporter = _exporter(name)
        simple = name == "console"  # a demo prints each span as it ends
        provider.add_span_processor(
            SimpleSpanProcessor(exporter) if simple else BatchSpanProcessor(exporter)
        )
    install(provider)


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(formatter=_one_line)
    if name == "otlp":
        try:  # an optional package: imported by name
            otlp = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
        except ImportError:
            raise InputError(
                "OTEL_TRACES_EXPORTER=otlp needs the opentelemetry-exporter-otlp-proto-http "
                "package (pip install it), or use console or none"
            ) from None
        exporter: SpanExporter = otlp.OTLPSpanExporter()
        return exporter
    raise InputError(f"OTEL_TRACES_EXPORTER: no exporter {name!r} (use {', '.join(EXPORTERS)})")


def _one_line(span: ReadableSpan) -> str:
    line: str = span.to_json(indent=None)
    return line + "\n"


def install(provider: TracerProvider | None) -> None:
    """Trace into `provider` from now on (None: no tracing); the previous one is flushed
    and shut down. Tests install one with an in-memory exporter."""
    global _tracer, _provider
    previous, _provider = _provider, provider
    _tracer = None if provider is None else provider.get_tracer("paygate")
    if previous is not None and previous is not provider:
        previous.shutdown()


def active() -> bool:
    """Whether spans are being made."""
    return _tracer is not None


def span(
    name: str, attributes: Mapping[str, str] | None = None
) -> contextlib.AbstractContextManager[Any]:
    """A span around the block, a child of the current one (nothing when tracing is off)."""
    if _tracer is None:
        return _OFF
    return _tracer.start_as_current_span(name, attributes=attributes)


def past_span(name: str, seconds: float) -> None:
    """A span that ended now and lasted `seconds` (a hop timed where it happened)."""
    if _tracer is None:
        return
    end = time.time_ns()
    _tracer.start_span(name, start_time=end - int(seconds * 1e9)).end(end_time=end)


def headers() -> dict[str, str] | None:
    """The headers that carry the current span to a server (its W3C `traceparent`),
    None when tracing is off."""
    if _tracer is None:
        return None
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


@contextlib.contextmanager
def incoming(name: str, path: str, headers: Mapping[str, str]) -> Iterator[None]:
    """A server span around a request, a child of the trace its `traceparent` header
    names (a new trace without one); none for a probe or a scrape (`PROBES`)."""
    if _tracer is None or path in PROBES:
        yield
        return
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    with _tracer.start_as_current_span(name, context=extract(headers), kind=SpanKind.SERVER):
        yield


def trace_id() -> str | None:
    """The current span's trace id (32 hex digits), None outside a span or when off."""
    if _tracer is None:
        return None
    from opentelemetry.trace import get_current_span

    context = get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
