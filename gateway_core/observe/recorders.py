"""What the payment path counts, in plain Python (no lock, no third-party import: an
increment costs what a dict update costs); `metrics` turns it into Prometheus series when
scraped and `health` into the console's figures.

`METRICS` is the process's one set (the embedded banks count into it too); a test may
replace it with a fresh `Recorders`.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

# Upper bounds, in seconds: 100 µs (a hop in process) to 10 s (a bank's deadline).
BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


class Histogram:
    """Observations counted per bucket of `BUCKETS` (the last one: above them all)."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, observations at or below it) pairs, `+Inf` last: Prometheus's."""
        pairs, running = [], 0
        for bound, n in zip([*map(str, BUCKETS), "+Inf"], self.counts, strict=True):
            running += n
            pairs.append((bound, running))
        return pairs

    def quantile(self, q: float) -> float | None:
        """The `q` quantile, interpolated in its bucket as PromQL's `histogram_quantile`
        does (None with no observation; the highest bound when above them all)."""
        total = self.count
        if total == 0:
            return None
        rank, below = q * total, 0
        for n, (bound, count) in enumerate(zip(BUCKETS, self.counts, strict=False)):
            if below + count >= rank and count:
                low = BUCKETS[n - 1] if n else 0.0
                return low + (bound - low) * (rank - below) / count
            below += count
        return BUCKETS[-1]


# (method, outcome, response code, issuer) → payments decided
PaymentKey = tuple[str, str, str, str]


@dataclass
class Recorders:
    """Every counter and histogram of one process."""

    payments: Counter[PaymentKey] = field(default_factory=Counter)
    reversals: Counter[tuple[str, str]] = field(default_factory=Counter)  # reason, code
    timeouts: Counter[str] = field(default_factory=Counter)  # the API that did not answer
    risk: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # method, action, by
    hops: dict[str, Histogram] = field(default_factory=dict)
    syncs: Histogram = field(default_factory=Histogram)  # one per fdatasync of a journal
    synced_entries: int = 0  # journal entries those syncs made durable
    lock: threading.Lock = field(default_factory=threading.Lock)  # for the syncs' threads

    def hop(self, name: str) -> Histogram:
        """The latency histogram of a hop (made at its first observation)."""
        found = self.hops.get(name)
        if found is None:
            found = self.hops[name] = Histogram()
        return found


METRICS = Recorders()


def store_synced(seconds: float, entries: int) -> None:
    """A journal's fdatasync took `seconds` and made `entries` entries durable (called
    from the syncing threads: under the recorders' lock). Here, not in `hooks`: the
    store imports nothing of the rest of the core."""
    metrics = METRICS
    with metrics.lock:
        metrics.syncs.observe(seconds)
        metrics.synced_entries += entries
