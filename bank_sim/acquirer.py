"""The acquirer and the card networks: JSON from the gateway in, ISO 8583 between banks.

The acquirer takes the gateway's request, builds the ISO 8583 message, and sends the
encoded bytes to the card network, which decodes them, routes by brand and BIN to the
issuer (or answers 15 itself for a BIN no issuer owns) and re-encodes them onward.
Every frame that crosses a hop is kept, decoded and masked, on the acquirer's record.

The acquirer's record of a payment is written before anything is sent, so a reversal
can always find an authorization whose answer was lost.

A capture, refund or reversal is one write to the banks' main database when its answer
comes back: the issuer's booking, the acquirer's record and, for a capture or a refund,
its clearing line, owed to the day's clearing file and counted for that day. The owed
line is then copied into the day's file and forgotten; after a crash between the two
the copy is made when the banks open again (never twice), so no capture is ever
missing from a clearing file, and a clearing day that goes missing is noticed
(`check_clearing`).

A merchant transacts only once the acquirer has boarded it (its merchant directory):
the home merchant of the config with its terminals, and each merchant boarded since
(`board`, when the gateway issues a merchant's terminal key). Each has its own ledger
account, `merchant:<merchant id>`; an unknown merchant or terminal is refused with 03.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from bank_sim import iso8583
from bank_sim.config import BankConfig
from bank_sim.issuer import ISSUER_BY_ID, Issuers, IssuerUnavailable
from bank_sim.testcards import Issuer
from gateway_core.acquirer_api import (
    AuthorizationRequest,
    AuthorizationResponse,
    CaptureRequest,
    Frame,
    HopTime,
    OperationResponse,
    RefundRequest,
    ReversalRequest,
)
from gateway_core.cards import detect_brand, luhn_valid
from gateway_core.clock import business_day
from gateway_core.errors import InputError
from gateway_core.store import DataStore, JournaledDB
from gateway_core.store.documents import Documents

# The network each brand's cards travel on (Maestro is Mastercard's).
NETWORK_OF = {"maestro": "mastercard"}
MAX_FRAMES = 24


class PaymentIdReused(InputError):
    """The same payment id came back with different parameters."""


class Acquirer:
    """Merchant accounts, the authorization route, captures, refunds, reversals."""

    def __init__(
        self, db: JournaledDB, store: DataStore, issuers: Issuers, config: BankConfig
    ) -> None:
        self._db = db
        self._store = store
        self._records = Documents(db, "acquirer_payments", key="payment_id")
        self._merchants = Documents(db, "acquirer_merchants", key="merchant_id")
        self._counter = Documents(db, "acquirer_counter")
        self._owed = Documents(db, "clearing_owed")  # lines written in main, not yet in their day
        self._cleared = Documents(db, "clearing_days", key="day")  # day → lines it was given
        self._issuers = issuers
        self._config = config
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._in_flight: dict[str, asyncio.Future[None]] = {}
        if not self._cleared:
            self._count_existing_days()
        self._unsure = True  # after a crash an owed line may be in its day already
        self._pay_owed()

    @property
    def merchant_account(self) -> str:
        """The ledger account of the home merchant."""
        return merchant_account(self._config.merchant_id)

    # -- the merchant directory ---------------------------------------------------------------
    def board(self, merchant_id: str, terminal_ids: Iterable[str]) -> None:
        """Enrol a merchant and its terminals (again: adds the terminals not yet known)."""
        new = sorted(set(terminal_ids) - self.terminals(merchant_id))
        if not new:
            return
        doc = self._merchants.get(merchant_id)
        if doc is None:
            self._merchants.add({"merchant_id": merchant_id, "terminal_ids": new})
        else:
            self._merchants.update(merchant_id, {"terminal_ids": [*doc["terminal_ids"], *new]})

    def terminals(self, merchant_id: str) -> set[str]:
        """The terminals of a boarded merchant (empty: not boarded)."""
        doc = self._merchants.get(merchant_id)
        boarded = set(doc["terminal_ids"]) if doc else set()
        if merchant_id == self._config.merchant_id:
            boarded |= set(self._config.terminal_ids)
        return boarded

    # -- records -------------------------------------------------------------------------
    def record(self, payment_id: str) -> dict[str, Any] | None:
        """The acquirer's record of a payment."""
        return self._records.get(payment_id)

    def statuses_by_rrn(self) -> dict[str, str]:
        """RRN → status of every authorization the acquirer sent."""
        return {doc["rrn"]: doc["status"] for doc in self._records}

    def _save(self, record: dict[str, Any]) -> None:
        self._records.put(record)

    def _next_stan(self) -> str:
        doc = self._counter.single() or {"stan": 0}
        stan = doc["stan"] % 999_999 + 1
        self._counter.set_single({"stan": stan})
        return iso8583.new_stan(stan)

    # -- the route -------------------------------------------------------------------------
    async def _hop(self, name: str, hops: list[HopTime], started: float) -> None:
        delay = self._config.latency_ms.get(name, 0)
        if delay:
            await asyncio.sleep(delay / 1000)
        hops.append(HopTime(hop=name, ms=round((time.perf_counter() - started) * 1000, 1)))

    def _frame(self, frames: list[Frame], source: str, target: str, fields: dict) -> dict[str, str]:
        """Send `fields` over one hop as ISO 8583 bytes; what the next hop reads."""
        decoded = iso8583.decode(iso8583.encode(fields))  # what arrives is what was sent
        frames.append(
            Frame(
                source=source,
                target=target,
                mti=decoded["t"],
                fields=iso8583.masked(decoded),
                at=self._config.clock.now(),
            )
        )
        return decoded

    async def _route(
        self,
        fields: dict[str, str],
        frames: list[Frame],
        hops: list[HopTime],
        handle: Callable[[dict[str, str], Issuer], dict[str, str]],
        info: dict[str, Any],
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Acquirer → network → issuer and back; `handle(request, issuer)` answers.

        `info` is the route (`_routing`): an authorization goes by brand and BIN; later
        messages about it (no PAN in them) go to the issuer that answered it.
        """
        started = time.perf_counter()
        request = self._frame(frames, "acquirer", "network", fields)
        await self._hop("acquirer", hops, started)
        issuer = info["issuer"]
        started = time.perf_counter()
        if issuer is None:  # the network answers for an issuer it does not know
            await self._hop("network", hops, started)
            response = iso8583.response_for(request)
            response["39"] = "15" if info["network"] else "14"
            return self._frame(frames, "network", "acquirer", response), info
        received = self._frame(frames, "network", "issuer", request)
        await self._hop("network", hops, started)
        started = time.perf_counter()
        fault = self._issuers.fault(info["account"], issuer) if request["t"] == "0100" else None
        if fault == "http_500":
            raise IssuerUnavailable(issuer.name)
        if fault == "slow":
            await asyncio.sleep(self._config.slow_fault_s)
        answer = self._frame(frames, "issuer", "network", handle(received, issuer))
        await self._hop("issuer", hops, started)
        if fault == "timeout":
            await asyncio.sleep(self._config.timeout_fault_s)  # the answer is lost in time
        return self._frame(frames, "network", "acquirer", answer), info

    def _routing(self, request: dict[str, str], issuer_id: str | None) -> dict[str, Any]:
        if issuer_id is not None:
            issuer = ISSUER_BY_ID[issuer_id]
            return {"network": issuer.network, "issuer": issuer, "account": None}
        pan = request["2"]
        brand = detect_brand(pan)
        network = NETWORK_OF.get(brand.id, brand.id) if brand else None
        issuer = self._issuers.issuer_for_bin(network, pan) if network else None
        account = self._issuers.account_for(pan) if issuer else None
        return {"network": network, "issuer": issuer, "account": account}

    async def _message(self, mti: str, record: dict[str, Any], amount: int) -> list[Frame]:
        """Send a message about an earlier authorization (no PAN) and return its frames;
        the issuer answers 00, and the caller books it together with its own record."""
        fields = self._base_fields(mti, record, amount)
        if mti == "0400":
            original = {"t": "0100", "11": record["stan"], "7": record["transmitted"]}
            fields["90"] = iso8583.original_data(original)
        if mti == "0200":
            fields["3"] = iso8583.PROCESSING_REFUND

        def handle(request: dict[str, str], issuer: Issuer) -> dict[str, str]:
            return {**iso8583.response_for(request), "39": "00"}

        frames: list[Frame] = []
        await self._route(fields, frames, [], handle, self._routing({}, record["issuer_id"]))
        return frames

    def _base_fields(self, mti: str, record: dict[str, Any], amount: int) -> dict[str, str]:
        return {
            "t": mti,
            "3": iso8583.PROCESSING_PURCHASE,
            "4": iso8583.amount_field(amount),
            **iso8583.timestamps(self._config.clock.now()),
            "11": record["stan"],
            "22": "012",
            "25": "00",
            "37": record["rrn"],
            "41": record["terminal_id"],
            "42": record["merchant_id"],
            "49": iso8583.CURRENCY_NUMERIC[record["currency"]],
        }

    # -- authorization -------------------------------------------------------------------
    async def authorize(self, req: AuthorizationRequest) -> AuthorizationResponse:
        """0100/0110 for a payment; a retry of the same payment answers the same.

        A retry that arrives while the first is still on its way waits for it. A
        reversal does not wait: it releases whatever hold the issuer placed, and an
        answer that comes back after its reversal is reversed at once.
        """
        while (in_flight := self._in_flight.get(req.payment_id)) is not None:
            await asyncio.shield(in_flight)
        record = self.record(req.payment_id)
        if record is not None and record.get("overtaken"):  # reversed before it came
            return AuthorizationResponse(
                payment_id=req.payment_id, response_code="91", approved=False
            )
        if record is not None:
            if _params(record) != _params_of(req):
                raise PaymentIdReused(
                    f"payment {req.payment_id} was sent before with other details"
                )
            if not (record["status"] == "challenged" and req.authentication):
                return _stored_answer(record)
        done = asyncio.get_running_loop().create_future()
        self._in_flight[req.payment_id] = done
        try:
            return await self._authorize(req, record)
        finally:
            del self._in_flight[req.payment_id]
            done.set_result(None)

    async def _authorize(
        self, req: AuthorizationRequest, earlier: dict[str, Any] | None
    ) -> AuthorizationResponse:
        pan = req.pan.get_secret_value()
        refusal = self._refusal(req, pan)
        if refusal:
            return AuthorizationResponse(
                payment_id=req.payment_id, response_code=refusal, approved=False
            )
        route = self._routing({"2": pan}, None)
        now = self._config.clock.now()
        with self._db.journal.atomic():  # the STAN and the record: one durable write
            stan = self._next_stan()
            record = {
                **_params_of(req),
                "transmitted": iso8583.transmission_time(now),
                "stan": stan,
                "rrn": earlier["rrn"] if earlier else iso8583.new_rrn(now, stan, now.hour),
                "issuer_id": route["issuer"].id if route["issuer"] else None,
                "brand": route["network"],
                "funding": (route["account"] or {}).get("funding"),
                "status": "pending",
                "response": None,
                "captured": 0,
                "refunded": 0,
                "refunds": {},
                "frames": earlier["frames"] if earlier else [],
            }
            self._save(record)  # durable before anything leaves: a reversal can find it
        month, year = req.expiry.split("/")
        fields = {**self._base_fields("0100", record, req.amount), "2": pan, "14": year + month}
        private = {
            "CVV": req.cvv.get_secret_value() if req.cvv else None,
            "AUTH": req.authentication,
            "SCA": "Y" if req.challenge_requested else None,  # challenge requested
        }
        fields = iso8583.with_private_data(fields, **{k: v for k, v in private.items() if v})
        frames: list[Frame] = []
        hops: list[HopTime] = []
        try:
            answer, _ = await self._route(fields, frames, hops, self._issuers.authorize, route)
        except IssuerUnavailable:
            self._save({**record, "status": "failed", "frames": _keep(record["frames"], frames)})
            raise
        code, challenge_id = answer["39"], iso8583.private_data(answer).get("CH")
        issuer = route["issuer"]
        response = AuthorizationResponse(
            payment_id=req.payment_id,
            response_code=code,
            approved=code == "00",
            auth_code=answer.get("38"),
            rrn=record["rrn"],
            stan=stan,
            network=route["network"],
            issuer=issuer.name if issuer else None,
            funding=record["funding"],
            country=issuer.country if issuer else None,
            challenge=self._issuers.otp.challenge(challenge_id) if challenge_id else None,
            hops=hops,
            frames=frames,
        )
        current = self.record(req.payment_id)
        if current["status"] == "reversed":  # the answer came after its reversal
            self._issuers.release(record["rrn"])
            return response.model_copy(update={"approved": False, "response_code": "91"})
        status = {"00": "approved", "1A": "challenged"}.get(code, "declined")
        self._save(
            {
                **record,
                "status": status,
                "auth_code": answer.get("38"),
                "response": response.model_dump(mode="json", exclude={"frames", "hops"}),
                "frames": _keep(record["frames"], frames),
            }
        )
        return response

    def _refusal(self, req: AuthorizationRequest, pan: str) -> str | None:
        """What the acquirer refuses itself, before any network: 03 or 14."""
        if req.terminal_id not in self.terminals(req.merchant_id):
            return "03"  # a merchant not boarded, or not its terminal
        if not (pan.isdigit() and 12 <= len(pan) <= 19 and luhn_valid(pan)):
            return "14"
        return None

    # -- after the authorization -------------------------------------------------------------
    async def reverse(self, req: ReversalRequest) -> OperationResponse:
        """0400/0410: release the hold (void, lost answer, expiry, failed OTP)."""
        async with self._locks[req.payment_id]:
            record = self.record(req.payment_id)
            if record is None:
                # The reversal overtook its authorization: remember it, so that the
                # authorization, if it still comes, is answered 91 and holds nothing.
                self._save(_overtaken(req))
                return OperationResponse(payment_id=req.payment_id, response_code="25")
            if record["status"] == "captured":
                return OperationResponse(payment_id=req.payment_id, response_code="12")
            frames: list[Frame] = []
            sent = record["status"] in ("approved", "pending") and bool(record.get("issuer_id"))
            if sent:
                frames = await self._message("0400", record, record["amount"])
            with self._db.journal.atomic():  # the release and the record: one write
                released = self._issuers.release(record["rrn"]) if sent else 0
                record.update(
                    status="reversed",
                    reversal_reason=req.reason,
                    frames=_keep(record["frames"], frames),
                )
                self._save(record)
            return OperationResponse(
                payment_id=req.payment_id,
                response_code="00",
                amount=released,
                released=released,
                rrn=record["rrn"],
                frames=frames,
            )

    async def capture(self, req: CaptureRequest) -> OperationResponse:
        """Completion: move `amount` (≤ the hold) to the merchant; release the rest."""
        async with self._locks[req.payment_id]:
            record = self.record(req.payment_id)
            if record is None:
                return OperationResponse(payment_id=req.payment_id, response_code="25")
            if record["status"] == "captured" and record["captured"] == req.amount:
                # a retry of a capture whose answer was lost: the same answer, no new money
                self._pay_owed()
                return OperationResponse(
                    payment_id=req.payment_id,
                    response_code="00",
                    amount=req.amount,
                    released=record.get("released", 0),
                    rrn=record["rrn"],
                )
            if record["status"] != "approved":
                return OperationResponse(payment_id=req.payment_id, response_code="12")
            if req.amount > record["amount"]:
                return OperationResponse(payment_id=req.payment_id, response_code="13")
            frames = await self._message("0220", record, req.amount)
            with self._db.journal.atomic():  # booking, record and clearing line: one write
                released = self._issuers.capture(
                    record["rrn"], req.amount, merchant_account(record["merchant_id"])
                )
                record.update(
                    status="captured",
                    captured=req.amount,
                    released=released,
                    frames=_keep(record["frames"], frames),
                )
                self._save(record)
                self._owe("capture", record, req.amount, req.payment_id, req.day)
            self._pay_owed()
            return OperationResponse(
                payment_id=req.payment_id,
                response_code="00",
                amount=req.amount,
                released=released,
                rrn=record["rrn"],
            )

    async def refund(self, req: RefundRequest) -> OperationResponse:
        """0200 refund: credit the card; refunds never exceed the capture."""
        async with self._locks[req.payment_id]:
            record = self.record(req.payment_id)
            if record is None:
                return OperationResponse(payment_id=req.payment_id, response_code="25")
            if req.refund_id in record["refunds"]:
                self._pay_owed()
                return OperationResponse(
                    payment_id=req.payment_id,
                    response_code="00",
                    amount=record["refunds"][req.refund_id],
                    rrn=record["rrn"],
                )
            if record["status"] != "captured":
                return OperationResponse(payment_id=req.payment_id, response_code="12")
            if record["refunded"] + req.amount > record["captured"]:
                return OperationResponse(payment_id=req.payment_id, response_code="13")
            frames = await self._message("0200", record, req.amount)
            with self._db.journal.atomic():  # booking, record and clearing line: one write
                self._issuers.refund(
                    record["rrn"],
                    req.refund_id,
                    req.amount,
                    merchant_account(record["merchant_id"]),
                )
                record.update(
                    frames=_keep(record["frames"], frames),
                    refunds={**record["refunds"], req.refund_id: req.amount},
                    refunded=record["refunded"] + req.amount,
                )
                self._save(record)
                self._owe("refund", record, req.amount, req.refund_id, req.day)
            self._pay_owed()
            return OperationResponse(
                payment_id=req.payment_id, response_code="00", amount=req.amount, rrn=record["rrn"]
            )

    # -- clearing ----------------------------------------------------------------------------
    def _owe(
        self, kind: str, record: dict[str, Any], amount: int, ref: str, day: date | None
    ) -> None:
        """Inside the booking's write: the clearing line, owed to the clearing file of the
        merchant's business day the request names (DE15; today if none), and counted."""
        day = (day or business_day(self._config.clock, self._config.tz)).isoformat()
        line = {
            "type": kind,
            "ref": ref,
            "payment_id": record["payment_id"],
            "amount": amount,
            "currency": record["currency"],
            "rrn": record["rrn"],
            "auth_code": record.get("auth_code"),
            "merchant_id": record["merchant_id"],
            "terminal_id": record["terminal_id"],
            "brand": record.get("brand"),
            "funding": record.get("funding"),
            "at": self._config.clock.now().isoformat(),
        }
        self._owed.add({"day": day, "line": line})
        self._count(day, 1)

    def _count(self, day: str, lines: int) -> None:
        doc = self._cleared.get(day)
        if doc is None:
            self._cleared.add({"day": day, "lines": lines})
        else:
            self._cleared.update(day, {"lines": doc["lines"] + lines})

    def _pay_owed(self) -> None:
        """Copy the owed clearing lines into their days' files, then forget them. After
        a crash or a failed copy (`_unsure`), a line already in its file is skipped."""
        owed = list(self._owed)
        if not owed:
            return
        unsure, self._unsure = self._unsure, True
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in owed:
            by_day[doc["day"]].append(doc["line"])
        for day, lines in by_day.items():
            db = self._store.day(date.fromisoformat(day))
            table = Documents(db, "clearing")
            there = {(d["type"], d["ref"]) for d in table} if unsure else set()
            with db.journal.atomic():
                for line in lines:
                    if (line["type"], line["ref"]) not in there:
                        table.add(line)
        paid = {(doc["line"]["type"], doc["line"]["ref"]) for doc in owed}
        self._owed.remove_where(lambda doc: (doc["line"]["type"], doc["line"]["ref"]) in paid)
        self._unsure = False

    def _count_existing_days(self) -> None:
        """Banks from before days were counted: count the lines their days hold now."""
        counts = {day: len(_clearing(self._store, day)) for day in self._store.days()}
        with self._db.journal.atomic():
            for day, lines in counts.items():
                self._count(day.isoformat(), lines)

    def check_clearing(self) -> str | None:
        """The first clearing day that is gone or holds other than the lines written to
        it (None when every one is whole)."""
        on_disk = set(self._store.days())
        owed: Counter[str] = Counter(doc["day"] for doc in self._owed)
        for doc in sorted(self._cleared, key=lambda d: d["day"]):
            day, lines = date.fromisoformat(doc["day"]), doc["lines"] - owed[doc["day"]]
            files = f"{self._store.days_dir / day.isoformat()}.*"
            if day not in on_disk:
                return (
                    f"the banks' clearing day {day} is missing ({lines} capture and refund "
                    f"lines): restore {files} from a backup"
                )
            held = len(_clearing(self._store, day))
            if held != lines:
                return (
                    f"the banks' clearing day {day} holds {held} lines, {lines} were "
                    f"written to it: restore {files} from a backup"
                )
        return None

    def clearing(self, day: date) -> list[dict[str, Any]]:
        """The clearing file of one business day: every capture and refund."""
        if day not in self._store.days():
            return []
        return list(_clearing(self._store, day))


def _clearing(store: DataStore, day: date) -> Documents:
    """The clearing file of one business day (its lines, one per capture or refund)."""
    return Documents(store.day(day), "clearing")


def merchant_account(merchant_id: str) -> str:
    """A merchant's account in the banks' ledger."""
    return f"merchant:{merchant_id}"


PARAMS = ("payment_id", "merchant_id", "terminal_id", "amount", "currency", "capture")


def _params_of(req: AuthorizationRequest) -> dict[str, Any]:
    return {key: getattr(req, key) for key in PARAMS}


def _params(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in PARAMS}


def _stored_answer(record: dict[str, Any]) -> AuthorizationResponse:
    """The answer given the first time; 91 when the first never got one."""
    if record["response"] is None:
        return AuthorizationResponse(
            payment_id=record["payment_id"],
            response_code="91",
            approved=False,
            rrn=record["rrn"],
            stan=record["stan"],
        )
    return AuthorizationResponse(**record["response"])


def _overtaken(req: ReversalRequest) -> dict[str, Any]:
    """The record a reversal leaves for an authorization that has not arrived (yet)."""
    return {
        "payment_id": req.payment_id,
        "overtaken": True,
        "status": "reversed",
        "reversal_reason": req.reason,
        "rrn": None,
        "issuer_id": None,
        "captured": 0,
        "refunded": 0,
        "refunds": {},
        "frames": [],
    }


def _keep(old: list, new: list[Frame]) -> list:
    return [*old, *(f.model_dump(mode="json") for f in new)][-MAX_FRAMES:]
