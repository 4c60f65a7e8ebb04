"""The issuer's ACS: OTP challenges, the phone outbox, resends, expiry and redemption."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bank_sim.otp import (
    ChallengeClosed,
    ChallengeNotFound,
    OtpError,
    OtpPolicy,
    OtpService,
    Outbox,
    ResendsExhausted,
    ResendTooSoon,
)
from gateway_core.acquirer_api import OtpVerifyResponse
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.presentation import mask_phone
from gateway_core.store import DataStore
from gateway_core.store.documents import Documents

PHONE = "+919800000001"
SECRET = b"s" * 32


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DataStore]:
    with DataStore(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def outbox(store: DataStore, clock: FixedClock) -> Outbox:
    return Outbox(Documents(store.main, "outbox"), clock)


@pytest.fixture
def acs(store: DataStore, outbox: Outbox, clock: FixedClock) -> OtpService:
    table = Documents(store.main, "otp", key="id")
    return OtpService(table, outbox, SECRET, clock=clock, randbelow=random.Random(1).randrange)


def start(acs: OtpService, payment_id: str = "pay_1"):
    return acs.start(payment_id, PHONE, amount_text="INR 12.50", merchant="Paygate Demo Store")


def sms_code(outbox: Outbox, phone: str = PHONE) -> str:
    """Read the code off the phone, like the cardholder does."""
    match = re.search(r": (\d{6}) is your OTP", outbox.messages(phone)[0].text)
    assert match, outbox.messages(phone)[0].text
    return match.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_happy_path(acs: OtpService, outbox: Outbox, clock: FixedClock) -> None:
    ch = start(acs)
    assert ch.id.startswith("ch_")
    assert ch.phone == "+91 98•• ••00 01"
    assert ch.expires_at == clock.now() + timedelta(minutes=5)
    assert (ch.tries_left, ch.resends_left) == (3, 3)
    assert ch.resend_available_at == clock.now() + timedelta(seconds=30)
    [sms] = outbox.messages(PHONE)
    code = sms_code(outbox)
    assert code == f"{random.Random(1).randrange(10**6):06d}"  # the seeded generator
    assert sms.text == (
        f"Paygate Demo Bank: {code} is your OTP for INR 12.50 at Paygate Demo Store. "
        "Valid 5 minutes. Never share it."
    )
    assert sms.at == clock.now()
    result = acs.verify(ch.id, code)
    assert result.status == "authenticated" and result.tries_left == 3
    assert result.authentication
    with pytest.raises(ChallengeClosed, match="already used"):
        acs.verify(ch.id, code)


def test_wrong_then_right(acs: OtpService, outbox: Outbox) -> None:
    ch = start(acs)
    code = sms_code(outbox)
    assert acs.verify(ch.id, wrong(code)) == OtpVerifyResponse(status="wrong_code", tries_left=2)
    assert acs.challenge(ch.id).tries_left == 2
    assert acs.verify(ch.id, f" {code}\n").status == "authenticated"  # pasted with spaces


def test_three_wrong_codes_fail_the_challenge(acs: OtpService, outbox: Outbox) -> None:
    ch = start(acs)
    bad = wrong(sms_code(outbox))
    assert [acs.verify(ch.id, bad).status for _ in range(3)] == [
        "wrong_code",
        "wrong_code",
        "failed",
    ]
    assert acs.challenge(ch.id).tries_left == 0
    with pytest.raises(ChallengeClosed, match="too many wrong codes") as err:
        acs.verify(ch.id, sms_code(outbox))
    assert err.value.status == "failed"
    with pytest.raises(ChallengeClosed):
        acs.resend(ch.id)


def test_expiry_boundary(acs: OtpService, outbox: Outbox, clock: FixedClock) -> None:
    """Valid strictly before `expires_at`; at exactly ttl the code has expired."""
    ch = start(acs)
    code = sms_code(outbox)
    clock.advance(minutes=5, microseconds=-1)
    assert acs.verify(ch.id, wrong(code)).status == "wrong_code"
    clock.advance(microseconds=1)
    assert clock.now() == ch.expires_at
    assert acs.verify(ch.id, code) == OtpVerifyResponse(status="expired", tries_left=2)
    with pytest.raises(ChallengeClosed, match="expired"):
        acs.verify(ch.id, code)


def test_expired_challenge_cannot_be_resent(acs: OtpService, clock: FixedClock) -> None:
    ch = start(acs)
    clock.advance(minutes=5)
    with pytest.raises(ChallengeClosed, match="expired"):
        acs.resend(ch.id)


def test_resend_cooldown_and_limit(acs: OtpService, outbox: Outbox, clock: FixedClock) -> None:
    ch = start(acs)
    first = sms_code(outbox)
    clock.advance(seconds=29)
    with pytest.raises(ResendTooSoon, match=r"wait 1 s\b") as err:
        acs.resend(ch.id)
    assert err.value.wait_seconds == 1
    clock.advance(seconds=0.5)
    with pytest.raises(ResendTooSoon, match=r"wait 1 s\b"):  # rounded up, never "0"
        acs.resend(ch.id)
    clock.advance(seconds=0.5)
    again = acs.resend(ch.id)
    assert again.resends_left == 2
    assert again.expires_at == clock.now() + timedelta(minutes=5)  # fresh ttl
    assert again.resend_available_at == clock.now() + timedelta(seconds=30)
    with pytest.raises(ResendTooSoon, match="wait 30 s"):
        acs.resend(ch.id)
    second = sms_code(outbox)
    assert len(outbox.messages(PHONE)) == 2
    for _ in range(2):
        clock.advance(seconds=30)
        acs.resend(ch.id)
    assert acs.challenge(ch.id).resends_left == 0
    clock.advance(seconds=30)
    with pytest.raises(ResendsExhausted):
        acs.resend(ch.id)
    latest = sms_code(outbox)
    assert len({first, second, latest}) == 3
    assert acs.verify(ch.id, first).status == "wrong_code"  # old codes stop working
    assert acs.verify(ch.id, latest).status == "authenticated"


def test_tries_carry_over_a_resend(acs: OtpService, outbox: Outbox, clock: FixedClock) -> None:
    ch = start(acs)
    acs.verify(ch.id, wrong(sms_code(outbox)))
    clock.advance(seconds=30)
    assert acs.resend(ch.id).tries_left == 2


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "12 456", "-12345"])
def test_malformed_input_uses_no_try(acs: OtpService, outbox: Outbox, typed: str) -> None:
    ch = start(acs)
    with pytest.raises(OtpError, match="enter the 6-digit code"):
        acs.verify(ch.id, typed)
    assert acs.challenge(ch.id).tries_left == 3
    assert acs.verify(ch.id, sms_code(outbox)).status == "authenticated"


def test_unknown_challenge(acs: OtpService) -> None:
    for call in (lambda: acs.verify("ch_nope", "123456"), lambda: acs.resend("ch_nope")):
        with pytest.raises(ChallengeNotFound):
            call()
    with pytest.raises(ChallengeNotFound):
        acs.challenge("ch_nope")


def test_redeem_once_and_only_for_its_payment(acs: OtpService, outbox: Outbox) -> None:
    ch = start(acs, "pay_1")
    auth = acs.verify(ch.id, sms_code(outbox)).authentication
    assert auth is not None
    assert not acs.redeem("pay_2", auth)
    assert not acs.redeem("pay_1", auth + "x")
    assert acs.redeem("pay_1", auth)
    assert not acs.redeem("pay_1", auth)  # second use


def test_redeem_needs_a_passed_challenge(acs: OtpService, outbox: Outbox) -> None:
    ch = start(acs)
    assert not acs.redeem("pay_1", "")
    acs.verify(ch.id, wrong(sms_code(outbox)))
    assert not acs.redeem("pay_1", "aav_guess")


def test_new_challenge_replaces_the_old_one(acs: OtpService, outbox: Outbox) -> None:
    old = start(acs, "pay_1")
    old_code = sms_code(outbox)
    other = start(acs, "pay_2")
    new = start(acs, "pay_1")
    with pytest.raises(ChallengeClosed, match="newer code") as err:
        acs.verify(old.id, old_code)
    assert err.value.status == "replaced"
    assert acs.verify(new.id, sms_code(outbox)).status == "authenticated"
    assert acs.challenge(other.id).tries_left == 3  # another payment's challenge is untouched


def test_replacing_voids_an_unredeemed_authentication(acs: OtpService, outbox: Outbox) -> None:
    ch = start(acs)
    auth = acs.verify(ch.id, sms_code(outbox)).authentication
    start(acs)
    assert auth is not None and not acs.redeem("pay_1", auth)


def test_only_the_outbox_holds_the_code(store: DataStore, acs: OtpService, outbox: Outbox) -> None:
    ch = start(acs)
    code = sms_code(outbox)
    auth = acs.verify(ch.id, code).authentication
    assert auth is not None
    [record] = store.main.table("otp").all()
    assert record["code_hash"] and record["auth_hash"] and "code" not in record
    dumped = json.dumps(record)
    assert code not in dumped and auth not in dumped
    assert code in json.dumps(store.main.table("outbox").all())
    journal = (store.db_dir / "wal.jsonl").read_text(encoding="utf-8")
    otp_lines = [line for line in journal.splitlines() if '"otp"' in line]
    assert otp_lines and not any(code in line or auth in line for line in otp_lines)


def test_errors_never_echo_the_code(acs: OtpService, outbox: Outbox, clock: FixedClock) -> None:
    ch = start(acs)
    code = sms_code(outbox)
    messages = []
    for call in (lambda: acs.resend(ch.id), lambda: acs.verify(ch.id, code + "x")):
        with pytest.raises(OtpError) as err:
            call()
        messages.append(str(err.value))
    clock.advance(minutes=5)
    acs.verify(ch.id, code)
    with pytest.raises(ChallengeClosed) as err:
        acs.verify(ch.id, code)
    messages.append(str(err.value))
    assert all(code not in m and "\n" not in m for m in messages), messages


def test_outbox_newest_first_per_phone(outbox: Outbox, clock: FixedClock) -> None:
    outbox.send("+911111111111", "one")
    clock.advance(seconds=1)
    outbox.send("+912222222222", "two")
    outbox.send("+911111111111", "three")
    assert [m.text for m in outbox.messages("+911111111111")] == ["three", "one"]
    assert [m.text for m in outbox.messages()] == ["three", "two", "one"]
    assert [m.text for m in outbox.messages(limit=1)] == ["three"]
    assert outbox.messages("+913333333333") == []


def test_policy_is_honoured(store: DataStore, outbox: Outbox, clock: FixedClock) -> None:
    policy = OtpPolicy(ttl=timedelta(seconds=90), max_tries=1, digits=4)
    acs = OtpService(
        Documents(store.main, "otp", key="id"), outbox, SECRET, clock=clock, policy=policy
    )
    ch = acs.start("pay_9", PHONE, amount_text="INR 1.00", merchant="Shop")
    text = outbox.messages(PHONE)[0].text
    assert "Valid 90 seconds." in text
    code = re.search(r": (\d{4}) is", text).group(1)  # type: ignore[union-attr]
    with pytest.raises(InputError, match="enter the 4-digit code"):
        acs.verify(ch.id, code + "0")
    assert acs.verify(ch.id, f"{(int(code) + 1) % 10_000:04d}").status == "failed"


def test_secret_must_be_a_real_key(store: DataStore, outbox: Outbox, clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        OtpService(Documents(store.main, "otp", key="id"), outbox, b"short", clock=clock)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=st.one_of(st.text(max_size=12), st.from_regex(r"\s*[0-9]{5,7}\s*", fullmatch=True)))
def test_verify_any_input_answers_or_refuses_cleanly(acs: OtpService, typed: str) -> None:
    ch = start(acs, "pay_h")
    try:
        result = acs.verify(ch.id, typed)
    except InputError as err:  # OtpError is an InputError
        assert str(err) and "\n" not in str(err)
    else:
        assert result.status in {"authenticated", "wrong_code"}


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+919800000001", "+91 98•• ••00 01"),
        ("+91 98000 00001", "+91 98•• ••00 01"),
        ("+14155550123", "+1 41•• ••01 23"),
        ("+447911123456", "+44 79•• ••34 56"),
        ("+971501234567", "+971 50•• •456 7"),
        ("9800000001", "98•• ••00 01"),
        ("12345", "•••• 5"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
