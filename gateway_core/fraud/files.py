"""Where the fraud model's files live in the data dir (no LightGBM needed to look).

- `<data_dir>/risk/history.jsonl`: the simulated history (`paygate risk simulate`);
- `<data_dir>/risk/models/fraud-model-NNNN.json`: the models, the newest in use.
"""

from __future__ import annotations

import re
from pathlib import Path

_NAME = re.compile(r"fraud-model-([0-9]{4})\.json")


def history_file(data_dir: Path) -> Path:
    return data_dir / "risk" / "history.jsonl"


def models_dir(data_dir: Path) -> Path:
    return data_dir / "risk" / "models"


def newest_model(data_dir: Path) -> Path | None:
    """The model file in use: the highest version, None when there is none."""
    folder = models_dir(data_dir)
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.iterdir() if _NAME.fullmatch(p.name))
    return found[-1] if found else None


def next_version(data_dir: Path) -> int:
    """The version a newly trained model gets."""
    newest = newest_model(data_dir)
    match = _NAME.fullmatch(newest.name) if newest else None
    return int(match.group(1)) + 1 if match else 1
