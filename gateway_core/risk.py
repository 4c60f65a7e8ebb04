"""Risk rules, checked before a payment goes to the bank.

Rules are small declarative objects in four classes, evaluated in Stripe Radar's
order: *request OTP* rules first (any match asks the issuer for a challenge), then
*allow* (a match skips block and review), then *block* (the first match declines
without contacting the bank, `decline_code` `blocked_by_risk`), then *review* (the
first match flags the payment for the merchant). Every matching rule adds its points
to a 0-100 score; the score and the factors are stored with the payment.

Who pays is a keyed fingerprint: a card's, or a UPI payer's VPA (never the VPA itself).
An empty one means the payer is not known yet (a UPI QR before anyone scanned it): only
the terminal's rules apply then, and the attempt counts for the terminal alone.

State lives in a `RiskRepository` (the main database): today's attempts per card and
terminal (rebuilt from the store on start) and active blocks (a paused terminal, a card blocked for
the rest of the day). Each merchant has its own: its counters, blocks and usual ticket
never see another merchant's payments (a record with no merchant id is the home
merchant's, the settings' `merchant_id`).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal

from gateway_core.clock import Clock, business_day
from gateway_core.fraud.hook import FraudHook
from gateway_core.money import Money
from gateway_core.ports import Record, RiskRepository
from gateway_core.presentation import format_money, time_text
from gateway_core.risk_models import Action, Assessment, Block, Context, Factor, RiskLimits

Kind = Literal["otp", "allow", "block", "review"]
ORDER: tuple[Kind, ...] = ("otp", "allow", "block", "review")
CountryOf = Callable[[str], str | None]  # BIN-6 → ISO country of the issuer, None: unknown


def unknown_country(bin6: str) -> str | None:
    """No BIN table: every card's country is unknown (the foreign-card rule never fires)."""
    return None


@dataclass(frozen=True)
class Rule:
    """A declarative rule: a name, a class, points, and a check giving a reason or None."""

    name: str
    kind: Kind
    points: int
    describe: str
    check: Callable[[Context], str | None] = field(repr=False)


