"""The gateway as its tenders see it (`ports.TenderHost`), made of the gateway's own
functions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gateway_core.audit import AuditLog
from gateway_core.payments import Payment


@dataclass(frozen=True)
class Host:
    """What a tender may do: save (checked by the state machine), one step (a unit),
    audit, tell the risk rules, the business day, now, amend."""

    save: Callable[[Payment], Payment]
    step: Callable[[str], contextlib.AbstractContextManager[None]]
    audit: AuditLog
    learn: Callable[[Payment], None]
    today: Callable[[str], date]
    now: Callable[[], datetime]
    amend: Callable[[Payment], Payment]

    def record(self, actor: str, action: str, subject: str, **details: Any) -> None:
        self.audit.record(actor, action, subject, **details)
