"""The console's Health view, in figures: payments decided and their rate, the approval
rate per issuer, each hop's p50 and p99, reversals, timeouts and the store's syncs,
read from this process's recorders (the embedded banks count into them too) with the
readiness checks the caller made (`/readyz`'s)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from gateway_core.observe import recorders

HOP_ORDER = ("gateway", "acquirer", "network", "issuer", "upi_switch", "netbanking")


@dataclass(frozen=True)
class IssuerFigures:
    """An issuer's decisions: approved and declined (outages included)."""

    issuer: str
    approved: int
    declined: int

    @property
    def rate(self) -> float | None:
        decided = self.approved + self.declined
        return self.approved / decided if decided else None


@dataclass(frozen=True)
class HopFigures:
    """A hop's observations and their p50 and p99, in seconds (None: none yet)."""

    hop: str
    count: int
    p50: float | None
    p99: float | None


@dataclass(frozen=True)
class Health:
    """One reading of the Health view."""

    at: datetime
    decided: int  # payments decided since the process started
    per_minute: float | None  # since an earlier reading (None: the first, or no time)
    issuers: list[IssuerFigures]
    hops: list[HopFigures]
    reversals: int
    timeouts: int
    syncs: HopFigures  # the store's fdatasyncs
    checks: dict[str, str] = field(default_factory=dict)  # /readyz's: "ok" or what is wrong


def read_health(at: datetime, since: Health | None, checks: dict[str, str]) -> Health:
    """The recorders now, the rate since an earlier reading."""
    m = recorders.METRICS
    approved: Counter[str] = Counter()
    declined: Counter[str] = Counter()
    for (_, outcome, _, issuer), n in list(m.payments.items()):
        if outcome == "approved":
            approved[issuer] += n
        elif outcome == "declined":
            declined[issuer] += n
    decided = sum(m.payments.values())
    per_minute = None
    if since is not None and (seconds := (at - since.at).total_seconds()) > 0:
        per_minute = (decided - since.decided) * 60 / seconds
    issuers = [
        IssuerFigures(issuer, approved[issuer], declined[issuer])
        for issuer in sorted(approved.keys() | declined.keys())
    ]
    known = [hop for hop in HOP_ORDER if hop in m.hops]
    hops = [_figures(hop, m.hops[hop]) for hop in [*known, *sorted(set(m.hops) - set(known))]]
    with m.lock:
        syncs = _figures("fdatasync", m.syncs)
    return Health(
        at=at,
        decided=decided,
        per_minute=per_minute,
        issuers=issuers,
        hops=hops,
        reversals=sum(m.reversals.values()),
        timeouts=sum(m.timeouts.values()),
        syncs=syncs,
        checks=checks,
    )


def _figures(name: str, histogram: recorders.Histogram) -> HopFigures:
    return HopFigures(name, histogram.count, histogram.quantile(0.5), histogram.quantile(0.99))
