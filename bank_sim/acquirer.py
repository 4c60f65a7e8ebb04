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
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from bank_sim import iso8583
from bank_sim.clearing import Clearing
from bank_sim.config import BankConfig
from bank_sim.issuer import ISSUER_BY_ID, Issuers, IssuerUnavailable
from bank_sim.ledger import merchant_account
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
from gateway_core.errors import InputError
from gateway_core.observe.hooks import bank_hop
from gateway_core.store import DataStore, JournaledDB
from gateway_core.store.documents import Documents
from gateway_core.store.journal import sync_deferred

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
        self.clearing_files = Clearing(db, store, config)
        self._issuers = issuers
        self._config = config
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._in_flight: dict[str, asyncio.Future[None]] = {}

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
        seconds = time.perf_counter() - started
        bank_hop(name, seconds)  # metrics and, when tracing, a span
        hops.append(
            HopTime.model_construct(hop=name, ms=round(seconds * 1000, 1))
        )  # built here: nothing to check

    def _frame(self, frames: list[Frame], source: str, target: str, fields: dict) -> dict[str, str]:
        """Send `fields` over one hop as ISO 8583 bytes; what the next hop reads."""
        decoded = iso8583.decode(iso8583.encode(fields))  # what arrives is what was sent
        frames.append(
            Frame.model_construct(  # built here from a decoded frame: nothing to check
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
        fault = self._issuers.fault(info["account"], issuer) if "2" in request else None
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
            sent = record.get("mti", "0100")
            original = {"t": sent, "11": record["stan"], "7": record["transmitted"]}
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
        """0100/0110 for a payment, or for a sale (`req.capture`) 0200/0210: authorized
        and captured in one message, as debit networks do; a retry of the same payment
        answers the same.

        Everything the banks write for it is durable before the answer, with one
        fdatasync: the record and the issuer's booking are appended as they happen and
        synced together at the end. They are all in the banks' one main journal, so a
        booking is never on disk without the record written before it, and a reversal
        after a crash still finds it.

        A retry that arrives while the first is still on its way waits for it. A
        reversal does not wait: it releases whatever hold the issuer placed (or gives
        a sale's money back), and an answer that comes back after its reversal is
        reversed at once.
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
            with sync_deferred(sync=False):  # the record, the booking, the answer: appended,
                answer = await self._authorize(req, record)
            await self._store.synced()  # then durable together: one fdatasync, awaited
            self.clearing_files.pay_when_due()
            return answer
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
        mti = "0200" if req.capture else "0100"
        with self._db.journal.atomic():  # the STAN and the record: one write
            stan = self._next_stan()
            record = {
                **_params_of(req),
                "mti": mti,
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
            self._save(record)  # before anything leaves: a reversal can find it
        month, year = req.expiry.split("/")
        fields = {**self._base_fields(mti, record, req.amount), "2": pan, "14": year + month}
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
            captured=req.amount if code == "00" and mti == "0200" else 0,
            hops=hops,
            frames=frames,
        )
        if self.record(req.payment_id)["status"] == "reversed":  # the answer came after it
            self._issuers.release(record["rrn"])
            return response.model_copy(update={"approved": False, "response_code": "91"})
        status = {"00": "approved", "1A": "challenged"}.get(code, "declined")
        with self._db.journal.atomic():  # the answer and a sale's clearing line: one write
            record.update(
                status="captured" if response.captured else status,
                captured=response.captured,
                auth_code=answer.get("38"),
                response=response.model_dump(mode="json", exclude={"frames", "hops"}),
                frames=_keep(record["frames"], frames),
            )
            if response.captured:
                record["clears_on"] = self.clearing_files.owe(
                    "capture", record, req.amount, req.payment_id, req.day
                )
            self._save(record)
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
        """0400/0410: release the hold (void, lost answer, expiry, failed OTP); a sale
        (0200) whose answer was lost, not refunded, is undone: its money goes back and a
        reversal line cancels its clearing line."""
        async with self._locks[req.payment_id]:
            record = self.record(req.payment_id)
            if record is None:
                # The reversal overtook its authorization: remember it, so that the
                # authorization, if it still comes, is answered 91 and holds nothing.
                self._save(_overtaken(req))
                return OperationResponse(payment_id=req.payment_id, response_code="25")
            if record["status"] == "captured" and not _undoable(record):
                return OperationResponse(payment_id=req.payment_id, response_code="12")
            frames: list[Frame] = []
            live = ("approved", "pending", "captured")
            sent = record["status"] in live and bool(record.get("issuer_id"))
            if sent:
                frames = await self._message("0400", record, record["amount"])
            with self._db.journal.atomic():  # the release and the record: one write
                record = self.record(req.payment_id) or record  # an answer may have come
                released = self._issuers.release(record["rrn"]) if sent else 0
                if record["status"] == "captured":
                    day = date.fromisoformat(record["clears_on"])
                    self.clearing_files.owe("reversal", record, released, req.payment_id, day)
                record.update(
                    status="reversed",
                    reversal_reason=req.reason,
                    frames=_keep(record["frames"], frames),
                )
                self._save(record)
            self.clearing_files.pay_when_due()
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
                self.clearing_files.pay()
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
                self.clearing_files.owe("capture", record, req.amount, req.payment_id, req.day)
            self.clearing_files.pay()
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
                self.clearing_files.pay()
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
                self.clearing_files.owe("refund", record, req.amount, req.refund_id, req.day)
            self.clearing_files.pay()
            return OperationResponse(
                payment_id=req.payment_id, response_code="00", amount=req.amount, rrn=record["rrn"]
            )

    # -- clearing ----------------------------------------------------------------------------
    def check_clearing(self) -> str | None:
        """The first clearing day that is gone or lost lines (`Clearing.check`)."""
        return self.clearing_files.check()

    def clearing(self, day: date) -> list[dict[str, Any]]:
        """The clearing file of one business day: every capture and refund."""
        return self.clearing_files.lines(day)


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


def _undoable(record: dict[str, Any]) -> bool:
    """A sale captured by its own 0200 and not refunded: a reversal may undo it."""
    return record.get("mti") == "0200" and not record["refunds"]


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
