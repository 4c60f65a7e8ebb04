"""How paygate signs a webhook, and the check a merchant's receiver makes (`verify`).

One header, as Stripe's: `Paygate-Signature: t=<unix seconds>,v1=<hex>`, where hex is
HMAC-SHA256 under the endpoint's secret (`whsec_...`, the whole text as UTF-8) of
`"<t>.<body>"`, body being the exact bytes received. `Paygate-Event-Id` names the event
(the same on every attempt and replay: a receiver drops the ones it already has).
This module needs only the standard library: a merchant's code may import it alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SIGNATURE_HEADER = "Paygate-Signature"
EVENT_ID_HEADER = "Paygate-Event-Id"
TOLERANCE_S = 300  # a signature older (or newer) than this is refused: a replayed request


class SignatureError(ValueError):
    """A webhook whose signature header, timestamp or body does not check out."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Paygate-Signature` header's value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    body: bytes | str,
    header: str | None,
    secret: str,
    *,
    tolerance_s: int = TOLERANCE_S,
    now: float | None = None,
) -> dict[str, Any]:
    """The event a webhook carries, once its `Paygate-Signature` header proves it was
    signed with `secret` for exactly `body` within `tolerance_s` seconds of `now` (the
    machine's clock by default); `SignatureError` (one line) otherwise. Any of several
    `v1=` values may match (a secret being rolled)."""
    raw = body.encode() if isinstance(body, str) else body
    parts = [p.strip().partition("=") for p in (header or "").split(",")]
    stamps = [v for k, _, v in parts if k == "t"]
    given = [v for k, _, v in parts if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not given:
        raise SignatureError(f"no valid {SIGNATURE_HEADER} header (t=...,v1=...)")
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        raise SignatureError(f"the signature's time is over {tolerance_s} s from now (a replay?)")
    expected = signature(secret, timestamp, raw)
    if not any(hmac.compare_digest(expected, v) for v in given):
        raise SignatureError("the signature does not match the body (tampered, or another secret)")
    try:
        event: dict[str, Any] = json.loads(raw)
    except ValueError:
        raise SignatureError("the body is not JSON") from None
    return event
