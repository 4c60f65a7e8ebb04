"""Training on the earlier days beats today's rules on the later ones; the model file
says what it was made from; `risk train` and `risk evaluate`."""

from __future__ import annotations

import json

import orjson
from fraud_support import SIM_ARGS, TEST_DAYS, install_model, small_model

from gateway_core.fraud.features import FEATURES
from gateway_core.fraud.files import newest_model, next_version
from gateway_core.fraud.metrics import average_precision
from gateway_core.fraud.model import FraudModel
from gateway_core.pciscan import scan


def test_the_model_beats_the_rules_on_the_test_days() -> None:
    model, evaluation = small_model()
    assert evaluation.test_frauds > 50  # on 10 test days
    assert evaluation.model.auprc > evaluation.rules.auprc + 0.2
    step, block = evaluation.model.cuts
    assert step.recall >= block.recall and block.precision > 0.8
    assert set(evaluation.model.recall_by_pattern) == set(evaluation.rules.recall_by_pattern)
    info = model.info
    assert info.features == list(FEATURES) and len(info.data_hash) == 64
    assert info.metrics["model"]["auprc"] == evaluation.model.auprc
    assert info.split["test_from"] < info.split["end"]


def test_average_precision_matches_the_textbook_cases() -> None:
    assert average_precision([True, False], [0.9, 0.1]) == 1.0
    assert average_precision([False, True], [0.9, 0.1]) == 0.5
    assert average_precision([True, False, True], [1, 1, 1]) == round(2 / 3, 4)  # one tied step
    assert average_precision([False], [0.3]) == 0.0


def test_a_model_file_round_trips_and_versions_count_up(tmp_path) -> None:
    data = tmp_path / "d"
    assert newest_model(data) is None and next_version(data) == 1
    path = install_model(data)
    assert path.name == "fraud-model-0001.json" and newest_model(data) == path
    assert next_version(data) == 2
    doc = orjson.loads(path.read_bytes())
    assert set(doc["info"]) >= {"version", "created", "features", "data_hash", "metrics", "split"}
    loaded = FraudModel.load(path)
    row = [1000.0] + [0.0] * (len(FEATURES) - 1)
    assert loaded.explain(row, "INR") == small_model()[0].explain(row, "INR")
    path.write_text("{}")
    assert cli_error(path)


def cli_error(path) -> bool:
    try:
        FraudModel.load(path)
    except ValueError as exc:  # InputError: exit 2
        return "not a fraud model file" in str(exc)
    return False


def test_train_and_evaluate_commands(cli, tmp_path) -> None:
    data = tmp_path / "d"
    assert cli("risk", "evaluate", "--data-dir", data).code == 2  # no model yet
    assert cli("risk", "train", "--data-dir", data).code == 2  # no history yet
    assert cli("risk", "simulate", *SIM_ARGS, "--data-dir", data).code == 0
    trained = cli("risk", "train", "--test-days", str(TEST_DAYS), "--data-dir", data)
    assert trained.code == 0, trained.err
    assert "model 1:" in trained.out and "AUPRC" in trained.out
    assert (data / "risk" / "models" / "fraud-model-0001.json").is_file()
    assert scan(data) == []  # no card number or CVV in the history or the model
    shown = cli("risk", "evaluate", "--data-dir", data)
    assert shown.code == 0, shown.err
    assert "model" in shown.out and "rules" in shown.out and "recall by pattern" in shown.out
    doc = json.loads(cli("risk", "evaluate", "--json", "--data-dir", data).out)
    assert doc["model_version"] == 1 and doc["test_frauds"] > 0
    assert doc["model"]["auprc"] > doc["rules"]["auprc"]
    too_long = cli("risk", "train", "--test-days", "40", "--data-dir", data)
    assert too_long.code == 2 and "test days" in too_long.err
    (data / "risk" / "history.jsonl").write_text("not json\n")
    assert cli("risk", "evaluate", "--data-dir", data).code == 2
