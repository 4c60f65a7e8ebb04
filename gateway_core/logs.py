"""Logging for every paygate process, set up in one place: `configure_logging(format)`.

`text` (the default) is the standard library's: warnings and errors, the message
alone, on stderr. `ecs` writes one JSON object a line on stderr in Elastic Common Schema
(ecs-logging's formatter), from INFO up, uvicorn's access log included; Filebeat and
Splunk's JSON sourcetype read it as it is (docs/OPERATIONS.md lists the fields):

- every audit event (`paygate.audit`, logged by `AuditLog.record`) becomes `event.action`
  (the audit action), `event.outcome`, `event.sequence` (the audit seq) and, for a
  payment, `transaction.id` (its id);
- the context of the work at hand (`log_context`, `bind_log_context`): `trace.id`,
  `labels.merchant_id`, `labels.terminal_id`;
- a request of the access log becomes `http.*`, `url.path` (never the query) and
  `client.address`.

Card numbers are masked in every field of every ECS line, whatever logged them.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Any, Literal, TextIO

import orjson
from ecs_logging import StdlibFormatter

from gateway_core.audit import mask_card_numbers

LogFormat = Literal["text", "ecs"]
SERVICE = "paygate"
# Words that make an audit action a failure (`payment.declined`, `user.wrong_pin`, ...).
FAILURES = frozenset({"declined", "blocked", "failed", "refused", "wrong", "expired", "unknown"})
UNKNOWN_OUTCOMES = frozenset({"payment.unknown"})  # the bank's answer was lost
# An event's details that become `paygate.*` fields (the others stay in the audit log).
DETAILS = {
    "amount": "amount_minor",
    "currency": "currency",
    "reason": "reason",
    "response_code": "response_code",
    "rule": "risk_rule",
    "risk_score": "risk_score",
    "risk_action": "risk_action",
}
# 13 digits or more, single spaces or dashes between them: maybe a card number.
_DIGIT_RUN = re.compile(rb"[0-9](?:[ -]?[0-9]){12}")
QUIET = ("httpx", "httpcore")  # a line per bank call at INFO: the audit says what matters

_context: ContextVar[Mapping[str, str]] = ContextVar(
    "paygate_log_context", default=MappingProxyType({})
)
_format: LogFormat = "text"
_NOTHING: nullcontext[None] = nullcontext()


class EcsFormatter(StdlibFormatter):
    """ecs-logging's formatter with paygate's fields added and card numbers masked."""

    def __init__(self) -> None:
        super().__init__(
            extra={"service.name": SERVICE},
            # thread ids are long numbers that may pass for a card number; log.original
            # repeats the message (with an access line's query); the audit event is mapped;
            # uvicorn's color_message is the message again, with terminal colours
            exclude_fields=("process.thread.id", "log.original", "audit", "color_message"),
        )

    def format_to_ecs(self, record: logging.LogRecord) -> dict[str, Any]:
        fields = {**_context.get(), **_audit_fields(record), **_access_fields(record)}
        message = fields.pop("message", None)
        for name, value in fields.items():
            setattr(record, name, value)  # dotted names: ecs-logging nests them
        result = super().format_to_ecs(record)
        if message is not None:
            result["message"] = message
        if not _DIGIT_RUN.search(orjson.dumps(result, default=str)):
            return result  # no run of 13 digits anywhere: no card number to mask
        masked: dict[str, Any] = mask_card_numbers(result)
        return masked


class _Stderr(logging.StreamHandler[TextIO]):
    """A handler on whatever `sys.stderr` is when a line is written (as logging's last
    resort), so a stream replaced later (a test's capture) is followed."""

    @property  # the stream is looked up, not kept
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always sys.stderr


def configure_logging(log_format: LogFormat) -> None:
    """Set up the root logger for `log_format`; calling it again replaces the set-up."""
    global _format
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(handler)
    _format = log_format
    logging.captureWarnings(log_format == "ecs")  # Python's warnings: ECS lines too
    if log_format == "ecs":
        handler = _Stderr()
        handler.setFormatter(EcsFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)


def uvicorn_logging() -> dict[str, Any]:
    """uvicorn.run's logging options for the configured format: in ECS its loggers
    (the access log included) go through the root logger; in text, as they always did."""
    if _format == "ecs":
        return {"log_config": None, "log_level": "info", "access_log": True}
    return {"log_level": "warning"}


def _named(
    trace_id: str | None, merchant_id: str | None, terminal_id: str | None
) -> dict[str, str]:
    fields = {
        "trace.id": trace_id,
        "labels.merchant_id": merchant_id,
        "labels.terminal_id": terminal_id,
    }
    return {name: value for name, value in fields.items() if value is not None}


def bind_log_context(
    *, trace_id: str | None = None, merchant_id: str | None = None, terminal_id: str | None = None
) -> Token[Mapping[str, str]]:
    """Add to the context of every line logged from here on (in this task); the token
    undoes it."""
    return _context.set({**_context.get(), **_named(trace_id, merchant_id, terminal_id)})


def bound_log_context(*, trace_id: str | None = None) -> AbstractContextManager[None]:
    """`bind_log_context` for the lines logged inside only (None: nothing added, at no
    cost: a sale calls it)."""
    return _NOTHING if trace_id is None else _bound(trace_id)


@contextmanager
def _bound(trace_id: str) -> Iterator[None]:
    token = _context.set({**_context.get(), **_named(trace_id, None, None)})
    try:
        yield
    finally:
        _context.reset(token)


def context_trace_id() -> str | None:
    """The trace id the lines logged now carry, if any."""
    return _context.get().get("trace.id")


@contextmanager
def log_context(
    *, trace_id: str | None = None, merchant_id: str | None = None, terminal_id: str | None = None
) -> Iterator[None]:
    """A fresh context for the lines logged inside (a request's): nothing inherited."""
    token = _context.set(_named(trace_id, merchant_id, terminal_id))
    try:
        yield
    finally:
        _context.reset(token)


def trace_id_of(traceparent: str | None) -> str:
    """The trace id of a W3C `traceparent` header (version 00), else a new one."""
    parts = (traceparent or "").strip().split("-")
    if len(parts) == 4 and parts[0] == "00" and len(parts[1]) == 32:
        trace = parts[1].lower()
        if trace.strip("0123456789abcdef") == "" and trace != "0" * 32:
            return trace
    return secrets.token_hex(16)


def outcome(action: str) -> Literal["success", "failure", "unknown"]:
    """An audit action's ECS `event.outcome`."""
    if action in UNKNOWN_OUTCOMES:
        return "unknown"
    words = action.rpartition(".")[2].split("_")
    return "failure" if FAILURES.intersection(words) else "success"


def _audit_fields(record: logging.LogRecord) -> dict[str, Any]:
    event = getattr(record, "audit", None)
    if not isinstance(event, dict):
        return {}
    action, subject = str(event.get("action", "")), str(event.get("subject", ""))
    details = event.get("details") or {}
    fields: dict[str, Any] = {
        "event.kind": "event",
        "event.action": action,
        "event.outcome": outcome(action),
        "event.sequence": event.get("seq"),
        "paygate.actor": event.get("actor"),
    }
    if subject.startswith("pay_"):
        fields["transaction.id"] = subject
    elif subject:
        fields["paygate.subject"] = subject
    fields.update(
        {f"paygate.{name}": details[k] for k, name in DETAILS.items() if details.get(k) is not None}
    )
    reason = details.get("reason")
    fields["message"] = f"{action} {subject}".strip() + (f": {reason}" if reason else "")
    return fields


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access line (client, method, path, HTTP version, status) as ECS."""
    if record.name != "uvicorn.access" or not isinstance(record.args, tuple):
        return {}
    if len(record.args) != 5:
        return {}
    client, method, target, version, status = record.args
    path = str(target).partition("?")[0]
    code = status if isinstance(status, int) else 0
    return {
        "event.kind": "event",
        "event.action": "http-request",
        "event.outcome": "success" if 0 < code < 400 else "failure",
        "client.address": str(client).rpartition(":")[0] or str(client),
        "http.request.method": method,
        "http.version": version,
        "http.response.status_code": status,
        "url.path": path,
        "message": f"{method} {path} HTTP/{version} {status}",
    }
