"""The Prometheus face of the recorders: one collector, registered in prometheus-client's
default registry when this module is first imported, that turns `recorders.METRICS`
into series at each scrape (docs/OPERATIONS.md lists them), plus the payments still
open by age, read at scrape from the open index (`watch_open_payments`), never from
the day. `metrics_endpoint` answers `GET /metrics` (text exposition, or OpenMetrics when
asked for) on `paygate serve` and `paygate banks serve` alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from gateway_core.clock import Clock
from gateway_core.observe import recorders
from gateway_core.payments import day_of
from gateway_core.ports import Records

AGES = (0, 60, 600, 3600)  # older_than_seconds: every open payment, then 1 min, 10 min, 1 h


class OpenPayments:
    """The open payments of one store (the last one watched), by method, status and age."""

    def __init__(self) -> None:
        self._source: tuple[Records, Clock] | None = None

    def watch(self, records: Records, clock: Clock) -> None:
        self._source = (records, clock)

    def counts(self) -> Counter[tuple[str, str, int]]:
        """(method, status, older than) → how many; empty when nothing is watched or the
        store cannot be read now (a scrape never fails for it)."""
        counts: Counter[tuple[str, str, int]] = Counter()
        if self._source is None:
            return counts
        records, clock = self._source
        now = clock.now()
        try:
            for payment_id in records.open_payments.ids():
                doc = records.payments.get(day_of(payment_id), payment_id)
                if doc is None:
                    continue
                age = (now - datetime.fromisoformat(str(doc["created_at"]))).total_seconds()
                for limit in AGES:
                    if age >= limit:
                        counts[str(doc["method"]), str(doc["status"]), limit] += 1
        except Exception:  # a closed or failing store: no figure, not a failed scrape
            return Counter()
        return counts


OPEN_PAYMENTS = OpenPayments()


def watch_open_payments(records: Records, clock: Clock) -> None:
    """Report the open payments of `records` at each scrape (`paygate serve` does)."""
    OPEN_PAYMENTS.watch(records, clock)


class PaygateCollector(Collector):
    """Every paygate series, made from the recorders at scrape time."""

    def collect(self) -> Iterator[Metric]:
        m = recorders.METRICS
        payments = CounterMetricFamily(
            "paygate_payments",
            "Payments decided, by method, outcome, response code and issuer",
            labels=["method", "outcome", "response_code", "issuer"],
        )
        for key, n in sorted(m.payments.items()):
            payments.add_metric(list(key), n)
        yield payments
        risk = CounterMetricFamily(
            "paygate_risk_decisions",
            "Risk verdicts of new payments: allow, step_up, review, block; by rules or model",
            labels=["method", "action", "source"],
        )
        for verdict, n in sorted(m.risk.items()):
            risk.add_metric(list(verdict), n)
        yield risk
        reversals = CounterMetricFamily(
            "paygate_reversals",
            "Card reversals (0400) answered, by reason and response code",
            labels=["reason", "response_code"],
        )
        for answer, n in sorted(m.reversals.items()):
            reversals.add_metric(list(answer), n)
        yield reversals
        timeouts = CounterMetricFamily(
            "paygate_bank_timeouts", "Bank calls with no answer in time, by API", labels=["api"]
        )
        for api, n in sorted(m.timeouts.items()):
            timeouts.add_metric([api], n)
        yield timeouts
        hops = HistogramMetricFamily(
            "paygate_hop_duration_seconds",
            "Time spent per hop: gateway (a whole charge), acquirer, network, issuer, "
            "upi_switch, netbanking",
            labels=["hop"],
        )
        for hop, histogram in sorted(m.hops.items()):
            hops.add_metric([hop], histogram.cumulative(), histogram.total)
        yield hops
        with m.lock:
            syncs, entries = m.syncs.cumulative(), m.synced_entries
            total, count = m.syncs.total, m.syncs.count
        fsync = HistogramMetricFamily(
            "paygate_store_fdatasync_duration_seconds",
            "fdatasync of a store journal (one per group commit round)",
        )
        fsync.add_metric([], syncs, total)
        yield fsync
        yield CounterMetricFamily(
            "paygate_store_fdatasyncs", "fdatasyncs of the store journals", value=count
        )
        yield CounterMetricFamily(
            "paygate_store_commits",
            "Store journal entries made durable (entries per fdatasync: the group commit)",
            value=entries,
        )
        yield self._open_payments()

    @staticmethod
    def _open_payments() -> GaugeMetricFamily:
        gauge = GaugeMetricFamily(
            "paygate_open_payments",
            "Payments still open (unknown, requires_action, pending, requires_capture), "
            "by method, status and age (older_than_seconds 0 counts them all)",
            labels=["method", "status", "older_than_seconds"],
        )
        for (method, status, older), n in sorted(OPEN_PAYMENTS.counts().items()):
            gauge.add_metric([method, status, str(older)], n)
        return gauge


COLLECTOR = PaygateCollector()
REGISTRY.register(COLLECTOR)


def exposition(accept: str | None) -> tuple[bytes, str]:
    """Every series of the process, in the format `accept` asks for, and its type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(REGISTRY), content_type


async def metrics_endpoint(request: Request) -> Response:
    """`GET /metrics`: the text exposition format (no key, as /healthz)."""
    body, content_type = exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type)
