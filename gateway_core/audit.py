"""The audit log: append-only, hash-chained, keyed.

Each event holds seq, time, actor, action, subject, details (card numbers masked),
the key version, `prev` (the previous event's MAC) and its own `mac`:
HMAC-SHA256 under the key file's `audit` key over the canonical JSON of every other
field. Without the key nobody can forge a MAC, so an edited, inserted, deleted or
reordered event breaks the chain at a seq that `verify` names. The head (last seq
and MAC) is also kept apart from the events, so deleting the newest events shows too.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

import orjson

from gateway_core.cards import PAN_MAX, PAN_MIN, luhn_valid, mask_pan
from gateway_core.clock import Clock, SystemClock, business_day
from gateway_core.keys import KeyFileError
from gateway_core.ports import AuditRepository, KeyProvider

GENESIS = "0" * 64
log = logging.getLogger("paygate.audit")  # each event, for the operators' logs (gateway_core.logs)
# Digit groups joined by one space/dash; a hex digest (32+ hex characters with a letter
# among them) is one token and passes whole, so a hash is never "masked" into garbage.
_DIGIT_RUN = re.compile(
    r"(?P<hex>(?<![0-9A-Za-z])(?=[0-9]*[a-fA-F])[0-9a-fA-F]{32,}(?![0-9A-Za-z]))"
    r"|[0-9]+(?:[ -][0-9]+)*"
)


_FEW = 10 ** (PAN_MIN - 1)  # an int below it in size has too few digits for a card number


def mask_card_numbers(value: Any) -> Any:
    """Replace anything that looks like a full card number with its masked form (a text
    with fewer digits than the shortest card number is returned as it is, unsearched)."""
    if isinstance(value, str):
        if sum(map(value.count, "0123456789")) < PAN_MIN:
            return value
        return _DIGIT_RUN.sub(_mask_run, value)
    if isinstance(value, int) and not isinstance(value, bool):
        if -_FEW < value < _FEW:
            return value
        masked = mask_card_numbers(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, dict):
        return {mask_card_numbers(k): mask_card_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_card_numbers(v) for v in value]
    return value


def _mask_run(match: re.Match[str]) -> str:
    """Mask every Luhn-valid card number made of whole groups of a run of digit groups.

    Neighbouring groups do not hide a card number: "4111 1111 1111 1111 12/30" and
    "ref 12 4111 1111 1111 1111" are masked too (the longest valid number wins).
    """
    if match.group("hex"):
        return match.group()
    parts = re.split(r"([ -])", match.group())
    groups, seps = parts[0::2], parts[1::2]
    out: list[str] = []
    i = 0
    while i < len(groups):
        end, digits = None, ""
        for j in range(i, len(groups)):
            digits += groups[j]
            if len(digits) > PAN_MAX:
                break
            if len(digits) >= PAN_MIN and luhn_valid(digits):
                end = j + 1
        if end is None:
            out.append(groups[i])
            end = i + 1
        else:
            out.append(mask_pan("".join(groups[i:end])))
        if end < len(groups):
            out.append(seps[end - 1])
        i = end
    return "".join(out)


def _mac(key: bytes, event: dict[str, Any]) -> str:
    body = orjson.dumps({k: v for k, v in event.items() if k != "mac"}, option=orjson.OPT_SORT_KEYS)
    return hmac.digest(key, body, "sha256").hex()  # one call in C: no HMAC object


@dataclass(frozen=True)
class Verdict:
    """The outcome of a chain check: `bad_seq` is None when the log is intact."""

    count: int
    bad_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_seq is None

    def __str__(self) -> str:
        if self.ok:
            return f"audit log intact: {self.count} events verified"
        return f"audit log broken at seq {self.bad_seq}: {self.reason}"


class AuditLog:
    """Append events and verify the chain."""

    def __init__(
        self,
        repo: AuditRepository,
        keyring: KeyProvider,
        *,
        clock: Clock | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self._repo = repo
        self._keys = keyring
        self._clock = clock or SystemClock()
        self._tz = tz
        self.resync()

    def resync(self) -> None:
        """Continue the chain from the newest stored event (at open, and after a block of
        writes was rolled back with an event in it)."""
        last = self._repo.last()
        start: tuple[date, dict[str, Any]] = (date.min, {"seq": 0, "mac": GENESIS})
        self._day, event = last or start
        self._seq: int = event["seq"]
        self._prev: str = event["mac"]

    def record(self, actor: str, action: str, subject: str = "", **details: Any) -> dict[str, Any]:
        """Append one event (durable when this returns) and return it: serialized with
        every other appender of the chain (other processes on a database server), from
        where the chain is."""
        with self._repo.serialized() as moved:
            if moved:
                self.resync()
            return self._append(actor, action, subject, details)

    def _append(
        self, actor: str, action: str, subject: str, details: dict[str, Any]
    ) -> dict[str, Any]:
        key = self._keys.current
        event: dict[str, Any] = {
            "seq": self._seq + 1,
            "time": self._clock.now().isoformat(timespec="milliseconds"),
            "actor": mask_card_numbers(actor),
            "action": mask_card_numbers(action),
            "subject": mask_card_numbers(subject),
            "details": mask_card_numbers(details),
            "key_version": key.version,
            "prev": self._prev,
        }
        event["mac"] = _mac(key.audit, event)
        # Never file an event before the last one, even if the clock stepped back.
        day = max(business_day(self._clock, self._tz), self._day)
        self._repo.append(day, event)
        self._repo.set_head({"seq": event["seq"], "mac": event["mac"]})
        self._day, self._seq, self._prev = day, event["seq"], event["mac"]
        if log.isEnabledFor(logging.INFO):
            log.info("%s %s", event["action"], event["subject"], extra={"audit": event})
        return event

    def head(self) -> dict[str, Any]:
        """The chain's newest event: its seq, MAC and the business day it is filed under
        (seq 0 and the genesis MAC for an empty log). A Z report keeps it as an anchor."""
        day = None if self._day == date.min else self._day.isoformat()
        return {"seq": self._seq, "mac": self._prev, "day": day}

    def verify(self) -> Verdict:
        """Walk every event in stored order; name the first seq where the chain breaks."""
        expected, prev = 1, GENESIS
        seen: set[int] = set()
        for _day, event in self._repo.events():
            problem = self._check(event, expected, prev, seen)
            if problem:
                return Verdict(expected - 1, expected, problem)
            seen.add(event["seq"])
            expected, prev = expected + 1, event["mac"]
        head = self._repo.head()
        if head is None and expected > 1:
            return Verdict(
                expected - 1,
                expected,
                "the chain's head is missing (the main database was lost or replaced)",
            )
        if head and head["seq"] >= expected:
            return Verdict(
                expected - 1,
                expected,
                f"events {expected}..{head['seq']} are missing (the log was cut short)",
            )
        return Verdict(expected - 1)

    def _check(self, event: dict[str, Any], expected: int, prev: str, seen: set[int]) -> str:
        try:
            key = self._keys.get(int(event["key_version"]))
            valid = hmac.compare_digest(str(event["mac"]), _mac(key.audit, event))
            seq = event["seq"]
        except (KeyError, TypeError, ValueError, KeyFileError):
            return "event is malformed or signed with an unknown key (edited or inserted)"
        if not valid:
            return f"event stored as seq {seq} fails its MAC (edited or inserted)"
        if seq == expected and event["prev"] == prev:
            return ""
        if seq in seen or seq < expected:
            return f"seq {seq} appears again after seq {expected - 1} (reordered or copied)"
        if seq > expected and self._later(expected):
            return f"seq {seq} comes before seq {expected} (reordered)"
        if seq > expected:
            return f"seq {expected} is missing (deleted)"
        return "event does not follow the one before it (the chain was spliced)"

    def _later(self, seq: int) -> bool:
        return any(event.get("seq") == seq for _day, event in self._repo.events())
