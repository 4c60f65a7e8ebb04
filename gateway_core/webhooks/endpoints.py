"""A merchant's webhook endpoints: added, listed, removed, enabled again, disabled.

Each endpoint has a secret of its own (`whsec_...`, shown once, when it is added). The
gateway needs it again to sign every delivery, so it cannot keep only a hash as it does
for API keys: it keeps it sealed as the vault keeps card numbers (AES-256-GCM under a
key derived from the key file's current `enc` key, the key version beside it), so the
data files alone do not give it away. It is never logged, shown again or put in errors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from gateway_core.audit import AuditLog
from gateway_core.clock import Clock
from gateway_core.errors import InputError
from gateway_core.ports import KeyProvider, Record, WebhookRepository
from gateway_core.webhooks.events import EVENT_TYPES

_PURPOSE = b"paygate webhook secrets v1"
MAX_URL = 2048


class UnknownEndpoint(InputError):
    """No webhook endpoint with that id (for this merchant)."""


class Endpoint(BaseModel):
    """An endpoint as anyone may see it: never its secret. `events`: the event types it
    receives ("*": all); `failing_since`: its first failed attempt since its last 2xx."""

    id: str
    merchant_id: str
    url: str
    events: list[str]
    state: Literal["enabled", "disabled", "removed"]
    created_at: datetime
    created_by: str
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    failures: int = 0  # attempts failed in a row

    def wants(self, kind: str) -> bool:
        return "*" in self.events or kind in self.events


def check_url(url: str) -> str:
    """A URL an endpoint may have: http or https, with a host, no user or password (they
    would be kept in clear); `InputError` (one line) otherwise."""
    import httpx  # what delivers reads the URL (imported here: not on the terminal's start)

    if not url or len(url) > MAX_URL:
        raise InputError(f"a webhook URL has 1 to {MAX_URL} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise InputError("the webhook URL is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError("a webhook URL is http:// or https:// with a host")
    if parsed.userinfo:
        raise InputError("a webhook URL may not hold a user or password")
    return url


def check_events(events: Iterable[str] | None) -> list[str]:
    """The event types asked for (None, empty or "*": all); `InputError` naming the known
    ones for any other."""
    wanted = sorted({e.strip() for e in events or () if e.strip()})
    if not wanted or "*" in wanted:
        return ["*"]
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise InputError(f"no event {unknown[0][:40]!r}: events are {', '.join(EVENT_TYPES)}")
    return wanted


class WebhookEndpoints:
    """The endpoints kept in the store (`WebhookRepository`), their secrets sealed."""

    def __init__(
        self, repo: WebhookRepository, keyring: KeyProvider, audit: AuditLog, clock: Clock
    ) -> None:
        self._repo = repo
        self._keyring = keyring
        self._audit = audit
        self._clock = clock

    def add(
        self, merchant_id: str, url: str, events: Iterable[str] | None, *, actor: str
    ) -> tuple[Endpoint, str]:
        """A new endpoint (it receives the events from now on) and its secret, the only
        time it is ever seen."""
        url, wanted = check_url(url), check_events(events)
        endpoint_id, secret = f"we_{secrets.token_hex(8)}", f"whsec_{secrets.token_urlsafe(32)}"
        endpoint = Endpoint(
            id=endpoint_id,
            merchant_id=merchant_id,
            url=url,
            events=wanted,
            state="enabled",
            created_at=self._clock.now(),
            created_by=actor,
        )
        head = self._audit.head()
        cursor = {"day": head["day"], "seq": head["seq"]}  # what happened before is not sent
        sealed = self._seal(endpoint_id, secret)
        self._repo.add_endpoint(
            {**endpoint.model_dump(mode="json"), "secret": sealed, "cursor": cursor}
        )
        self._audit.record(actor, "webhook.endpoint_added", endpoint_id, events=wanted)
        return endpoint, secret

    def list(self, merchant_id: str | None = None) -> list[Endpoint]:
        """The endpoints (of one merchant, or every one), not those removed."""
        found = [Endpoint.model_validate(r) for r in self._repo.endpoints()]
        return [e for e in found if e.state != "removed" and merchant_id in (None, e.merchant_id)]

    def get(self, endpoint_id: str, merchant_id: str | None = None) -> Endpoint:
        """An endpoint not removed (of `merchant_id` when given)."""
        record = self._repo.endpoint(endpoint_id)
        endpoint = None if record is None else Endpoint.model_validate(record)
        if (
            endpoint is None
            or endpoint.state == "removed"
            or merchant_id
            not in (
                None,
                endpoint.merchant_id,
            )
        ):
            raise UnknownEndpoint(f"no webhook endpoint {endpoint_id[:40]!r}")
        return endpoint

    def remove(self, endpoint_id: str, *, actor: str, merchant_id: str | None = None) -> Endpoint:
        """Stop sending to an endpoint, for good (its delivery log stays)."""
        self.get(endpoint_id, merchant_id)
        self._repo.update_endpoint(endpoint_id, {"state": "removed"})
        self._audit.record(actor, "webhook.endpoint_removed", endpoint_id)
        return Endpoint.model_validate(self._repo.endpoint(endpoint_id))

    def enable(self, endpoint_id: str, *, actor: str, merchant_id: str | None = None) -> Endpoint:
        """Send to a disabled endpoint again: from where it stopped (nothing is lost),
        its failures forgotten."""
        if self.get(endpoint_id, merchant_id).state == "disabled":
            fields = {"state": "enabled", "failing_since": None, "failures": 0}
            self._repo.update_endpoint(endpoint_id, {**fields, "disabled_reason": None})
            self._audit.record(actor, "webhook.endpoint_enabled", endpoint_id)
        return self.get(endpoint_id)

    def disable(self, endpoint_id: str, reason: str) -> None:
        """Stop sending to a failing endpoint until it is enabled again (audited)."""
        now = self._clock.now().isoformat()
        fields = {"state": "disabled", "disabled_at": now, "disabled_reason": reason}
        self._repo.update_endpoint(endpoint_id, fields)
        self._audit.record("webhooks", "webhook.endpoint_disabled", endpoint_id, reason=reason)

    def secret(self, endpoint_id: str) -> str:
        """An endpoint's secret, to sign with (never shown)."""
        record = self._repo.endpoint(endpoint_id)
        if record is None:
            raise UnknownEndpoint(f"no webhook endpoint {endpoint_id[:40]!r}")
        sealed = record["secret"]
        key = self._key(sealed["key_version"])
        opened = AESGCM(key).decrypt(
            base64.b64decode(sealed["nonce"]),
            base64.b64decode(sealed["ciphertext"]),
            _aad(endpoint_id, sealed["key_version"]),
        )
        return opened.decode()

    def _key(self, version: int) -> bytes:
        return hmac.new(self._keyring.get(version).enc, _PURPOSE, hashlib.sha256).digest()

    def _seal(self, endpoint_id: str, secret: str) -> Record:
        version = self._keyring.current.version
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._key(version)).encrypt(
            nonce, secret.encode(), _aad(endpoint_id, version)
        )
        b64 = base64.b64encode
        return {
            "key_version": version,
            "nonce": b64(nonce).decode(),
            "ciphertext": b64(sealed).decode(),
        }


def _aad(endpoint_id: str, version: int) -> bytes:
    return f"{endpoint_id}|v{version}".encode()


def notices(repo: WebhookRepository, merchant_id: str) -> list[str]:
    """One line per disabled endpoint of a merchant, for the console."""
    found = [Endpoint.model_validate(r) for r in repo.endpoints()]
    return [
        f"Webhooks to {urlsplit(e.url).hostname} ({e.id}) are off: "
        f"{e.disabled_reason or 'deliveries failed'}; `paygate webhooks enable {e.id}`"
        for e in found
        if e.state == "disabled" and e.merchant_id == merchant_id
    ]
