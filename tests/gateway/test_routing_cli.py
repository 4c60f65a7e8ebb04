"""`paygate charge --processor NAME`: this payment goes to NAME alone, whatever the
rules say and with no failover; a name not known or not set up is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from routing_support import Scripted
from support import CLI_SALE

from gateway_core import connectors

SET_UP = """
[processors.stripe]
base_url = "http://127.0.0.1:9"
[processors.razorpay]
base_url = "http://127.0.0.1:9"
[[routing]]
processors = ["stripe", "razorpay"]
"""


class Approving:
    """A scripted processor built as the registry builds one: it approves."""

    name, script = "razorpay", []

    def __init__(self, settings, base_url: str) -> None:
        self.scripted = Scripted(self.name)
        self.scripted.script = list(self.script)

    def __getattr__(self, attribute: str):
        return getattr(self.scripted, attribute)


class Down(Approving):
    """...and one that is down."""

    name, script = "stripe", ["down"] * 5


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "paygate.toml"
    path.write_text(SET_UP, encoding="utf-8")
    monkeypatch.setenv("PAYGATE_CONFIG", str(path))
    monkeypatch.setitem(connectors.CONNECTORS, "stripe", f"{__name__}:Down")
    monkeypatch.setitem(connectors.CONNECTORS, "razorpay", f"{__name__}:Approving")
    return path


def test_routing_fails_over_and_a_forced_processor_does_not(cli, tmp_path: Path, config) -> None:
    data = tmp_path / "data"
    routed = cli("charge", *CLI_SALE, "--data-dir", data, "--json")
    assert routed.code == 0, routed.err
    assert (json.loads(routed.out)["processor"], json.loads(routed.out)["status"]) == (
        "razorpay",
        "succeeded",
    )
    forced = cli("charge", *CLI_SALE, "--data-dir", data, "--processor", "stripe")
    assert forced.code == 0, forced.err  # a decline is a business result
    assert forced.out.startswith("DECLINED 91  No processor could take the payment")
    assert "processor" not in forced.out.splitlines()[2]  # not at any processor
    shown = cli("charge", *CLI_SALE, "--data-dir", data, "--processor", "razorpay")
    assert "processor razorpay  reference razorpay_1" in shown.out.splitlines()


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("nope", "paygate: unknown processor 'nope': paygate knows simulated, paypal, razorpay, "),
        ("paypal", "paygate: processor 'paypal' has no settings: add [processors.paypal] "),
    ],
)
def test_a_processor_not_known_or_not_set_up_is_exit_2(
    cli, tmp_path: Path, config, name: str, error: str
) -> None:
    data = tmp_path / "data"
    result = cli("charge", *CLI_SALE, "--data-dir", data, "--processor", name)
    assert result.code == 2
    assert result.err.startswith(error) and result.err.count("\n") == 1
    assert not data.exists()  # refused before anything was stored


def test_processor_is_for_methods_a_processor_takes(cli, tmp_path: Path) -> None:
    args = ("--amount", "10", "--method", "cash", "--tendered", "10", "--processor", "stripe")
    result = cli("charge", *args, "--data-dir", tmp_path / "data")
    assert (result.code, result.err) == (
        2,
        "paygate: --processor takes card, upi or netbanking payments, not cash\n",
    )


@pytest.mark.filterwarnings("ignore:Use 'content=:DeprecationWarning")  # the Stripe SDK's
def test_a_forced_stripe_reaches_the_fake_of_the_embedded_banks(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No base_url: the connector (the official SDK) reaches the Stripe fake that the
    embedded banks serve on a loopback port, for this command only."""
    path = tmp_path / "paygate.toml"
    path.write_text("[processors.stripe]\n", encoding="utf-8")
    monkeypatch.setenv("PAYGATE_CONFIG", str(path))
    data = tmp_path / "data"
    result = cli("charge", *CLI_SALE, "--data-dir", data, "--processor", "stripe", "--json")
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert (shown["status"], shown["processor"]) == ("succeeded", "stripe")
    assert shown["processor_reference"].startswith("pi_") and shown["rrn"] is None