class RiskEngine:
    """Evaluates the rules and keeps the state they need."""

    def __init__(
        self,
        state: RiskRepository,
        limits: RiskLimits,
        clock: Clock,
        tz: tzinfo | None = None,
        home: str | None = None,
        *,
        country_of: CountryOf = unknown_country,
    ) -> None:
        """`country_of`: the issuing country of a BIN-6, for the foreign-card rule."""
        self.limits = limits
        self._clock = clock
        self._tz = tz
        self._home = home
        self._state = state
        self._country_of = country_of
        self.fraud: FraudHook | None = None  # the fraud model, when one is attached
        self.resync()
        self.rules = self._built_in()

    def resync(self) -> None:
        """Count today's attempts and declines from the stored events (at start, and
        after a block of writes with an event in it was rolled back)."""
        # keyed by (merchant, card fingerprint or terminal id); each list in time order
        self._attempts: dict[tuple[str | None, str], list[datetime]] = {}
        self._declines: dict[tuple[str | None, str], list[datetime]] = {}
        self._card_declines: dict[tuple[str | None, str], int] = {}
        self._day = business_day(self._clock, self._tz)
        for doc in self._state.events():
            if date.fromisoformat(doc["day"]) == self._day:
                self._remember(doc)
        if self.fraud is not None:
            self.fraud.rebuild(self._state.events(), self._merchant)

    def attach(self, fraud: FraudHook) -> None:
        """Let the fraud model score (and, unless in shadow mode, decide) from now on;
        its features are rebuilt from the stored attempts."""
        self.fraud = fraud
        fraud.rebuild(self._state.events(), self._merchant)

    # -- state -------------------------------------------------------------------------
    def _merchant(self, merchant_id: str | None) -> str | None:
        return merchant_id or self._home

    def _remember(self, doc: Record) -> None:
        at, merchant = datetime.fromisoformat(doc["at"]), self._merchant(doc.get("merchant_id"))
        card = (merchant, doc["fingerprint"])
        if doc["fingerprint"]:
            insort(self._attempts.setdefault(card, []), at)
        if doc["outcome"] == "declined":
            insort(self._declines.setdefault((merchant, doc["terminal_id"]), []), at)
            if doc["fingerprint"]:
                self._card_declines[card] = self._card_declines.get(card, 0) + 1

    def _roll_day(self) -> None:
        today = business_day(self._clock, self._tz)
        if today != self._day:
            self._day = today
            self._attempts.clear()
            self._declines.clear()
            self._card_declines.clear()

    def _count_since(self, times: Sequence[datetime], since: datetime) -> int:
        """How many of `times` (in time order) are after `since`: a bisection, so a busy
        card's check does not grow with its attempts of the day."""
        return len(times) - bisect_right(times, since)

    def _times(
        self, merchant: str | None, memory: list[datetime] | None, **match: str
    ) -> Sequence[datetime]:
        """Today's attempts that match, in time order: the store's when other processes
        record them too (a database server: in the order they were stored), else this
        process's memory of them."""
        shared = self._state.attempts(merchant, self._day, **match)
        return memory or () if shared is None else sorted(shared)

    def _average_ticket(self, ctx: Context) -> int | None:
        doc = self._state.ticket(self._merchant(ctx.merchant_id), ctx.currency)
        if not doc or doc["count"] < self.limits.usual_ticket_min_history:
            return None
        return int(doc["sum"]) // int(doc["count"])

    def blocks(self, merchant_id: str | None = None) -> list[Block]:
        """A merchant's blocks in force now (the home merchant's by default)."""
        now, merchant = self._clock.now(), self._merchant(merchant_id)
        return [
            Block.model_validate(doc)
            for doc in self._state.blocks()
            if datetime.fromisoformat(doc["until"]) > now
            and self._merchant(doc.get("merchant_id")) == merchant
        ]

    def _blocked(self, scope: str, key: str, ctx: Context) -> Block | None:
        return next(
            (b for b in self.blocks(ctx.merchant_id) if b.scope == scope and b.key == key), None
        )

    # -- the rules ------------------------------------------------------------------------
    def _built_in(self) -> list[Rule]:
        lim = self.limits

        def money(minor: int, ctx: Context) -> str:
            return format_money(Money(minor, ctx.currency))

        def allowed(ctx: Context) -> str | None:
            return (
                "card is on the merchant's allow list"
                if ctx.fingerprint and ctx.fingerprint in lim.allowed_cards
                else None
            )

        def threshold(ctx: Context) -> str | None:
            if ctx.amount > lim.step_up_threshold:
                return f"amount above the {money(lim.step_up_threshold, ctx)} OTP threshold"
            return None

        def unusual(ctx: Context) -> str | None:
            average = self._average_ticket(ctx)
            if average and ctx.amount > average * lim.usual_ticket_factor:
                usual = money(average, ctx)
                return f"amount over {lim.usual_ticket_factor}x the usual ticket of {usual}"
            return None

        def paused(ctx: Context) -> str | None:
            block = self._blocked("terminal", ctx.terminal_id, ctx)
            return (
                f"terminal paused until {self._hhmm(block.until)}: {block.reason}"
                if block
                else None
            )

        def card_blocked(ctx: Context) -> str | None:
            block = self._blocked("card", ctx.fingerprint, ctx) if ctx.fingerprint else None
            return (
                f"{ctx.payer} blocked until {self._hhmm(block.until)}: {block.reason}"
                if block
                else None
            )

        def velocity(ctx: Context) -> str | None:
            if not ctx.fingerprint:
                return None
            merchant = self._merchant(ctx.merchant_id)
            memory = self._attempts.get((merchant, ctx.fingerprint))
            times = self._times(merchant, memory, fingerprint=ctx.fingerprint)
            minute = self._count_since(times, ctx.at - timedelta(minutes=1))
            this = f"this {ctx.payer}"
            if minute >= lim.per_minute:
                return f"{minute} attempts with {this} in the last minute (limit {lim.per_minute})"
            if (today := len(times)) >= lim.per_day:
                return f"{today} attempts with {this} today (limit {lim.per_day})"
            return None

        def foreign(ctx: Context) -> str | None:
            country = self._country_of(ctx.bin6) if ctx.bin6 else None
            if country and country != lim.merchant_country:
                return f"card issued in {country}, merchant in {lim.merchant_country}"
            return None

        return [
            Rule("step_up_threshold", "otp", 20, "amount above the OTP threshold", threshold),
            Rule("unusual_ticket", "otp", 25, "amount far above the usual ticket", unusual),
            Rule("allow_list", "allow", 0, "card on the merchant's allow list", allowed),
            Rule("card_testing", "block", 90, "too many declines on this terminal", paused),
            Rule("repeated_declines", "block", 80, "card declined too often today", card_blocked),
            Rule("velocity", "block", 70, "too many attempts with one card", velocity),
            Rule("foreign_card", "review", 25, "card from another country", foreign),
        ]

    def _hhmm(self, when: datetime) -> str:
        return time_text(when, self._tz, seconds=False)

    # -- evaluating -----------------------------------------------------------------------
    def assess(self, ctx: Context) -> Assessment:
        """Run the rules in Radar order; nothing is written."""
        self._roll_day()
        verdicts: dict[Kind, Factor] = {}
        factors: list[Factor] = []
        for kind in ORDER:
            if kind in ("block", "review") and "allow" in verdicts:
                break
            if kind == "otp" and ctx.payer != "card":  # UPI: the PIN is the payer's step
                continue
            for rule in (r for r in self.rules if r.kind == kind):
                reason = rule.check(ctx)
                if reason:
                    factor = Factor(rule=rule.name, points=rule.points, reason=reason)
                    factors.append(factor)
                    verdicts.setdefault(kind, factor)
        score = min(100, sum(f.points for f in factors))
        decided = verdicts.get("block") or verdicts.get("otp")
        action: Action = "block" if "block" in verdicts else "otp" if "otp" in verdicts else "allow"
        review = verdicts.get("review")
        shown = decided or review
        verdict = Assessment(
            action=action,
            score=score,
            factors=factors,
            rule=shown.rule if shown else None,
            reason=shown.reason if shown else None,
            review=review is not None and action != "block",
        )
        if self.fraud is None:
            return verdict
        return self.fraud.decide(ctx, verdict, self._merchant(ctx.merchant_id))

    def record(self, ctx: Context, outcome: Literal["approved", "declined", "blocked"]) -> None:
        """Remember an attempt; declines may pause the terminal or block the card."""
        self._roll_day()
        merchant = self._merchant(ctx.merchant_id)
        doc: Record = {
            "day": self._day.isoformat(),
            "at": ctx.at.isoformat(),
            "fingerprint": ctx.fingerprint,
            "terminal_id": ctx.terminal_id,
            "outcome": outcome,
            "amount": ctx.amount,  # for the fraud model's features
            "bin6": ctx.bin6,
        }
        self._state.add_event(merchant, doc)
        self._remember({**doc, "merchant_id": merchant})
        if self.fraud is not None:
            self.fraud.learn(doc, merchant)
        if outcome == "approved":
            self._state.add_ticket(merchant, ctx.currency, ctx.amount)
        if outcome != "declined":
            return
        lim = self.limits
        memory = self._declines.get((merchant, ctx.terminal_id))
        terminal = self._times(merchant, memory, terminal_id=ctx.terminal_id, outcome="declined")
        recent = self._count_since(terminal, ctx.at - lim.testing_window)
        if recent >= lim.testing_declines and not self._blocked("terminal", ctx.terminal_id, ctx):
            minutes = int(lim.testing_window.total_seconds() // 60)
            self._block(
                ctx,
                "terminal",
                ctx.terminal_id,
                ctx.at + lim.testing_pause,
                "card_testing",
                f"{recent} declines in {minutes} minutes",
            )
        shared = self._state.attempts(
            merchant, self._day, fingerprint=ctx.fingerprint or "", outcome="declined"
        )
        declines = self._card_declines.get((merchant, ctx.fingerprint), 0)
        declines = declines if shared is None else len(shared)
        if (
            ctx.fingerprint
            and declines >= lim.card_declines
            and not self._blocked("card", ctx.fingerprint, ctx)
        ):
            zone = self._tz or ctx.at.astimezone().tzinfo
            end_of_day = datetime.combine(self._day + timedelta(days=1), time(), zone)
            self._block(
                ctx,
                "card",
                ctx.fingerprint,
                end_of_day,
                "repeated_declines",
                f"{declines} declines today",
            )

    def _block(
        self, ctx: Context, scope: str, key: str, until: datetime, rule: str, reason: str
    ) -> None:
        block = {"scope": scope, "key": key, "until": until.isoformat(), "rule": rule}
        self._state.add_block(self._merchant(ctx.merchant_id), {**block, "reason": reason})
