"""The fraud model in the payment path: its score and reasons on the payment, its
thresholds deciding (the rules still able to), shadow mode, and no model = rules alone."""

from __future__ import annotations

import json

from fraud_support import install_model
from pydantic import SecretStr
from support import open_runtime

from gateway_core.cards import CardInput
from gateway_core.fraud.hook import attach_model
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import UpiInput
from gateway_core.pciscan import scan
from gateway_core.runtime import Runtime
from gateway_core.service.models import PaymentView
from gateway_core.settings import Settings, load_settings
from paygate_cli.risk import model_status

VISA = "4242 4242 4242 4242"


def sale(amount: int = 250_00) -> ChargeRequest:
    card = CardInput(pan=SecretStr(VISA), expiry="12/30", cvv=SecretStr("123"))
    return ChargeRequest(amount=amount, currency="INR", card=card)


def with_model(settings: Settings, clock, **fraud: object) -> Runtime:
    """A runtime on a data dir with the small model, its thresholds `fraud`."""
    install_model(settings.data_dir)
    tuned = load_settings(data_dir=settings.data_dir, timezone="Asia/Kolkata", fraud=fraud)
    rt = open_runtime(tuned, clock=clock)
    assert rt.gateway.risk.fraud is not None  # attached on open
    return rt


async def test_a_payment_carries_the_score_and_three_reasons_in_words(settings, clock) -> None:
    rt = with_model(settings, clock)
    try:
        paid = await rt.gateway.charge(sale())
        assert paid.status == "succeeded"
        model = paid.risk.model
        assert model is not None and model.mode == "decide" and model.version == 1
        assert 0 <= model.score <= 100 and paid.risk.score == model.score
        assert len(model.reasons) == 3
        assert all(r.text and r.feature for r in model.reasons)
        assert rt.payment(paid.id).risk.model == model  # stored with the payment
        shown = PaymentView.of(paid).model_dump(mode="json")  # what the API returns
        assert shown["risk"]["model"]["reasons"][0]["text"] == model.reasons[0].text
        for _ in range(3):
            clock.advance(minutes=1)
            again = await rt.gateway.charge(sale())
        texts = " ".join(r.text for r in again.risk.model.reasons)
        assert again.risk.model.reasons != model.reasons, texts  # the card has a past now
    finally:
        rt.close()
    assert scan(settings.data_dir) == []  # the model file and the scored payments


async def test_thresholds_decide_block_or_otp(settings, clock) -> None:
    rt = with_model(settings, clock, block_at=0, step_up_at=0)
    try:
        blocked = await rt.gateway.charge(sale())
        assert (blocked.status, blocked.decline_code) == ("declined", "blocked_by_risk")
        assert blocked.risk.rule == "fraud_model" and blocked.risk.action == "block"
        assert blocked.message.startswith("Blocked by risk rule fraud_model: fraud score")
        assert rt.banks.acquirer.record(blocked.id) is None  # no bank contacted
    finally:
        rt.close()
    rt = with_model(settings, clock, block_at=100, step_up_at=0)
    try:
        asked = await rt.gateway.charge(sale())
        assert asked.status == "requires_action" and asked.risk.action == "otp"
        assert asked.risk.rule == "fraud_model"
    finally:
        rt.close()


async def test_the_rules_still_override_the_model(settings, clock) -> None:
    rt = with_model(settings, clock, block_at=100, step_up_at=100)
    try:
        big = await rt.gateway.charge(sale(6_000_00))  # above the rules' OTP threshold
        assert big.risk.action == "otp" and big.risk.rule == "step_up_threshold"
        assert big.risk.model.action == "allow"
    finally:
        rt.close()


async def test_shadow_mode_records_the_score_without_deciding(settings, clock) -> None:
    rt = with_model(settings, clock, mode="shadow", block_at=0, step_up_at=0)
    try:
        paid = await rt.gateway.charge(sale())
        assert paid.status == "succeeded" and paid.risk.action == "allow"
        assert paid.risk.model.mode == "shadow" and paid.risk.model.action == "block"
        assert paid.risk.rule is None and paid.risk.score == 0  # the rules' own
    finally:
        rt.close()


async def test_no_model_file_or_mode_off_leaves_the_rules_alone(runtime, settings) -> None:
    paid = await runtime.gateway.charge(sale())
    assert paid.risk.model is None and runtime.gateway.risk.fraud is None
    assert attach_model(runtime.gateway.risk, settings, country_of=lambda b: None) is None
    install_model(settings.data_dir)
    off = settings.model_copy(update={"fraud": settings.fraud.model_copy(update={"mode": "off"})})
    assert attach_model(runtime.gateway.risk, off, country_of=lambda b: None) is None
    assert runtime.gateway.risk.fraud is None


async def test_the_features_are_rebuilt_from_the_store_on_open(settings, clock) -> None:
    rt = with_model(settings, clock)
    try:
        for _ in range(3):
            await rt.gateway.charge(sale())
            clock.advance(minutes=2)
        before = rt.gateway.risk.fraud.state
    finally:
        rt.close()
    rt = with_model(settings, clock)
    try:
        after = rt.gateway.risk.fraud.state
        assert after is not before
        assert [c.n for c in after._cards.values()] == [c.n for c in before._cards.values()]
    finally:
        rt.close()


async def test_risk_explain_shows_the_score_and_reasons(settings, clock, cli) -> None:
    rt = with_model(settings, clock)
    try:
        paid = await rt.gateway.charge(sale())
    finally:
        rt.close()
    data = settings.data_dir
    shown = cli("risk", "explain", paid.id, "--data-dir", data)
    assert shown.code == 0, shown.err
    assert f"fraud score {paid.risk.model.score}/100 from model 1" in shown.out
    assert paid.risk.model.reasons[0].text in shown.out
    doc = json.loads(cli("risk", "explain", paid.id, "--json", "--data-dir", data).out)
    assert doc["risk"]["model"]["score"] == paid.risk.model.score
    assert len(doc["risk"]["model"]["reasons"]) == 3


def test_a_cli_sale_on_a_data_dir_with_a_model_is_scored(cli, tmp_path) -> None:
    data = tmp_path / "d"
    install_model(data)
    card = ("--card", VISA, "--exp", "12/30", "--cvv", "123")
    sold = cli("charge", "--amount", "250", *card, "--data-dir", data, "--json")
    assert sold.code == 0, sold.err
    payment = json.loads(sold.out)
    assert payment["status"] == "succeeded"
    model = payment["risk"]["model"]
    assert model["mode"] == "decide" and len(model["reasons"]) == 3
    shown = cli("risk", "explain", payment["id"], "--data-dir", data)
    assert f"fraud score {model['score']}/100 from model 1" in shown.out
    rules = cli("risk", "rules", "--data-dir", data).out
    assert "Fraud model: fraud-model-0001.json (decides; OTP at 40, block at 85)" in rules
    bare = model_status(load_settings(data_dir=tmp_path / "bare"))
    assert bare == "Fraud model: not in use (none in the data dir; the rules alone decide)"


async def test_a_upi_qr_nobody_paid_yet_is_left_to_the_rules(settings, clock) -> None:
    rt = with_model(settings, clock)
    try:
        qr = ChargeRequest(amount=100_00, currency="INR", method="upi", upi=UpiInput(flow="qr"))
        pending = await rt.gateway.charge(qr)
        assert pending.status == "pending"
        assert pending.risk is None or pending.risk.model is None  # who pays is not known
    finally:
        rt.close()
