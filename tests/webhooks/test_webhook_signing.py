"""The signature a merchant's receiver checks: good, tampered, stale, wrong secret."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import pytest

from gateway_core.webhooks import SignatureError, sign, verify

SECRET = "whsec_test_secret"
BODY = b'{"id":"evt_1","type":"payment.succeeded"}'
T = 1_796_000_000


def test_a_good_signature_gives_the_event():
    assert verify(BODY, sign(SECRET, T, BODY), SECRET, now=T + 299) == {
        "id": "evt_1",
        "type": "payment.succeeded",
    }
    assert verify(BODY.decode(), sign(SECRET, T, BODY), SECRET, now=T - 299)["id"] == "evt_1"


def test_the_header_is_hmac_sha256_of_t_dot_body_as_written_out():
    """The same check without the helper (what a receiver in another language does)."""
    header = sign(SECRET, T, BODY)
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(SECRET.encode(), f"{fields['t']}.".encode() + BODY, hashlib.sha256)
    assert fields == {"t": str(T), "v1": expected.hexdigest()}


@pytest.mark.parametrize(
    ("body", "header", "secret", "now", "why"),
    [
        (BODY.replace(b"succeeded", b"declined"), sign(SECRET, T, BODY), SECRET, T, "not match"),
        (BODY, sign(SECRET, T, BODY), "whsec_another", T, "not match"),
        (BODY, sign(SECRET, T, BODY), SECRET, T + 301, "over 300 s"),
        (BODY, sign(SECRET, T, BODY), SECRET, T - 301, "over 300 s"),
        (BODY, sign(SECRET, T, BODY).replace(f"t={T}", f"t={T + 1}"), SECRET, T, "not match"),
        (BODY, None, SECRET, T, "no valid"),
        (BODY, "v1=abc", SECRET, T, "no valid"),
        (BODY, f"t=x,v1={'0' * 64}", SECRET, T, "no valid"),
        (b"not json", sign(SECRET, T, b"not json"), SECRET, T, "not JSON"),
    ],
    ids=[
        "tampered",
        "wrong-secret",
        "stale",
        "future",
        "time-moved",
        "none",
        "no-t",
        "bad-t",
        "json",
    ],
)
def test_a_bad_signature_is_refused_in_one_line(body, header, secret, now, why):
    with pytest.raises(SignatureError, match=why) as refused:
        verify(body, header, secret, now=now)
    assert "\n" not in str(refused.value) and secret not in str(refused.value)


def test_any_of_several_signatures_may_match_and_the_tolerance_is_the_callers():
    header = f"t={T},v1={'0' * 64},{sign(SECRET, T, BODY).split(',')[1]}"
    assert verify(BODY, header, SECRET, now=T)["id"] == "evt_1"
    with pytest.raises(SignatureError):
        verify(BODY, sign(SECRET, T, BODY), SECRET, now=T + 61, tolerance_s=60)


def test_the_check_written_out_in_the_docs_agrees_with_the_helper():
    docs = (Path(__file__).parents[2] / "docs" / "CONNECTORS.md").read_text(encoding="utf-8")
    (written_out,) = [b for b in docs.split("```python")[1:] if "def check(" in b]
    scope: dict = {}
    exec(written_out.split("```")[0], scope)  # the docs' own code, as a receiver copies it
    now = int(time.time())
    assert scope["check"](BODY, sign(SECRET, now, BODY), SECRET)
    assert not scope["check"](BODY + b" ", sign(SECRET, now, BODY), SECRET)
    assert not scope["check"](BODY, sign(SECRET, now - 301, BODY), SECRET)
    assert not scope["check"](BODY, sign("whsec_other", now, BODY), SECRET)
