"""`paygate risk`: the fraud model's commands.

- `risk simulate [--days 90] [--seed 7] [--payers N] [--terminals N] [--out FILE]`: a
  labelled history from the simulated banks (default `<data dir>/risk/history.jsonl`);
- `risk train [--history FILE] [--test-days N]`: a model on the earlier days, tested on
  the later ones, saved as the next `<data dir>/risk/models/fraud-model-NNNN.json`;
- `risk evaluate [--history FILE] [--json]`: the model in use against today's rules on
  its test days (AUPRC, precision and recall at the thresholds);
- `risk explain PAYMENT_ID [--json]` (`paygate_cli.admin`) shows a payment's model
  score and reasons with the rules' factors (`model_lines`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway_core.errors import InputError
from gateway_core.fraud.files import history_file, newest_model, next_version
from gateway_core.fraud.history import history_bytes, read_history
from gateway_core.risk_models import ModelScore
from gateway_core.settings import Settings
from gateway_core.store.files import make_private_dir, write_atomically


def add_model_commands(risk: Any, common: argparse.ArgumentParser) -> None:
    """simulate, train and evaluate under `paygate risk` (`risk`: its subparsers)."""
    sim = risk.add_parser("simulate", parents=[common], help="write a labelled history")
    sim.add_argument("--days", type=int, default=90, help="days of history (90)")
    sim.add_argument("--seed", type=int, default=7, help="the same seed, the same bytes (7)")
    sim.add_argument("--payers", type=int, default=3_000, help="cardholders and UPI payers")
    sim.add_argument("--terminals", type=int, default=40, help="terminals (40)")
    sim.add_argument(
        "--out", type=Path, metavar="FILE", help="a new file instead of the data dir's"
    )
    sim.set_defaults(handler=cmd_simulate)
    history = argparse.ArgumentParser(add_help=False)
    history.add_argument("--history", type=Path, metavar="FILE", help="the history to use")
    train = risk.add_parser("train", parents=[common, history], help="train the next model")
    train.add_argument("--test-days", type=int, help="the last days kept for the test (a third)")
    train.add_argument("--seed", type=int, default=7, help="LightGBM's seed (7)")
    train.set_defaults(handler=cmd_train)
    evaluate = risk.add_parser(
        "evaluate", parents=[common, history], help="the model in use against the rules"
    )
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.set_defaults(handler=cmd_evaluate)


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from bank_sim.fraud.simulate import Sizes, simulate

    try:
        sizes = Sizes(days=args.days, payers=args.payers, terminals=args.terminals)
        records = simulate(args.seed, sizes)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    path = args.out or history_file(settings.data_dir)
    if args.out is None:
        make_private_dir(path.parent)
    try:
        write_atomically(path, history_bytes(records), replace=args.out is None)
    except FileExistsError:
        raise InputError(f"{path} exists: name a new file") from None
    frauds = sum(r.fraud for r in records)
    print(
        f"{len(records)} attempts over {args.days} days ({frauds} frauds, "
        f"{frauds / len(records):.1%}), seed {args.seed}: {path}"
    )
    return 0


def _history(args: argparse.Namespace, settings: Settings) -> tuple[list[Any], str, Path]:
    path = args.history or history_file(settings.data_dir)
    records, digest = read_history(path)
    return records, digest, path


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from gateway_core.fraud.training import Split, split_of, train

    records, digest, path = _history(args, settings)
    days = (records[-1].attempt.at - records[0].attempt.at).days + 1
    test_days = args.test_days or max(1, days // 3)
    split_of(records, test_days)  # a plain error before the work
    model, evaluation = train(
        records,
        digest,
        test_days=test_days,
        version=next_version(settings.data_dir),
        thresholds=settings.fraud,
        limits=settings.risk,
        seed=args.seed,
    )
    saved = model.save(settings.data_dir)
    split = Split.model_validate(model.info.split)
    print(f"model {model.info.version}: {saved}")
    print(f"  trained on {_days(split.train_from, split.test_from)} of {path}")
    print(
        f"  tested on {_days(split.test_from, split.end)}: AUPRC "
        f"{evaluation.model.auprc:.3f} (today's rules {evaluation.rules.auprc:.3f})"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from gateway_core.fraud.model import FraudModel
    from gateway_core.fraud.training import Split, evaluate

    found = newest_model(settings.data_dir)
    if found is None:
        raise InputError("no fraud model in the data dir: run `paygate risk train` first")
    model = FraudModel.load(found)
    records, digest, path = _history(args, settings)
    split = Split.model_validate(model.info.split)
    result = evaluate(model, records, split, settings.fraud, settings.risk)
    if args.json:
        doc = {"model_version": model.info.version, "history": str(path), **result.model_dump()}
        print(json.dumps(doc, indent=2))
        return 0
    if digest != model.info.data_hash:
        print(f"paygate: note: {path} is not the history model {model.info.version} was trained on",
              file=sys.stderr)  # fmt: skip
    print(
        f"model {model.info.version} and today's rules on {_days(split.test_from, split.end)}: "
        f"{result.test_attempts} attempts, {result.test_frauds} frauds"
    )
    rows = [("", "AUPRC", "flagged", "precision", "recall")]
    for name, scores in (("model", result.model), ("rules", result.rules)):
        rows.append((name, f"{scores.auprc:.3f}", "", "", ""))
        for cut in scores.cuts:
            rows.append(
                (f"  {cut.what}", "", str(cut.flagged), f"{cut.precision:.1%}", f"{cut.recall:.1%}")
            )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
    print("recall by pattern (OTP or block): " + ", ".join(
        f"{p} {share:.0%} (rules {result.rules.recall_by_pattern.get(p, 0):.0%})"
        for p, share in result.model.recall_by_pattern.items()
    ))  # fmt: skip
    return 0


def _days(start: datetime, end: datetime) -> str:
    """The days from `start` to the one before `end`, both included."""
    return f"{start:%Y-%m-%d} .. {end - timedelta(days=1):%Y-%m-%d}"


def model_status(settings: Settings) -> str:
    """Which fraud model the gateway uses, and how (for `risk rules`)."""
    found = newest_model(settings.data_dir)
    f = settings.fraud
    if found is None or f.mode == "off":
        why = "none in the data dir" if found is None else "mode off"
        return f"Fraud model: not in use ({why}; the rules alone decide)"
    how = "shadow: scores, never decides" if f.mode == "shadow" else "decides"
    return f"Fraud model: {found.name} ({how}; OTP at {f.step_up_at}, block at {f.block_at})"


def model_lines(model: ModelScore) -> list[str]:
    """The fraud model's score and top reasons on a payment, for `risk explain`."""
    shadow = " (shadow: recorded, not deciding)" if model.mode == "shadow" else ""
    return [
        f"fraud score {model.score}/100 from model {model.version}: {model.action}{shadow}",
        *(f"  {r.weight:+.2f} {r.text}" for r in model.reasons),
    ]
