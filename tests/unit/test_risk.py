"""Risk rules: card testing, velocity, repeated declines, OTP thresholds, review."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bank_sim.testcards import bin_country
from gateway_core.risk import RiskEngine
from gateway_core.risk_models import Context, RiskLimits
from gateway_core.store.state import TinyRiskRepository


def state(runtime) -> TinyRiskRepository:
    return TinyRiskRepository(runtime.store)


@pytest.fixture
def engine(runtime, clock) -> RiskEngine:
    return RiskEngine(
        state(runtime), RiskLimits(), clock, runtime.settings.tz, country_of=bin_country
    )


def ctx(clock, fp="fp-a", terminal="TERM0001", amount=500_00, bin6="424242") -> Context:
    return Context(
        fingerprint=fp,
        bin6=bin6,
        terminal_id=terminal,
        amount=amount,
        currency="INR",
        at=clock.now(),
    )


def test_an_ordinary_payment_is_allowed_with_score_zero(engine, clock):
    verdict = engine.assess(ctx(clock))
    assert (verdict.action, verdict.score, verdict.factors) == ("allow", 0, [])


def test_card_testing_burst_pauses_the_terminal_until_the_pause_ends(engine, clock):
    for i in range(5):  # five declines, five different cards, one terminal
        assert engine.assess(ctx(clock, fp=f"card-{i}")).action == "allow"
        engine.record(ctx(clock, fp=f"card-{i}"), "declined")
        clock.advance(seconds=30)
    verdict = engine.assess(ctx(clock, fp="card-new"))
    assert (verdict.action, verdict.rule) == ("block", "card_testing")
    assert "5 declines in 10 minutes" in verdict.reason
    assert engine.assess(ctx(clock, fp="card-new", terminal="TERM0002")).action == "allow"
    clock.advance(minutes=15, seconds=-31)  # the pause started at the fifth decline
    assert engine.assess(ctx(clock, fp="card-new")).action == "block"
    clock.advance(seconds=2)
    assert engine.assess(ctx(clock, fp="card-new")).action == "allow"


def test_four_declines_spread_over_the_window_do_not_pause(engine, clock):
    for i in range(8):
        engine.record(ctx(clock, fp=f"card-{i}"), "declined")
        clock.advance(minutes=3)  # never five within ten minutes
    assert engine.assess(ctx(clock, fp="x")).action == "allow"


def test_velocity_per_minute_and_per_day(engine, clock):
    for _ in range(3):
        engine.record(ctx(clock), "approved")
    verdict = engine.assess(ctx(clock))
    assert (verdict.action, verdict.rule) == ("block", "velocity")
    clock.advance(minutes=1, seconds=1)
    assert engine.assess(ctx(clock)).action == "allow"
    for _ in range(17):
        clock.advance(minutes=2)
        engine.record(ctx(clock), "approved")
    clock.advance(minutes=2)
    assert "today (limit 20)" in engine.assess(ctx(clock)).reason


def test_attempts_out_of_time_order_count_exactly(engine, clock):
    """The per-minute window is found by bisection: an attempt stamped before the last one
    (a clock stepped back, a slow process) still lands in its place."""
    now = ctx(clock)
    engine.record(now, "approved")
    engine.record(now.model_copy(update={"at": now.at - timedelta(minutes=5)}), "approved")
    engine.record(now.model_copy(update={"at": now.at - timedelta(seconds=30)}), "approved")
    assert engine.assess(ctx(clock)).action == "allow"  # 2 in the last minute (limit 3)
    engine.record(now.model_copy(update={"at": now.at - timedelta(seconds=10)}), "approved")
    verdict = engine.assess(ctx(clock))
    assert (verdict.rule, verdict.reason.split()[0]) == ("velocity", "3")


def test_repeated_declines_block_the_card_for_the_rest_of_the_day(engine, clock):
    for _ in range(3):
        engine.record(ctx(clock, fp="bad"), "declined")
        clock.advance(minutes=2)
    verdict = engine.assess(ctx(clock, fp="bad", terminal="TERM0003"))
    assert (verdict.action, verdict.rule) == ("block", "repeated_declines")
    assert "until 00:00" in verdict.reason
    assert [b.scope for b in engine.blocks()] == ["card"]
    clock.advance(hours=14)  # past midnight in Asia/Kolkata
    assert engine.assess(ctx(clock, fp="bad")).action == "allow"


def test_step_up_threshold_asks_for_otp(engine, clock):
    assert engine.assess(ctx(clock, amount=5_000_00)).action == "allow"
    verdict = engine.assess(ctx(clock, amount=5_000_01))
    assert (verdict.action, verdict.rule, verdict.score) == ("otp", "step_up_threshold", 20)


def test_amount_far_above_the_usual_ticket_asks_for_otp(engine, clock):
    for i in range(20):
        engine.record(ctx(clock, fp=f"c{i}", amount=100_00), "approved")
    assert engine.assess(ctx(clock, fp="n", amount=1_000_00)).action == "allow"
    verdict = engine.assess(ctx(clock, fp="n", amount=1_000_01))
    assert (verdict.action, verdict.rule) == ("otp", "unusual_ticket")


def test_foreign_card_is_flagged_for_review_but_goes_on(engine, clock):
    verdict = engine.assess(ctx(clock, bin6="378282"))
    assert (verdict.action, verdict.review, verdict.rule) == ("allow", True, "foreign_card")
    assert verdict.factors[0].reason == "card issued in US, merchant in IN"


def test_allow_list_beats_block_and_review(runtime, clock):
    limits = RiskLimits(allowed_cards=("trusted",))
    engine = RiskEngine(state(runtime), limits, clock, runtime.settings.tz, country_of=bin_country)
    for _ in range(3):
        engine.record(ctx(clock, fp="trusted", bin6="378282"), "declined")
    verdict = engine.assess(ctx(clock, fp="trusted", bin6="378282", amount=6_000_00))
    assert verdict.action == "otp"  # OTP rules run before allow rules
    assert [f.rule for f in verdict.factors] == ["step_up_threshold", "allow_list"]
    assert not verdict.review


def test_state_survives_a_restart(runtime, clock, engine):
    for i in range(5):
        engine.record(ctx(clock, fp=f"card-{i}"), "declined")
    again = RiskEngine(
        state(runtime), RiskLimits(), clock, runtime.settings.tz, country_of=bin_country
    )
    assert again.assess(ctx(clock, fp="z")).rule == "card_testing"
    clock.advance(minutes=16)
    assert again.assess(ctx(clock, fp="z")).action == "allow"
