"""What risk decisions are made of: the limits, what a rule sees, the verdict, a block.

Plain models, apart from the engine (`gateway_core.risk`), so that a payment, the settings
and the ports can hold them without importing the engine.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["allow", "otp", "block", "review"]


class RiskLimits(BaseModel):
    """Thresholds of the built-in rules: Settings `risk`, the config file's `[risk]`
    table, or `PAYGATE_RISK__<NAME>` in the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_minute: int = Field(default=3, gt=0)  # attempts with one card in a minute
    per_day: int = Field(default=20, gt=0)  # attempts with one card in a business day
    testing_declines: int = Field(default=5, gt=0)  # declines on one terminal within the window...
    testing_window_min: int = Field(default=10, gt=0)
    testing_pause_min: int = Field(default=15, gt=0)  # ...pause it this long
    card_declines: int = Field(default=3, gt=0)  # declines on one card block it for the day
    usual_ticket_factor: int = Field(default=10, gt=1)  # above this many times the average → OTP
    usual_ticket_min_history: int = Field(default=20, gt=0)  # approved payments for an average
    step_up_threshold: int = Field(default=5_000_00, gt=0)  # minor units; above it → OTP
    merchant_country: str = "IN"
    allowed_cards: tuple[str, ...] = ()  # fingerprints the merchant trusts

    @classmethod
    def relaxed(cls) -> RiskLimits:
        """Limits no run of test cards reaches: for benches that exercise the banks."""
        big = 10**9
        return cls(
            per_minute=big,
            per_day=big,
            testing_declines=big,
            card_declines=big,
            step_up_threshold=big * 100,
            usual_ticket_min_history=big,
        )

    @property
    def testing_window(self) -> timedelta:
        return timedelta(minutes=self.testing_window_min)

    @property
    def testing_pause(self) -> timedelta:
        return timedelta(minutes=self.testing_pause_min)


class Context(BaseModel):
    """What the rules see of a payment about to be sent."""

    fingerprint: str  # who pays, keyed ("": not known yet, a UPI QR)
    bin6: str  # a card's ("" for UPI)
    terminal_id: str
    amount: int
    currency: str
    at: datetime
    merchant_id: str | None = None  # None: the home merchant
    payer: str = "card"  # what the fingerprint is of, in reasons ("card", "UPI ID")


class Factor(BaseModel):
    """One reason behind a score."""

    rule: str
    points: int
    reason: str


class ModelReason(BaseModel):
    """One of the fraud model's top reasons: a feature, in words, and its weight (its
    contribution to the log-odds)."""

    feature: str
    text: str
    weight: float


class ModelScore(BaseModel):
    """The fraud model's verdict: its score (0-100), what its thresholds say, why, which
    model, and whether it decided or only watched (`shadow`)."""

    score: int
    action: Action
    reasons: list[ModelReason]
    version: int
    mode: Literal["decide", "shadow"]


class ModelSettings(BaseModel):
    """The fraud model (Settings `fraud`, `[fraud]`, `PAYGATE_FRAUD__<NAME>`): scores at
    or above `step_up_at` ask for an OTP, at or above `block_at` decline; `shadow` scores
    and records without deciding; `off` leaves the rules alone. Without a model file the
    rules alone decide."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["decide", "shadow", "off"] = "decide"
    step_up_at: int = Field(default=40, ge=0, le=100)
    block_at: int = Field(default=85, ge=0, le=100)
    drift_at: float = Field(default=0.2, gt=0)  # a day's score PSI warning (console)


class Assessment(BaseModel):
    """The verdict: what to do, the score, why, and which rule decided (and the fraud
    model's verdict, when a model is in use)."""

    action: Action
    score: int
    factors: list[Factor]
    rule: str | None = None
    reason: str | None = None
    review: bool = False
    model: ModelScore | None = None


class Block(BaseModel):
    """An active block: a terminal paused or a card blocked, until a time."""

    scope: Literal["terminal", "card"]
    key: str
    until: datetime
    rule: str
    reason: str
    merchant_id: str | None = None
