"""The issuing banks: cardholder accounts, the authorization decision, holds, OTP.

The issuer never stores a PAN: accounts are found by a keyed fingerprint of the card
number (HMAC under the banks' own key), and the CVV on file is kept the same way.
It decides, in this order: account exists (14) → fault (96) → status (05/41/43) →
expiry (54) → CVV (N7) → currency (57) → per-payment limit (61) → daily count (65) →
step-up (1A with a challenge, unless a passed challenge is redeemed) → funds (51) →
approve with a hold.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import replace
from typing import Any

from bank_sim import iso8583
from bank_sim.config import BankConfig
from bank_sim.ledger import Ledger, merchant_account
from bank_sim.otp import OtpService
from bank_sim.testcards import ISSUERS, LOAD_TEST_CARD, TEST_CARDS, Issuer, TestCard
from gateway_core.cards import is_load_test_pan, mask_pan, parse_expiry
from gateway_core.clock import business_day
from gateway_core.money import Money
from gateway_core.presentation import format_money
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents

ISSUER_BY_ID = {issuer.id: issuer for issuer in ISSUERS}


class IssuerUnavailable(Exception):
    """The issuer answered with an HTTP 5xx (a configured fault)."""


class Issuers:
    """Every simulated issuer, sharing one store and ledger."""

    def __init__(
        self,
        db: JournaledDB,
        ledger: Ledger,
        otp: OtpService,
        key: bytes,
        config: BankConfig,
    ) -> None:
        self._db = db
        self._accounts = Documents(db, "accounts", key="fp")
        self._holds = Documents(db, "holds", key="rrn")
        self._ledger = ledger
        self._key = key
        self._config = config
        self.otp = otp
        self._approvals = Counter((doc["account"], doc["day"]) for doc in self._holds)
        if not self._accounts:
            self._seed()

    # -- accounts ----------------------------------------------------------------------
    def _fp(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def _seed(self) -> None:
        with self._db.journal.atomic():
            for number, card in enumerate(TEST_CARDS, start=1):
                self._open(f"acct_{number:04d}", card)

    def _open(self, account_id: str, card: TestCard) -> None:
        pan = card.digits
        record = {
            "id": account_id,
            "fp": self._fp(pan),
            "cvv_fp": self._fp(pan + (card.issuer_cvv or card.cvv)),
            "issuer": card.issuer,
            "card": mask_pan(pan),
            "funding": card.funding,
            "status": card.status,
            "currency": "INR",
            "txn_limit": card.txn_limit,
            "daily_count": card.daily_count,
            "step_up": card.step_up,
            "fault": card.fault,
            "expiry": card.issuer_expiry,
            "phone": card.phone,
            "country": card.country,
        }
        self._accounts.add(record)
        self._ledger.open_account(f"card:{account_id}", card.balance)

    def account_for(self, pan: str) -> dict[str, Any] | None:
        """The account of a card number, if this world issued it."""
        return self._accounts.get(self._fp(pan))

    def _account_or_load_test(self, pan: str) -> dict[str, Any] | None:
        """The account of a card number; a load-test card's is opened at its first use."""
        account = self.account_for(pan)
        if account is None and is_load_test_pan(pan):
            with self._db.journal.atomic():  # joins the caller's entry, if any
                self._open(f"load_{self._fp(pan)[:20]}", replace(LOAD_TEST_CARD, pan=pan))
            account = self.account_for(pan)
        return account

    def issuer_for_bin(self, network: str, pan: str) -> Issuer | None:
        """The issuer a network routes this card to, by BIN."""
        return next((i for i in ISSUERS if i.network == network and pan[:6] in i.bins), None)

    def fault(self, account: dict[str, Any] | None, issuer: Issuer) -> str | None:
        """The fault configured for this card, else for its issuer."""
        return (account or {}).get("fault") or self._config.issuer_faults.get(issuer.id)

    def accounts(self) -> list[dict[str, Any]]:
        """Every account with its balances."""
        out = []
        for doc in self._accounts:
            available = self._ledger.balance(f"card:{doc['id']}")
            held = self._ledger.balance(f"hold:{doc['id']}")
            out.append({**doc, "available": available, "held": held})
        return out

    # -- the decision --------------------------------------------------------------------
    def authorize(self, request: dict[str, str], issuer: Issuer) -> dict[str, str]:
        """Decide a 0100 and answer 0110 (placing the hold when approving), or a sale's
        0200 and answer 0210 (the money goes to the merchant at once)."""
        response = iso8583.response_for(request)
        pan, amount = request["2"], int(request["4"])
        extra = iso8583.private_data(request)
        account = self._account_or_load_test(pan)
        code, challenge = self._decide(request, pan, amount, extra, account)
        if code == "00":
            self._hold(account, request, amount)
            response["38"] = secrets.token_hex(3).upper()
        response["39"] = code
        if challenge:
            response = iso8583.with_private_data(response, CH=challenge)
        return response

    def _decide(self, request, pan, amount, extra, account) -> tuple[str, str | None]:
        if account is None:
            return "14", None
        if account["fault"] == "system_error":
            return "96", None
        status = {"blocked": "05", "lost": "41", "stolen": "43"}.get(account["status"])
        if status:
            return status, None
        keyed = f"{request['14'][2:]}/{request['14'][:2]}"
        on_file = parse_expiry(account["expiry"])
        if keyed != account["expiry"] or on_file.is_expired(self._today()):
            return "54", None
        cvv = extra.get("CVV")
        if cvv is not None and not hmac.compare_digest(self._fp(pan + cvv), account["cvv_fp"]):
            return "N7", None
        currency = iso8583.CURRENCY_ALPHA.get(request["49"])
        if currency != account["currency"]:
            return "57", None
        if amount > account["txn_limit"]:
            return "61", None
        if self._approvals_today(account["id"]) >= account["daily_count"]:
            return "65", None
        requested = extra.get("SCA") == "Y"
        if self._needs_step_up(account, amount, requested) and not self._authenticated(
            request, extra
        ):
            return "1A", self._challenge(request, account, amount, currency)
        if self._ledger.balance(f"card:{account['id']}") < amount:
            return "51", None
        return "00", None

    def _today(self):
        return business_day(self._config.clock, self._config.tz)

    def _approvals_today(self, account_id: str) -> int:
        return self._approvals[(account_id, self._today().isoformat())]

    def _needs_step_up(self, account: dict[str, Any], amount: int, requested: bool) -> bool:
        policy = account["step_up"]
        return (
            requested
            or policy == "always"
            or (policy == "above_threshold" and amount > self._config.step_up_threshold)
        )

    def _authenticated(self, request: dict[str, str], extra: dict[str, str]) -> bool:
        value = extra.get("AUTH")
        return bool(value) and self.otp.redeem(request["37"], value)

    def _challenge(self, request, account, amount: int, currency: str) -> str:
        amount_text = format_money(Money(amount, currency))
        merchant_id = request["42"]  # DE42: the merchant the acquirer boarded
        home = merchant_id == self._config.merchant_id
        challenge = self.otp.start(
            request["37"],
            account["phone"],
            amount_text=amount_text,
            merchant=self._config.merchant_name if home else merchant_id,
            merchant_id=merchant_id,
        )
        return challenge.id

    # -- holds and their fate ----------------------------------------------------------------
    def _hold(self, account: dict[str, Any], request: dict[str, str], amount: int) -> None:
        """Hold `amount` for an 0100; for a sale's 0200 pay the merchant (DE42) at once."""
        sale = request["t"] == "0200"
        record = {
            "rrn": request["37"],
            "account": account["id"],
            "amount": amount,
            "live": 0 if sale else amount,
            "captured": amount if sale else 0,
            "refunded": 0,
            "day": self._today().isoformat(),
        }
        card = f"card:{account['id']}"
        if sale:
            record["merchant"] = merchant_account(request["42"])
        to = record["merchant"] if sale else f"hold:{account['id']}"
        with self._db.journal.atomic():
            self._holds.add(record)
            self._approvals[(account["id"], record["day"])] += 1
            self._ledger.post(
                "sale" if sale else "authorization", record["rrn"], [(card, -amount), (to, amount)]
            )

    def hold(self, rrn: str) -> dict[str, Any] | None:
        """The issuer's record of an authorization, by RRN."""
        return self._holds.get(rrn)

    def release(self, rrn: str) -> int:
        """0400: give the live hold back to the cardholder, or a sale's money (not
        refunded) from the merchant; returns what went back."""
        hold = self.hold(rrn)
        if hold is None:
            return 0
        if hold["live"]:
            back, source, update = hold["live"], f"hold:{hold['account']}", {"live": 0}
        elif "merchant" in hold and hold["captured"] and not hold["refunded"]:
            back, source, update = hold["captured"], hold["merchant"], {"captured": 0}
        else:
            return 0
        with self._db.journal.atomic():
            self._ledger.post("reversal", rrn, [(source, -back), (f"card:{hold['account']}", back)])
            self._holds.update(rrn, update)
        return back

    def capture(self, rrn: str, amount: int, merchant_account: str) -> int:
        """0220: move `amount` of the hold to the merchant, release the rest."""
        hold = self.hold(rrn)
        acct, live = hold["account"], hold["live"]
        with self._db.journal.atomic():
            self._ledger.post(
                "capture",
                rrn,
                [
                    (f"hold:{acct}", -live),
                    (f"card:{acct}", live - amount),
                    (merchant_account, amount),
                ],
            )
            self._holds.update(rrn, {"live": 0, "captured": amount})
        return live - amount

    def refund(self, rrn: str, refund_id: str, amount: int, merchant_account: str) -> None:
        """0200 refund: money goes back from the merchant to the cardholder."""
        hold = self.hold(rrn)
        with self._db.journal.atomic():
            self._ledger.post(
                "refund",
                refund_id,
                [
                    (merchant_account, -amount),
                    (f"card:{hold['account']}", amount),
                ],
            )
            self._holds.update(rrn, {"refunded": hold["refunded"] + amount})

    def live_rrns(self) -> dict[str, str]:
        """RRN → account id of every authorization that still holds money."""
        return {hold["rrn"]: hold["account"] for hold in self._holds if hold["live"]}

    def live_holds(self) -> dict[str, int]:
        """Hold account → the sum of live authorizations on it (for the ledger check)."""
        totals: dict[str, int] = {}
        for hold in self._holds:
            if hold["live"]:
                key = f"hold:{hold['account']}"
                totals[key] = totals.get(key, 0) + hold["live"]
        return totals
