"""The fraud model file: a LightGBM booster with what it was made from.

Versions live in `<data_dir>/risk/models/fraud-model-NNNN.json` (the newest is in use):
one JSON object with the feature list, the training data's SHA-256, the split, the
metrics, the date and the booster as LightGBM's text. Scoring one payment is one
`pred_contrib` call: the contributions sum to the log-odds, and the largest are the
reasons.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import functools
import math
import weakref
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import orjson
from pydantic import BaseModel

from gateway_core.errors import InputError
from gateway_core.fraud.features import FEATURES
from gateway_core.fraud.files import models_dir
from gateway_core.fraud.reasons import in_words
from gateway_core.risk_models import ModelReason
from gateway_core.store.files import make_private_dir, write_atomically

TOP = 3  # reasons kept


class ModelInfo(BaseModel):
    """What a model file says of its model."""

    version: int
    created: datetime
    features: list[str]
    data_hash: str  # SHA-256 of the history file it was trained on
    history: dict[str, Any]  # payers, days, seed when known
    split: dict[str, str]  # train_from, test_from, test_until (ISO times)
    metrics: dict[str, Any]
    reference: list[float] = []  # score band shares on the test days (`monitor`)


class FraudModel:
    """A loaded model: scores and reasons for feature rows."""

    def __init__(self, info: ModelInfo, booster: lightgbm.Booster) -> None:
        if info.features != list(FEATURES):
            raise InputError(f"model {info.version} was trained on other features: train it again")
        self.info, self.booster = info, booster
        self._one = _OneRow(booster, len(FEATURES))

    @classmethod
    def load(cls, path: Path) -> FraudModel:
        try:
            doc = orjson.loads(path.read_bytes())
            info = ModelInfo.model_validate(doc["info"])
            booster = lightgbm.Booster(model_str=_unpacked(doc["booster"]))
        except (
            zlib.error,
            binascii.Error,
            orjson.JSONDecodeError,
            KeyError,
            TypeError,
            ValueError,
            lightgbm.basic.LightGBMError,
        ):
            raise InputError(f"{path} is not a fraud model file") from None
        return cls(info, booster)

    def save(self, data_dir: Path) -> Path:
        """Write this model as the next version; its path."""
        folder = models_dir(data_dir)
        make_private_dir(folder)
        path = folder / f"fraud-model-{self.info.version:04d}.json"
        doc = {"info": self.info.model_dump(mode="json"), "booster": _packed(self.booster)}
        write_atomically(path, orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        return path

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Fraud probability of each row."""
        raw = self.booster.predict(rows, raw_score=True, num_threads=1)
        return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(raw))))

    def explain(self, row: list[float], currency: str) -> tuple[int, list[ModelReason]]:
        """The score (0-100) of one row and its top reasons, in words."""
        contrib = self._one.contributions(row)
        raw = float(contrib.sum())
        score = round(100.0 / (1.0 + math.exp(-raw)))
        top = np.argsort(-contrib[:-1], kind="stable")[:TOP]
        reasons = [
            ModelReason(
                feature=FEATURES[i],
                text=in_words(FEATURES[i], row[i], currency),
                weight=round(float(contrib[i]), 3),
            )
            for i in top
        ]
        return score, reasons


def _packed(booster: lightgbm.Booster) -> str:
    """The booster's text, compressed, in base64: LightGBM's text has runs of digits
    that `paygate pci-scan` would take for card numbers."""
    return base64.b64encode(zlib.compress(booster.model_to_string().encode(), 9)).decode()


def _unpacked(text: str) -> str:
    return zlib.decompress(base64.b64decode(text, validate=True)).decode()


class _OneRow:
    """LightGBM's single-row fast path (its C API), for `pred_contrib` on one payment:
    the Python `predict` costs about three times as much per call."""

    def __init__(self, booster: lightgbm.Booster, width: int) -> None:
        lib = lightgbm.basic._LIB  # type: ignore[attr-defined]  # the C library it loaded: the fast path has no Python API
        self._row = np.zeros(width, dtype=np.float64)
        self._out = np.zeros(width + 1, dtype=np.float64)
        self._len = ctypes.c_int64()
        self._config = ctypes.c_void_p()
        check = lightgbm.basic._safe_call
        check(
            lib.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(lightgbm.basic._C_API_PREDICT_CONTRIB),
                ctypes.c_int(0),
                ctypes.c_int(-1),
                ctypes.c_int(lightgbm.basic._C_API_DTYPE_FLOAT64),
                ctypes.c_int32(width),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(self._config),
            )
        )
        weakref.finalize(self, lib.LGBM_FastConfigFree, self._config)
        self._booster = booster  # the config points into it
        self._predict = functools.partial(
            lib.LGBM_BoosterPredictForMatSingleRowFast,
            self._config,
            self._row.ctypes.data_as(ctypes.c_void_p),
            ctypes.byref(self._len),
            self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        )
        self._check = check

    def contributions(self, row: list[float]) -> np.ndarray:
        """Each feature's contribution to the raw score, then the bias."""
        self._row[:] = row
        self._check(self._predict())
        return self._out.copy()
