"""How the simulated banks behave: latency per hop, fault timings, step-up, OTP, and
where the net banking pages are reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from bank_sim.otp import OtpPolicy
from bank_sim.testcards import Fault
from gateway_core.clock import Clock, SystemClock


@dataclass
class BankConfig:
    """Settings of one simulator instance (embedded or `paygate banks serve`)."""

    data_dir: Path
    latency_ms: dict[str, float] = field(default_factory=dict)  # "acquirer", "network", "issuer"
    timeout_fault_s: float = 30.0  # how long a "timeout" issuer sits on its answer
    slow_fault_s: float = 3.0  # how long a "slow" issuer takes
    step_up_threshold: int = 10_000_00  # above this, "above_threshold" cards get an OTP
    issuer_faults: dict[str, Fault] = field(default_factory=dict)  # issuer id → fault
    otp: OtpPolicy = field(default_factory=OtpPolicy)
    clock: Clock = field(default_factory=SystemClock)
    tz: tzinfo | None = None  # business days (None: the machine's timezone)
    merchant_id: str = "PAYGATEDEMO0001"
    merchant_name: str = "Paygate Demo Store"
    terminal_ids: tuple[str, ...] = ("TERM0001", "TERM0002", "TERM0003")
    upi_slow_s: float = 30.0  # how long slow@payer's bank takes to answer
    upi_bank_down_s: float = 120.0  # how long bankdown@payer's bank stays down
    upi_daily_count: int = 1000  # debits a payer may make a day (Z8 past it)
    upi_daily_amount: int = 1_00_000_00  # paise a payer may pay a day (Z8 past it)
    # the net banking pages' address as customers' browsers reach it (login URLs are
    # absolute): `paygate banks serve` sets its own http://HOST:PORT, `paygate serve`
    # its `{public_url}/sim`; None: http://banks, the embedded client's base
    nb_public_url: str | None = None

    @classmethod
    def demo(cls, data_dir: Path, **overrides) -> BankConfig:
        """A short, realistic delay per hop, for demos."""
        return cls(data_dir, latency_ms={"acquirer": 60, "network": 90, "issuer": 150}, **overrides)
