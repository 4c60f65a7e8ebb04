"""A stateful fake of Razorpay's Orders, Payments and Refunds (in process; `api` serves
it under /razorpay/v1).

States as Razorpay's: an order is `created`, `attempted` once a payment is tried, `paid`
once one is captured; a payment is `created` (waiting for an OTP, a UPI payer, a bank
page), `authorized`, `captured`, `refunded` (in full) or `failed`. Razorpay captures only
the whole authorized amount. Idempotency is Razorpay's: orders are NOT unique by
`receipt` (a second create makes a second order, as Razorpay does): a client finds its
order again with `GET /orders?receipt=`; an order takes one successful payment
(`order_already_paid`); a refund is found again by its `X-Refund-Idempotency` key."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

from bank_sim.processors.faults import Faults
from bank_sim.processors.razorpay import issuer
from bank_sim.processors.razorpay.entities import (
    amount_of,
    card_entity,
    card_fields,
    decline_fields,
    new_payment,
    note_of,
    notes_of,
    otp_actions,
    served_payment,
    text_of,
    upi_link,
    upi_vpa,
)
from bank_sim.processors.razorpay.errors import RazorpayError, not_found
from bank_sim.processors.razorpay.ledger import Entity, Ledger, collection, public
from bank_sim.processors.razorpay.webhooks import Webhooks, new_id
from gateway_core.clock import Clock, SystemClock
from gateway_core.currencies import CURRENCIES
from gateway_core.settings import ProcessorSettings

# The fake's own test keys and webhook secret: the connector's FAKE_* values (it uses
# them with no base_url; a test checks they agree: the connector's module imports the
# SDK, too slow to import with the fakes).
FAKE_KEY_ID = "rzp_test_paygatefake"
FAKE_KEY_SECRET = "paygate-fake-secret"
FAKE_WEBHOOK_SECRET = "paygate-fake-webhook-secret"
MIN_AMOUNT = {"INR": 100}  # Razorpay's minimum (₹1.00); 1 minor unit elsewhere
METHODS = ("card", "upi", "netbanking")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{10,}")  # Razorpay's rule for refund keys
CAPTURE_WINDOW_S = 5 * 24 * 3600  # an authorization left uncaptured is refunded after it


class AimedFaults(Faults):
    """The fake's faults, aimed as Razorpay's two-step flow needs: `down` answers every
    request; the others hit only requests that move money (a payment, an OTP, a
    capture, a refund), so a lost answer is the payment's, not its order's."""

    def hits(self, moves_money: bool) -> bool:
        """Whether the next request of this kind meets the fault set (if any)."""
        return self._fault is not None and (moves_money or self._fault.mode == "down")


class RazorpayAccount:
    """Razorpay's API as one merchant account sees it, state in `directory`."""

    def __init__(
        self,
        directory: Path,
        clock: Clock | None = None,
        settings: ProcessorSettings | None = None,
    ) -> None:
        settings = settings or ProcessorSettings()
        self.key_id = FAKE_KEY_ID
        self._keys = {FAKE_KEY_ID: FAKE_KEY_SECRET}  # key id -> secret: its own, the settings'
        if settings.api_key is not None and settings.api_secret is not None:
            self._keys[settings.api_key.get_secret_value()] = settings.api_secret.get_secret_value()
        hook = settings.webhook_secret
        hook_secret = hook.get_secret_value() if hook else FAKE_WEBHOOK_SECRET
        self.webhooks = Webhooks(hook_secret, "acc_paygatefake01")
        self.faults = AimedFaults()
        self._clock = clock or SystemClock()
        self.directory = directory
        self._ledger = Ledger(directory)

    # -- keys and signatures ------------------------------------------------------------
    def authenticates(self, key_id: str, key_secret: str) -> bool:
        """True for a key id and secret of this account."""
        known = self._keys.get(key_id, "\0")
        return hmac.compare_digest(key_secret.encode(), known.encode())

    def signature(self, order_id: str, payment_id: str) -> str:
        """The checkout's `razorpay_signature` of a payment on an order: signed with the
        secret of the key the order was made with."""
        order = self._ledger.order(order_id) or {}
        secret = self._keys.get(order.get("_key_id", FAKE_KEY_ID), FAKE_KEY_SECRET)
        message = f"{order_id}|{payment_id}".encode()
        return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    @contextmanager
    def _change(self) -> Iterator[Ledger]:
        """The ledger, locked, saved afterwards (also when the change ends in an error
        answer: a failed payment is a record too)."""
        with self._ledger.lock:
            try:
                yield self._ledger
            finally:
                self._ledger.save()

    # -- orders ---------------------------------------------------------------------------
    def create_order(self, body: Entity, key_id: str = FAKE_KEY_ID) -> Entity:
        amount = amount_of(body)
        currency = body.get("currency", "INR")
        if not isinstance(currency, str) or currency not in CURRENCIES:
            raise RazorpayError(
                f"Currency {currency!s:.8} is not supported",
                field="currency",
                reason="invalid_currency",
            )
        if amount < MIN_AMOUNT.get(currency, 1):
            raise RazorpayError(
                "The amount must be atleast INR 1.00", field="amount", reason="invalid_amount"
            )
        if CURRENCIES[currency].exponent == 3 and amount % 10:
            raise RazorpayError(
                "The last digit of a three-decimal amount must be 0",
                field="amount",
                reason="invalid_amount",
            )
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise RazorpayError(
                "The receipt may not be greater than 40 characters.", field="receipt"
            )
        notes = body.get("notes")
        if notes is not None and (not isinstance(notes, dict | list) or len(notes) > 15):
            raise RazorpayError("The notes may have at most 15 keys", field="notes")
        with self._change() as ledger:
            order = {
                "id": new_id("order_"),
                "entity": "order",
                "amount": amount,
                "amount_paid": 0,
                "amount_due": amount,
                "currency": currency,
                "receipt": receipt,
                "offer_id": None,
                "status": "created",
                "attempts": 0,
                "notes": notes_of(body),
                "created_at": self._now(),
                "_capture": body.get("payment_capture") in (1, True, "1", "true"),
                "_key_id": key_id,
                "_seq": ledger.next_seq(),
            }
            ledger.orders[order["id"]] = order
            return public(order)

    def fetch_order(self, order_id: str) -> Entity:
        with self._ledger.lock:
            order = self._ledger.order(order_id)
            if order is None:
                raise not_found()
            return public(order)

    def list_orders(self, receipt: str | None, count: int = 10, skip: int = 0) -> Entity:
        with self._ledger.lock:
            found = [
                o
                for o in self._ledger.orders.values()
                if receipt is None or o["receipt"] == receipt
            ]
            found.sort(key=lambda o: o["_seq"], reverse=True)
            return collection(found[skip : skip + min(max(count, 1), 100)])

    def order_payments(self, order_id: str) -> Entity:
        with self._ledger.lock:
            if self._ledger.order(order_id) is None:
                raise not_found()
            payments = self._ledger.payments_of(order_id)
            for payment in payments:
                self._lapse(payment)
            return collection(payments)

    # -- payments -------------------------------------------------------------------------
    def create_payment(self, body: Entity, base: str) -> Entity:
        """`POST /payments/create/json` and `/create/upi`: a payment on an order by card,
        UPI (collect or intent) or net banking; the answer says what comes next."""
        method = body.get("method")
        if method not in METHODS:
            raise RazorpayError("The selected method is invalid.", field="method")
        with self._change() as ledger:
            order = ledger.order(str(body.get("order_id")))
            if order is None:
                raise RazorpayError(
                    "The id provided does not exist", field="order_id", reason="invalid_order_id"
                )
            self._payable(order, body)
            check = self._check_card(body, order["amount"]) if method == "card" else None
            bank = text_of(body, "bank", 10) if method == "netbanking" else None
            vpa = upi_vpa(body) if method == "upi" else None
            payment = new_payment(order, body, self._now(), ledger.next_seq())
            ledger.payments[payment["id"]] = payment
            if check is not None:
                payment.update(card=card_entity(check), international=check.international)
                if check.otp:
                    payment["_after_otp"] = decline_fields(check.decline)
                    return {
                        "razorpay_payment_id": payment["id"],
                        "next": otp_actions(base, payment["id"]),
                    }
                return self._settle(payment, check.decline, check.account)
            if bank is not None:
                payment["bank"] = bank
                url = f"{base}/v1/payments/{payment['id']}/authenticate"
                return {
                    "razorpay_payment_id": payment["id"],
                    "next": [{"action": "redirect", "url": url}],
                }
            return self._upi(payment, vpa, base)

    def _payable(self, order: Entity, body: Entity) -> None:
        if order["status"] == "paid" or any(
            p["status"] in ("authorized", "captured", "refunded")
            for p in self._ledger.payments_of(order["id"])
        ):
            raise RazorpayError(
                "Order has already been paid", reason="order_already_paid", field="order_id"
            )
        if (
            amount_of(body) != order["amount_due"]
            or body.get("currency", "INR") != order["currency"]
        ):
            raise RazorpayError(
                "The amount and currency must match the order's",
                field="amount",
                reason="order_amount_mismatch",
            )
        text_of(body, "email")
        text_of(body, "contact", 15)

    def _check_card(self, body: Entity, amount: int) -> issuer.CardCheck:
        number, expiry, cvv = card_fields(body)
        try:
            usage = self._usage(f"{number[:6]}{number[-4:]}")
            return issuer.check_card(number, expiry, cvv, amount, usage)
        except issuer.BadCard as bad:
            raise RazorpayError(
                str(bad), field="card[number]", reason="card_number_invalid"
            ) from None

    def _usage(self, account: str) -> tuple[int, int]:
        day = self._clock.now().astimezone(UTC).date().isoformat()
        used = self._ledger.usage.get(account, {})
        return used.get("spent", 0), (used.get("count", 0) if used.get("day") == day else 0)

    def _use(self, account: str, amount: int) -> None:
        day = self._clock.now().astimezone(UTC).date().isoformat()
        spent, count = self._usage(account)
        self._ledger.usage[account] = {"spent": spent + amount, "count": count + 1, "day": day}

    def _upi(self, payment: Entity, vpa: str | None, base: str) -> Entity:
        """A collect from `vpa` (Razorpay's test VPAs answer at once, others wait for
        the payer) or, without one, an intent: its `upi://pay` link."""
        poll = [{"action": "poll", "url": f"{base}/v1/payments/{payment['id']}/status"}]
        if vpa is None:
            link = upi_link(payment)
            return {"razorpay_payment_id": payment["id"], "link": link, "next": poll}
        payment["vpa"] = vpa
        decline = issuer.check_vpa(vpa)
        if decline is not None:  # the collect fails after it was sent, as Razorpay's does
            self._fail(payment, decline)
        elif vpa == issuer.SUCCESS_VPA:
            self._settle(payment, None, None)
        return {"razorpay_payment_id": payment["id"], "next": poll}

    def _settle(
        self, payment: Entity, decline: issuer.Decline | None, account: str | None
    ) -> Entity:
        """Authorize (and capture, when its order says so) a created payment: the
        checkout's answer; or fail it: Razorpay's error answer."""
        if decline is not None:
            self._fail(payment, decline)
            raise RazorpayError(
                decline.description,
                source=decline.source,
                step=decline.step,
                reason=decline.reason,
                metadata={"payment_id": payment["id"], "order_id": payment["order_id"]},
            )
        if account is not None:
            self._use(account, payment["amount"])
        payment["status"] = "authorized"
        payment["acquirer_data"] = {"auth_code": f"{secrets.randbelow(10**6):06d}"}
        self.webhooks.emit("payment.authorized", self._now(), payment=served_payment(payment))
        order = self._ledger.orders[payment["order_id"]]
        if order["_capture"]:
            self._capture(payment)
        return {
            "razorpay_payment_id": payment["id"],
            "razorpay_order_id": order["id"],
            "razorpay_signature": self.signature(order["id"], payment["id"]),
        }

    def _fail(self, payment: Entity, decline: issuer.Decline) -> None:
        payment.update(decline_fields(decline), status="failed")
        self.webhooks.emit("payment.failed", self._now(), payment=served_payment(payment))

    def submit_otp(self, payment_id: str, otp: object) -> Entity:
        """`POST /payments/{id}/otp/submit`: 4 to 10 digits pass (Razorpay's test
        rule), fewer fail the payment (`incorrect_otp`)."""
        with self._change():
            payment = self._payment(payment_id)
            if payment["status"] != "created" or "_after_otp" not in payment:
                raise RazorpayError(
                    "The payment is not waiting for an OTP", reason="invalid_request"
                )
            after = payment.pop("_after_otp")
            code = str(otp) if isinstance(otp, str | int) else ""
            if not (code.isdigit() and 4 <= len(code) <= 10):
                decline = issuer.Decline(
                    "incorrect_otp", "The OTP is incorrect", "customer", "payment_authentication"
                )
                return self._settle(payment, decline, None)
            account = f"{payment['card']['_bin6']}{payment['card']['last4']}"
            decline = (
                issuer.Decline(
                    after["error_reason"],
                    after["error_description"],
                    after["error_source"],
                    after["error_step"],
                )
                if after
                else None
            )
            return self._settle(payment, decline, account)

    def resend_otp(self, payment_id: str, base: str) -> Entity:
        """`POST /payments/{id}/otp/resend`: the same next steps (the fake sends no SMS)."""
        with self._ledger.lock:
            payment = self._payment(payment_id)
            if payment["status"] != "created" or "_after_otp" not in payment:
                raise RazorpayError(
                    "The payment is not waiting for an OTP", reason="invalid_request"
                )
            return {"razorpay_payment_id": payment_id, "next": otp_actions(base, payment_id)}

    def complete(self, payment_id: str, success: bool) -> Entity:
        """The fake's own: the UPI payer or the bank page answers a `created` payment."""
        with self._change():
            payment = self._payment(payment_id)
            if payment["status"] != "created" or payment["method"] == "card":
                raise RazorpayError(
                    "The payment is not waiting for the customer", reason="invalid_request"
                )
            if success:
                self._settle(payment, None, None)
            else:
                reason = "payment_cancelled"
                self._fail(payment, issuer.Decline(reason, "The customer did not pay", "customer"))
            return served_payment(payment)

    def _payment(self, payment_id: str) -> Entity:
        payment = self._ledger.payments.get(payment_id)
        if payment is None:
            raise not_found()
        self._lapse(payment)
        return payment

    def _lapse(self, payment: Entity) -> None:
        """Razorpay's refund of an authorization left uncaptured past the capture window
        (the payment is `refunded`, never `captured`)."""
        age = self._now() - payment["created_at"]
        if payment["status"] == "authorized" and age > CAPTURE_WINDOW_S:
            self._refund(payment, payment["amount"], notes={"reason": "not captured in time"})
            self._ledger.save()

    def payments_noted(self, name: str, value: str) -> list[Entity]:
        """The payments whose notes say `name` = `value` (a test's count of them)."""
        with self._ledger.lock:
            found = self._ledger.payments.values()
            return [served_payment(p) for p in found if note_of(p, name) == value]

    def waiting_for(self, payment_id: str) -> str | None:
        """What a `created` payment waits for on its page: "otp", "customer" (a bank
        page or a UPI payer), or None (it waits for nothing: unknown or settled)."""
        with self._ledger.lock:
            payment = self._ledger.payments.get(payment_id)
            if payment is None or payment["status"] != "created":
                return None
            return "otp" if "_after_otp" in payment else "customer"

    def fetch_payment(self, payment_id: str) -> Entity:
        with self._ledger.lock:
            return served_payment(self._payment(payment_id))

    def capture(self, payment_id: str, body: Entity) -> Entity:
        """Capture the whole authorized amount (any other amount is refused)."""
        with self._change():
            payment = self._payment(payment_id)
            amount = amount_of(body)
            if payment["status"] == "captured" or payment["captured"]:
                raise RazorpayError(
                    "This payment has already been captured", reason="invalid_request"
                )
            if payment["status"] != "authorized":
                raise RazorpayError(
                    "Only payments which have been authorized and not yet captured can be captured",
                    reason="invalid_request",
                )
            if amount != payment["amount"]:
                raise RazorpayError(
                    "Capture amount must be equal to the amount authorized", field="amount"
                )
            if body.get("currency", payment["currency"]) != payment["currency"]:
                raise RazorpayError("The currency does not match the payment's", field="currency")
            self._capture(payment)
            return served_payment(payment)

    def _capture(self, payment: Entity) -> None:
        order = self._ledger.orders[payment["order_id"]]
        payment.update(status="captured", captured=True)
        order.update(status="paid", amount_paid=order["amount"], amount_due=0)
        now = self._now()
        self.webhooks.emit("payment.captured", now, payment=public(payment))
        self.webhooks.emit("order.paid", now, payment=public(payment), order=public(order))

    # -- refunds --------------------------------------------------------------------------
    def refund(self, payment_id: str, body: Entity, key: str | None) -> Entity:
        """Give back part or all of what was captured; several refunds up to it. The
        same `X-Refund-Idempotency` key again is the same refund."""
        with self._change() as ledger:
            payment = self._payment(payment_id)
            asked = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            if key is not None:
                if not IDEMPOTENCY_KEY.fullmatch(key):
                    raise RazorpayError(
                        "The idempotency key must be at least 10 letters, digits, - or _",
                        field="X-Refund-Idempotency",
                    )
                for earlier in ledger.refunds_of(payment_id):
                    if earlier["_key"] == key and earlier["_asked"] != asked:
                        raise RazorpayError(
                            "Different request with the same idempotency key has already "
                            "been processed.",
                            source="NA",
                            step="NA",
                            reason="NA",
                        )
                    if earlier["_key"] == key:
                        return public(earlier)
            if not payment["captured"]:
                raise RazorpayError(
                    "The payment has not been captured yet", reason="invalid_request"
                )
            left = payment["amount"] - payment["amount_refunded"]
            amount = amount_of(body) if "amount" in body else left
            if amount > left:
                raise RazorpayError(
                    "The refund amount provided is greater than amount captured", field="amount"
                )
            speed = str(body.get("speed", "normal"))
            refund = self._refund(payment, amount, body.get("receipt"), key, notes_of(body), speed)
            refund["_asked"] = asked
            return public(refund)

    def _refund(
        self,
        payment: Entity,
        amount: int,
        receipt: object = None,
        key: str | None = None,
        notes: object = None,
        speed: str = "normal",
    ) -> Entity:
        """A processed refund of `amount` of `payment` (its event sent)."""
        refund = {
            "id": new_id("rfnd_"),
            "entity": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "payment_id": payment["id"],
            "notes": notes or [],
            "receipt": receipt,
            "acquirer_data": {"arn": None},
            "created_at": self._now(),
            "batch_id": None,
            "status": "processed",
            "speed_processed": "normal",
            "speed_requested": speed,
            "_key": key,
            "_seq": self._ledger.next_seq(),
        }
        self._ledger.refunds[refund["id"]] = refund
        payment["amount_refunded"] += amount
        full = payment["amount_refunded"] == payment["amount"]
        payment.update(refund_status="full" if full else "partial")
        if full:
            payment["status"] = "refunded"
        self.webhooks.emit(
            "refund.processed", self._now(), refund=public(refund), payment=served_payment(payment)
        )
        return refund

    def fetch_refund(self, refund_id: str, payment_id: str | None = None) -> Entity:
        with self._ledger.lock:
            refund = self._ledger.refunds.get(refund_id)
            if refund is None or payment_id not in (None, refund["payment_id"]):
                raise not_found()
            return public(refund)

    def payment_refunds(self, payment_id: str) -> Entity:
        with self._ledger.lock:
            self._payment(payment_id)
            return collection(self._ledger.refunds_of(payment_id))
