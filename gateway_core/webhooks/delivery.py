"""The delivery worker: audit events → webhook deliveries → signed POSTs, at least once.

A round (`Deliverer.run_once`; `paygate serve` runs one every second, `paygate webhooks
deliver` one and exits):

1. For each enabled endpoint, the audit events after its cursor become deliveries (the
   event types it wants, of payments of its merchant), added with the cursor moved past
   them in one unit: an event is made into a delivery once, and never lost.
2. Each endpoint's pending deliveries are sent in order per payment: the oldest pending
   one of a payment goes first and, until it gets a 2xx, that payment's later ones wait
   (other payments' do not). A delivery is marked delivered only after its 2xx: a
   process killed between the two sends it again, with the same `Paygate-Event-Id`.
   (A round's writes are made durable once, at its end: a crash before loses them
   together, and the events are made and sent again: still at least once.)
3. A failed attempt (no 2xx in `timeout_s`) is tried again after an exponential backoff
   with jitter (`Backoff`), for up to 3 days from its first attempt; then it is marked
   failed and the payment's next deliveries go on. An endpoint whose attempts have all
   failed for 3 days (since its last 2xx) is disabled (audited; the console says so)
   until `paygate webhooks enable ID`, which resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import httpx
import orjson

from gateway_core.clock import Clock
from gateway_core.errors import InputError, PaygateError
from gateway_core.payment_records import load_payment
from gateway_core.payments import Payment, UnknownPayment
from gateway_core.ports import Record, Records
from gateway_core.webhooks.endpoints import Endpoint, WebhookEndpoints
from gateway_core.webhooks.events import TEST_TYPE, event_id, event_type, may_be_event, payload
from gateway_core.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger("paygate.webhooks")
GIVE_UP = timedelta(days=3)
KEPT_ATTEMPTS = 30  # a delivery's log keeps its latest attempts
BATCH = 500  # audit events read per round
SENDING = 8  # deliveries in flight at once (each payment's one after another)


class UnknownDelivery(InputError):
    """No webhook delivery with that id (for this merchant)."""


@dataclass
class Backoff:
    """The wait before the n-th retry: `first_s` doubled each time, at most `cap_s`, a
    random half of it taken off ("equal jitter": retries of many deliveries spread out);
    `rng` seeded in tests."""

    first_s: float = 30.0
    cap_s: float = 6 * 3600.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> timedelta:
        full = min(self.first_s * 2 ** (attempt - 1), self.cap_s)
        return timedelta(seconds=full / 2 + self.rng.uniform(0, full / 2))


@dataclass
class Round:
    """What one round did: deliveries made from audit events, attempts that got a 2xx,
    attempts that did not; `skipped`: another process delivers (a shared database)."""

    made: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: bool = False


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Deliverer:
    """Deliveries made, sent, retried and replayed for the endpoints of one store."""

    def __init__(
        self,
        records: Records,
        endpoints: WebhookEndpoints,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: Backoff | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._records = records
        self._repo = records.webhooks
        self._endpoints = endpoints
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._http = httpx.AsyncClient(
            transport=transport, timeout=timeout_s, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def run_once(self) -> Round:
        """One round: new events made into deliveries, then what is due sent (by the
        one process that delivers, see `WebhookRepository.leading`)."""
        if not self._repo.leading():
            return Round(skipped=True)
        done = Round(made=self.make_deliveries())
        enabled = [e for e in self._endpoints.list() if e.state == "enabled"]
        for endpoint in enabled:
            await self._send_due(endpoint, done)
        await self._records.synced()  # the round's writes, made durable once
        return done

    # -- 1. audit events → deliveries --------------------------------------------------------
    def make_deliveries(self) -> int:
        """Turn the audit events after each enabled endpoint's cursor (up to `BATCH`)
        into its deliveries; how many were made."""
        records = [r for r in self._repo.endpoints() if r["state"] == "enabled"]
        head = self._records.audit.head()
        if not records or head is None:
            return 0
        cursors = [(r["cursor"]["day"] or "", r["cursor"]["seq"]) for r in records]
        oldest = min(cursors, key=lambda c: c[1])
        if head["seq"] <= oldest[1]:
            return 0  # nothing new: one small read
        start = date.fromisoformat(oldest[0]) if oldest[0] else None
        events = self._repo.audit_after(start, oldest[1], BATCH)
        payments: dict[str, Payment | None] = {}
        made = 0
        for record in records:
            made += self._make_for(record, events, payments)
        return made

    def _make_for(
        self, record: Record, events: list[tuple[date, Record]], payments: dict[str, Payment | None]
    ) -> int:
        endpoint = Endpoint.model_validate(record)
        mine = [(day, e) for day, e in events if e["seq"] > record["cursor"]["seq"]]
        if not mine:
            return 0
        made: list[Record] = []
        for _day, event in mine:
            if not may_be_event(event):
                continue
            payment = self._payment(event["subject"], payments)
            if payment is None or payment.merchant_id != endpoint.merchant_id:
                continue
            kind = event_type(event["action"], payment)
            if kind is not None and endpoint.wants(kind):
                made.append(self._delivery(endpoint.id, event, kind, payment))
        last_day, last = mine[-1]
        with self._records.unit(durable=False):  # durable at the round's end
            for delivery in made:
                self._repo.add_delivery(delivery)
            cursor = {"day": last_day.isoformat(), "seq": last["seq"]}
            self._repo.update_endpoint(endpoint.id, {"cursor": cursor})
        return len(made)

    def _payment(self, payment_id: str, seen: dict[str, Payment | None]) -> Payment | None:
        if payment_id not in seen:
            try:
                seen[payment_id] = load_payment(
                    self._records.payments, payment_id, self._records.refunds
                )
            except UnknownPayment:  # indexed, never stored (a crash): no event
                seen[payment_id] = None
        return seen[payment_id]

    def _delivery(self, endpoint_id: str, event: Record, kind: str, payment: Payment) -> Record:
        now = self._clock.now().isoformat()
        return {
            "id": f"whd_{secrets.token_hex(8)}",
            "endpoint_id": endpoint_id,
            "event_id": event_id(event),
            "type": kind,
            "payment_id": payment.id,
            "seq": event["seq"],
            "created_at": now,
            "body": payload(event, kind, payment).decode(),
            "state": "pending",
            "next_at": now,
            "attempts": [],
        }

    # -- 2. sending --------------------------------------------------------------------------
    async def _send_due(self, endpoint: Endpoint, done: Round) -> None:
        chains: dict[str, list[Record]] = {}
        for delivery in self._repo.deliveries(endpoint.id, state="pending"):
            chains.setdefault(delivery["payment_id"] or delivery["id"], []).append(delivery)
        gate = asyncio.Semaphore(SENDING)

        async def chain(deliveries: list[Record]) -> None:
            async with gate:
                for delivery in sorted(deliveries, key=lambda d: d["seq"]):
                    if _at(delivery["next_at"]) > self._clock.now():
                        return  # this payment's later events wait for it
                    if not await self._attempt(endpoint, delivery, done):
                        return

        await asyncio.gather(*(chain(c) for c in chains.values()))

    async def _attempt(self, endpoint: Endpoint, delivery: Record, done: Round) -> bool:
        """Send a pending delivery once, then settle it: delivered on a 2xx, else tried
        again later (failed after 3 days), the endpoint's failures counted."""
        attempt = await self._send(endpoint, delivery)
        ok = attempt["error"] is None
        now = self._clock.now()
        attempts = [*delivery["attempts"], attempt]
        fields: Record = {"attempts": attempts[-KEPT_ATTEMPTS:], "tries": len(attempts)}
        first = _at(delivery.get("first_try_at") or attempt["at"])
        fields["first_try_at"] = first.isoformat()
        if ok:
            fields.update(state="delivered", delivered_at=now.isoformat(), next_at=None)
        elif now - first >= GIVE_UP:
            fields.update(state="failed", next_at=None)
        else:
            fields["next_at"] = (now + self._backoff.delay(len(attempts))).isoformat()
        with self._records.unit(durable=False):  # durable at the round's end
            self._repo.update_delivery(delivery["id"], fields)
            self._count(endpoint.id, ok, now)
        done.delivered += ok
        done.failed += not ok
        if not ok:
            log.warning(
                "webhook %s to %s not delivered: %s", delivery["id"], endpoint.id, attempt["error"]
            )
        return ok

    def _count(self, endpoint_id: str, ok: bool, now: datetime) -> None:
        """Keep an endpoint's failures in a row; disable it once they span `GIVE_UP`."""
        endpoint = self._endpoints.get(endpoint_id)
        if ok:
            if endpoint.failures:
                self._repo.update_endpoint(endpoint_id, {"failing_since": None, "failures": 0})
            return
        since = endpoint.failing_since or now
        fields = {"failing_since": since.isoformat(), "failures": endpoint.failures + 1}
        self._repo.update_endpoint(endpoint_id, fields)
        if endpoint.state == "enabled" and now - since >= GIVE_UP:
            self._endpoints.disable(
                endpoint_id, f"every delivery failed for 3 days ({fields['failures']} attempts)"
            )

    async def _send(self, endpoint: Endpoint, delivery: Record) -> Record:
        """POST a delivery's body, signed now; the attempt as the log keeps it."""
        body = delivery["body"].encode()
        now = self._clock.now()
        headers = {
            SIGNATURE_HEADER: sign(self._endpoints.secret(endpoint.id), int(now.timestamp()), body),
            EVENT_ID_HEADER: delivery["event_id"],
            "Content-Type": "application/json",
            "User-Agent": "paygate-webhooks/1",
        }
        started = time.perf_counter()
        status, error = None, None
        try:
            answer = await self._http.post(endpoint.url, content=body, headers=headers)
            status = answer.status_code
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__  # ConnectError, ReadTimeout, ...
        ms = round((time.perf_counter() - started) * 1000)
        return {"at": now.isoformat(), "status": status, "ms": ms, "error": error}

    # -- 3. by hand ------------------------------------------------------------------------------
    async def replay(self, delivery_id: str, merchant_id: str | None = None) -> Record:
        """Send a delivery again now, whatever its state (the same event id and body,
        signed now); a 2xx marks it delivered, a failure is only logged."""
        delivery = self._repo.delivery(delivery_id)
        if delivery is None:
            raise UnknownDelivery(f"no webhook delivery {delivery_id[:40]!r}")
        try:
            endpoint = self._endpoints.get(delivery["endpoint_id"], merchant_id)
        except InputError:
            raise UnknownDelivery(f"no webhook delivery {delivery_id[:40]!r}") from None
        attempt = await self._send(endpoint, delivery)
        attempts = [*delivery["attempts"], {**attempt, "replay": True}]
        fields: Record = {"attempts": attempts[-KEPT_ATTEMPTS:], "tries": len(attempts)}
        if attempt["error"] is None:
            fields.update(state="delivered", delivered_at=attempt["at"], next_at=None)
        with self._records.unit():
            self._repo.update_delivery(delivery_id, fields)
            if attempt["error"] is None:
                self._repo.update_endpoint(endpoint.id, {"failing_since": None, "failures": 0})
        return {**delivery, **fields}

    def since(self, endpoint_id: str, since: datetime, merchant_id: str | None = None) -> list[str]:
        """The ids of an endpoint's deliveries made at or after `since`, oldest first."""
        self._endpoints.get(endpoint_id, merchant_id)
        found = self._repo.deliveries(endpoint_id)
        return [d["id"] for d in found if _at(d["created_at"]) >= since]

    async def test(self, endpoint_id: str, merchant_id: str | None = None) -> Record:
        """Send an endpoint a `webhook.test` event now (logged as a delivery)."""
        endpoint = self._endpoints.get(endpoint_id, merchant_id)
        now = self._clock.now().isoformat()
        event = f"evt_test_{secrets.token_hex(10)}"
        data = {"object": {"endpoint": endpoint.id, "url": endpoint.url}}
        body = {"id": event, "object": "event", "type": TEST_TYPE, "created": now, "data": data}
        delivery: Record = {
            "id": f"whd_{secrets.token_hex(8)}",
            "endpoint_id": endpoint.id,
            "event_id": event,
            "type": TEST_TYPE,
            "payment_id": None,
            "seq": 0,
            "created_at": now,
            "body": orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode(),
            "next_at": None,
        }
        attempt = await self._send(endpoint, delivery)
        delivery.update(attempts=[attempt], tries=1)
        delivery["state"] = "delivered" if attempt["error"] is None else "failed"
        self._repo.add_delivery(delivery)
        return delivery


async def deliver_forever(deliverer: Deliverer, every_s: float) -> None:
    """A round every `every_s` seconds until cancelled; a round that fails is logged (one
    line) and the next goes on."""
    while True:
        try:
            await deliverer.run_once()
        except PaygateError as exc:
            log.warning("webhooks not delivered this round: %s", exc)
        except Exception as exc:  # a round's bug must not stop the server: logged, named
            log.error("webhooks not delivered this round: %s", type(exc).__name__)
        await asyncio.sleep(every_s)


def failed(deliveries: Iterable[Record]) -> list[Record]:
    """The deliveries whose last attempt got no 2xx (pending a retry, or given up)."""
    return [
        d
        for d in deliveries
        if d["state"] != "delivered" and d["attempts"] and d["attempts"][-1]["error"]
    ]
