"""Today's risk rules replayed over a history: their score for each attempt.

The rules run as in the gateway (`RiskEngine`), on a state held in memory and a clock
set to each attempt's time; each attempt is then recorded with the bank's answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, tzinfo

from gateway_core.fraud.history import HistoryRecord
from gateway_core.ports import Record
from gateway_core.risk import RiskEngine
from gateway_core.risk_models import Assessment, Context, RiskLimits


class _Clock:
    """The replay's clock: each attempt's time in turn."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class MemoryRiskState:
    """A `RiskRepository` in memory for one merchant's replay; attempts are not kept
    (a replay never resyncs)."""

    def __init__(self) -> None:
        self._blocks: list[Record] = []
        self._tickets: dict[str, Record] = {}

    def events(self) -> Iterator[Record]:
        return iter(())

    def add_event(self, merchant_id: str | None, event: Record) -> None:
        return None

    def attempts(self, merchant_id: str | None, day: date, **match: str) -> list[datetime] | None:
        return None  # the engine's own memory has them: one replay, one process

    def blocks(self) -> list[Record]:
        return self._blocks

    def add_block(self, merchant_id: str | None, block: Record) -> None:
        """Blocks last a day at most: those that ended a day before this one go."""
        gone = (datetime.fromisoformat(block["until"]) - timedelta(days=1)).isoformat()
        self._blocks = [b for b in self._blocks if b["until"] > gone]
        self._blocks.append(block)

    def ticket(self, merchant_id: str | None, currency: str) -> Record | None:
        return self._tickets.get(currency)

    def add_ticket(self, merchant_id: str | None, currency: str, amount: int) -> None:
        doc = self._tickets.setdefault(currency, {"currency": currency, "count": 0, "sum": 0})
        doc["count"] += 1
        doc["sum"] += amount


def rules_verdicts(
    records: Sequence[HistoryRecord], limits: RiskLimits, tz: tzinfo | None
) -> list[Assessment]:
    """The rules' verdict on each record, in order (the BIN table is the history's)."""
    countries = {r.attempt.bin6: r.attempt.country for r in records if r.attempt.bin6}
    clock = _Clock(records[0].attempt.at)
    state = MemoryRiskState()
    engine = RiskEngine(state, limits, clock, tz, country_of=countries.get)
    verdicts = []
    for r in records:
        clock.at = r.attempt.at
        ctx = context_of(r)
        verdict = engine.assess(ctx)
        verdicts.append(verdict)
        engine.record(ctx, "declined" if r.attempt.declined else "approved")
    return verdicts


def context_of(r: HistoryRecord) -> Context:
    """What the risk rules are asked about a simulated attempt."""
    a = r.attempt
    return Context(
        fingerprint=a.card,
        bin6=a.bin6,
        terminal_id=a.terminal,
        amount=a.amount,
        currency=r.currency,
        at=a.at,
        payer="card" if a.bin6 else "UPI ID",
    )
