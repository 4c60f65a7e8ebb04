"""The fraud model in the risk path: `RiskEngine.attach(FraudHook(...))`.

The rules run first; the hook scores the attempt from its features (`FeatureState`,
fed the stored attempts on open and each one after) and:

- `decide` mode: the stricter of the rules' action and the model's thresholds wins
  (allow < OTP < block; a UPI payer has no OTP step, so there it flags for review), and
  the payment's score is the model's; a card on the merchant's allow list stays allowed.
- `shadow` mode: the model's verdict is recorded with the rules' unchanged.

No model file, or mode `off`: nothing is attached and the rules alone decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Protocol

from gateway_core.fraud.features import Attempt, FeatureState
from gateway_core.fraud.files import newest_model
from gateway_core.fraud.monitor import ScoreWatch, watch_day
from gateway_core.ports import Record
from gateway_core.risk_models import Action, Assessment, Context, ModelScore, ModelSettings
from gateway_core.settings import Settings

if TYPE_CHECKING:  # lightgbm is imported only when a model file is there
    from gateway_core.fraud.model import FraudModel

REBUILD_DAYS = 90  # as long as the history a model is trained on
SEVERITY: dict[Action, int] = {"allow": 0, "review": 1, "otp": 2, "block": 3}
CountryOf = Callable[[str], str | None]
Merchant = Callable[[str | None], str | None]


class FraudHook:
    """A loaded model, its thresholds and the features' state."""

    def __init__(
        self,
        model: FraudModel,
        settings: ModelSettings,
        *,
        tz: tzinfo | None,
        merchant_country: str,
        country_of: CountryOf,
    ) -> None:
        self.model, self.settings = model, settings
        self._tz, self._home = tz, merchant_country
        self._country_of = country_of
        self.state = self._fresh()

    def _fresh(self) -> FeatureState:
        return FeatureState(tz=self._tz, merchant_country=self._home)

    def rebuild(self, events: Iterable[Record], merchant: Merchant) -> None:
        """Forget, then learn the stored attempts (oldest first) of the last
        `REBUILD_DAYS` before the newest: what a model sees of a card's past."""
        self.state = self._fresh()
        docs = list(events)
        if not docs:
            return
        since = (date.fromisoformat(docs[-1]["day"]) - timedelta(days=REBUILD_DAYS)).isoformat()
        for doc in docs:
            if doc["day"] >= since:
                self.learn(doc, merchant(doc.get("merchant_id")))

    def learn(self, doc: Record, merchant: str | None) -> None:
        """One attempt, as the risk engine stores it (those stored before the model, with
        no amount, and those of a payer not known yet are left out)."""
        if "amount" not in doc or not doc["fingerprint"]:
            return
        self.state.learn(
            self._attempt(
                merchant,
                doc["fingerprint"],
                doc["terminal_id"],
                int(doc["amount"]),
                doc.get("bin6", ""),
                datetime.fromisoformat(doc["at"]),
                declined=doc["outcome"] == "declined",
            )
        )

    def _attempt(
        self,
        merchant: str | None,
        payer: str,
        terminal: str,
        amount: int,
        bin6: str,
        at: datetime,
        *,
        declined: bool = False,
    ) -> Attempt:
        return Attempt(
            at=at,
            card=f"{merchant}/{payer}",
            terminal=f"{merchant}/{terminal}",
            amount=amount,
            bin6=bin6,
            country=(self._country_of(bin6) or "") if bin6 else "",
            declined=declined,
        )

    def decide(self, ctx: Context, rules: Assessment, merchant: str | None) -> Assessment:
        """The verdict with the model's score and reasons on it."""
        if not ctx.fingerprint:
            return rules
        attempt = self._attempt(
            merchant, ctx.fingerprint, ctx.terminal_id, ctx.amount, ctx.bin6, ctx.at
        )
        score, reasons = self.model.explain(self.state.features(attempt), ctx.currency)
        s = self.settings
        action: Action = (
            "block" if score >= s.block_at else "otp" if score >= s.step_up_at else "allow"
        )
        if action == "otp" and ctx.payer != "card":
            action = "review"
        shadow = s.mode == "shadow"
        verdict = ModelScore(
            score=score,
            action=action,
            reasons=reasons,
            version=self.model.info.version,
            mode="shadow" if shadow else "decide",
        )
        if shadow:
            return rules.model_copy(update={"model": verdict})
        allowed = any(f.rule == "allow_list" for f in rules.factors)
        if allowed or SEVERITY[action] <= SEVERITY[rules.action]:
            return rules.model_copy(update={"model": verdict, "score": score})
        why = f"fraud score {score}: {reasons[0].text}"
        if action == "review":
            return rules.model_copy(
                update={"model": verdict, "score": score, "review": True}
                | ({} if rules.rule else {"rule": "fraud_model", "reason": why})
            )
        return rules.model_copy(
            update={
                "model": verdict,
                "score": score,
                "action": action,
                "rule": "fraud_model",
                "reason": why,
                "review": rules.review and action != "block",
            }
        )

    def watch(self, day: date, payments: Iterable[Record]) -> ScoreWatch | None:
        """The day's scores and decisions, and their drift from the model's test days."""
        return watch_day(day, payments, self.model.info.reference, self.settings.drift_at)


class Attachable(Protocol):
    def attach(self, fraud: FraudHook) -> None: ...


def attach_model(
    engine: Attachable, settings: Settings, *, country_of: CountryOf
) -> FraudHook | None:
    """Attach the newest model of the data dir to `engine` with the `fraud` settings;
    None (the rules alone) when there is no model file or the mode is `off`."""
    path = newest_model(settings.data_dir) if settings.fraud.mode != "off" else None
    if path is None:
        return None
    from gateway_core.fraud.model import FraudModel

    hook = FraudHook(
        FraudModel.load(path),
        settings.fraud,
        tz=settings.tz,
        merchant_country=settings.risk.merchant_country,
        country_of=country_of,
    )
    engine.attach(hook)
    return hook
