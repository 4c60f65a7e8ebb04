"""docs/OPERATIONS.md on monitoring: its metric table names every series `/metrics`
serves (and no other), and its alert rules are a Prometheus rules file whose
expressions use those series (parsed with PyYAML)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from gateway_core.observe.metrics import COLLECTOR

DOC = Path(__file__).parents[2] / "docs" / "OPERATIONS.md"
SUFFIXES = ("_total", "_bucket", "_count", "_sum")
FIELDS = ("expr", "for", "labels", "annotations")


def section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def rules_block() -> str:
    (block,) = re.findall(r"```yaml\n(groups:\n.*?)```", section("### Alert rules"), re.S)
    return block


def families() -> set[str]:
    return {family.name for family in COLLECTOR.collect()}


def test_the_table_names_every_series_and_no_other() -> None:
    table = section("## Metrics")
    documented = set(re.findall(r"^\| `(paygate_[a-z_]+)` \|", table, re.M))
    served = set()
    for family in COLLECTOR.collect():  # counters are named without `_total` by the client
        served.add(family.name + ("_total" if family.type == "counter" else ""))
    assert documented == served


def test_the_alert_rules_are_a_rules_file_on_the_served_series() -> None:
    block = rules_block()
    assert "\t" not in block
    rules = [rule for group in yaml.safe_load(block)["groups"] for rule in group["rules"]]
    recorded = {rule["record"] for rule in rules if "record" in rule}
    alerts = {rule["alert"]: rule for rule in rules if "alert" in rule}
    assert {
        "PaygateIssuerApprovalDrop",
        "PaygateReversalsRising",
        "PaygateBankTimeoutsRising",
        "PaygateUpiPendingTooLong",
    } <= set(alerts)
    served = families()
    for rule in rules:
        expr = str(rule["expr"])
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}")
        for name in re.findall(r"\bpaygate[_:][a-z0-9_:]+", expr):
            base = next((name[: -len(s)] for s in SUFFIXES if name.endswith(s)), name)
            assert name in recorded or base in served, name
        if "alert" in rule:
            assert all(rule.get(f) for f in FIELDS), rule
    assert "> 0.05" in str(alerts["PaygateIssuerApprovalDrop"]["expr"])
    assert 'older_than_seconds="600"' in str(alerts["PaygateUpiPendingTooLong"]["expr"])
