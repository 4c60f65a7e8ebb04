"""Who is calling: the bearer API key of a terminal, and a limit on failed attempts.

A valid key always gets in. Failed authentications are audited and counted per client
address; past `limit` in `window` that address gets 429 (no longer audited one by one)
until the window slides on. The count is kept in the store, so it holds across every
gateway process on that store and across restarts. The address is the peer's, or the
X-Forwarded-For of a proxy named in the `trusted_proxies` setting (see `serve`).
Valid keys are not held back by their neighbours' failures: terminals of one shop often
share an address, and one misconfigured terminal must not stop the others (the keys
are 256 random bits, so the limit is against noise and log flooding, not guessing).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from gateway_core.audit import AuditLog
from gateway_core.clock import Clock
from gateway_core.service.errors import AuthenticationFailed, RateLimited
from gateway_core.service.keys import ApiKey, ApiKeys
from gateway_core.store.auth_failures import FailedAuthRepository


class FailedAuthLimiter:
    """At most `limit` failed authentications per client address in a sliding `window`,
    counted in `failures` (the store)."""

    def __init__(
        self,
        failures: FailedAuthRepository,
        clock: Clock,
        *,
        limit: int = 10,
        window: timedelta | None = None,
    ) -> None:
        self._failures = failures
        self._clock = clock
        self.limit = limit
        self.window = window or timedelta(minutes=1)

    def _recent(self, address: str, now: datetime) -> list[datetime]:
        return [t for t in self._failures.failures(address) if t > now - self.window]

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None when it is not limited."""
        now = self._clock.now()
        failures = self._recent(address, now)
        if len(failures) < self.limit:
            return None
        return max(1, math.ceil((failures[0] + self.window - now).total_seconds()))

    def failed(self, address: str) -> None:
        """Count one failed authentication."""
        now = self._clock.now()
        self._failures.record(address, now, since=now - self.window)


class Authenticator:
    """Checks `Authorization: Bearer pk_...` and audits what it refuses."""

    def __init__(self, keys: ApiKeys, audit: AuditLog, limiter: FailedAuthLimiter) -> None:
        self._keys = keys
        self._audit = audit
        self.limiter = limiter

    def check(self, token: str | None, address: str) -> ApiKey:
        """The key of a bearer token; raises `AuthenticationFailed` (401) or
        `RateLimited` (429)."""
        verdict = self._keys.verify(token) if token else None
        if verdict is not None and verdict.key is not None:
            return verdict.key
        wait = self.limiter.retry_after(address)
        if wait is not None:
            raise RateLimited(f"too many failed authentications: try again in {wait} s", wait)
        self.limiter.failed(address)
        reason = verdict.reason if verdict else "no bearer token"
        self._audit.record(
            "api",
            "api.auth_failed",
            address,
            reason=reason,
            key=verdict.key_id if verdict else None,
        )
        raise AuthenticationFailed("the API key is missing, unknown or revoked")
