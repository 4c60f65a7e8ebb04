"""The fraud features are the same in training (a history replayed) and at payment time
(the risk engine's attempts, fed one by one and rebuilt from the store on open)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_core.fraud.features import FEATURES, Attempt, FeatureState
from gateway_core.fraud.history import HistoryRecord
from gateway_core.fraud.hook import FraudHook
from gateway_core.fraud.training import feature_rows
from gateway_core.risk import RiskEngine
from gateway_core.risk_models import Context, ModelReason, ModelSettings, RiskLimits

IST = timezone(timedelta(hours=5, minutes=30))
START = datetime(2026, 3, 2, 9, 0, tzinfo=IST)
BINS = {"424242": "IN", "555555": "IN", "414720": "US", "": ""}
CARDS = [("fp_a", "424242"), ("fp_b", "555555"), ("fp_c", "414720"), ("fp_upi", "")]


class Rows:
    """A stand-in model that keeps the rows it was asked to score."""

    class info:  # what FraudModel.info offers the hook
        version = 1

    def __init__(self) -> None:
        self.rows: list[list[float]] = []

    def explain(self, row: list[float], currency: str) -> tuple[int, list[ModelReason]]:
        self.rows.append(list(row))
        return 0, [ModelReason(feature=FEATURES[0], text="amount", weight=0.0)]


class ListRisk:
    """A risk repository in a list (the store's, without the files)."""

    def __init__(self) -> None:
        self.docs: list[dict] = []
        self.stats: dict = {}

    def events(self):
        return iter([dict(d) for d in self.docs])

    def add_event(self, merchant_id, event) -> None:
        self.docs.append(dict(event))

    def attempts(self, merchant_id, day, **match):
        return None  # one process: the engine remembers its attempts itself

    def blocks(self) -> list:
        return []

    def add_block(self, merchant_id, block) -> None:
        raise AssertionError("relaxed limits block nothing")

    def ticket(self, merchant_id, currency):
        return None

    def add_ticket(self, merchant_id, currency, amount) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at


attempt = st.tuples(
    st.integers(0, 3 * 3600),  # seconds after the one before
    st.sampled_from(CARDS),
    st.sampled_from(["T1", "T2", "T3"]),
    st.integers(1_00, 5_00_000_00),
    st.booleans(),  # declined
)


def same(a: list[float], b: list[float]) -> bool:
    return all(
        (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
        for x, y in zip(a, b, strict=True)
    )


def hook(model: Rows) -> FraudHook:
    return FraudHook(
        model,  # type: ignore[arg-type]
        ModelSettings(mode="shadow"),
        tz=IST,
        merchant_country="IN",
        country_of=BINS.get,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(attempt, min_size=1, max_size=40))
def test_features_are_the_same_in_training_and_at_payment_time(steps) -> None:
    at, records, contexts = START, [], []
    for gap, (card, bin6), terminal, amount, declined in steps:
        at += timedelta(seconds=gap)
        a = Attempt(at, card, terminal, amount, bin6, "", BINS[bin6], declined)
        records.append(HistoryRecord(id=f"h{len(records)}", attempt=a, last4="", currency="INR"))
        contexts.append(
            Context(
                fingerprint=card,
                bin6=bin6,
                terminal_id=terminal,
                amount=amount,
                currency="INR",
                at=at,
                payer="card" if bin6 else "UPI ID",
            )
        )
    trained = feature_rows(records, IST, "IN")

    state, clock, model = ListRisk(), Clock(), Rows()
    engine = RiskEngine(state, RiskLimits.relaxed(), clock, IST)
    engine.attach(hook(model))
    for ctx, r in zip(contexts, records, strict=True):
        clock.at = ctx.at
        verdict = engine.assess(ctx)
        assert verdict.model is not None and verdict.model.mode == "shadow"
        engine.record(ctx, "declined" if r.attempt.declined else "approved")
    assert len(model.rows) == len(records)
    for row, expected in zip(model.rows, trained, strict=True):
        assert same(row, list(expected))

    # reopened: the state rebuilt from the stored attempts scores the next one alike
    probe = contexts[-1].model_copy(update={"at": contexts[-1].at + timedelta(minutes=5)})
    clock.at = probe.at
    engine.assess(probe)
    again, model2 = RiskEngine(state, RiskLimits.relaxed(), clock, IST), Rows()
    again.attach(hook(model2))
    again.assess(probe)
    assert same(model.rows[-1], model2.rows[-1])


def test_counts_windows_and_terminal_risk_respect_time() -> None:
    state = FeatureState(tz=IST, merchant_country="IN")
    index = {name: i for i, name in enumerate(FEATURES)}
    for i in range(6):
        a = Attempt(START + timedelta(minutes=i), f"c{i}", "T1", 10_00, "424242", declined=True)
        state.learn(a)
        state.label("T1", START + timedelta(days=3))
    probe = Attempt(START + timedelta(minutes=7), "c9", "T1", 20_00, "424242")
    row = state.features(probe)
    assert row[index["terminal_cards_10m"]] == 7  # six cards before, and this one
    assert row[index["terminal_declines_1h"]] == 6
    assert row[index["terminal_risk"]] == 0  # the chargebacks have not arrived yet
    assert math.isnan(row[index["amount_ratio"]])  # a card never seen
    later = Attempt(START + timedelta(days=4), "c0", "T1", 40_00, "424242")
    row = state.features(later)
    assert row[index["terminal_cards_10m"]] == 1
    assert row[index["terminal_risk"]] > 0  # now they have
    assert row[index["amount_ratio"]] == 4.0
    assert row[index["card_count_7d"]] == 2 and row[index["card_count_1h"]] == 1


def test_a_rebuild_learns_the_last_90_days_and_skips_what_it_cannot_use() -> None:
    h = hook(Rows())

    def doc(day: datetime, card: str, **extra) -> dict:
        base = {"day": day.date().isoformat(), "at": day.isoformat(), "fingerprint": card}
        return {**base, "terminal_id": "T1", "outcome": "approved", **extra}

    old, new = START - timedelta(days=100), START
    events = [
        doc(old, "fp_old", amount=100, bin6="424242"),
        doc(new, "fp_no_amount"),  # stored before a model: no amount
        doc(new, "", amount=100, bin6=""),  # a UPI QR no one paid
        doc(new, "fp_new", amount=100, bin6="424242"),
    ]
    h.rebuild(events, lambda merchant: "M")
    assert list(h.state._cards) == ["M/fp_new"]
