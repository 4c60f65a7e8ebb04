"""A small simulated history and the model trained on it, made once per test run."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from bank_sim.fraud.simulate import Sizes, simulate
from gateway_core.fraud.files import newest_model
from gateway_core.fraud.history import HistoryRecord, history_bytes
from gateway_core.fraud.model import FraudModel
from gateway_core.fraud.training import Evaluation, train
from gateway_core.risk_models import ModelSettings, RiskLimits

SEED = 7
SIZES = Sizes(days=35, payers=1000, terminals=12)  # about 8,000 attempts, 4% fraud
TEST_DAYS = 10
SIM_ARGS = ("--days", "35", "--payers", "1000", "--terminals", "12", "--seed", "7")


@lru_cache(maxsize=1)
def small_history() -> tuple[HistoryRecord, ...]:
    return tuple(simulate(SEED, SIZES))


@lru_cache(maxsize=1)
def small_model() -> tuple[FraudModel, Evaluation]:
    records = small_history()
    digest = hashlib.sha256(history_bytes(records)).hexdigest()
    return train(
        records,
        digest,
        test_days=TEST_DAYS,
        version=1,
        thresholds=ModelSettings(),
        limits=RiskLimits(),
    )


def install_model(data_dir: Path) -> Path:
    """The small model saved as `data_dir`'s model in use (once)."""
    return newest_model(data_dir) or small_model()[0].save(data_dir)
