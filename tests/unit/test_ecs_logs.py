"""ECS logs (`gateway_core.logs`): a gateway and its banks, each its own process with ECS
on (`PAYGATE_LOG_FORMAT=ecs` for `paygate serve`, `--log-format ecs` for `paygate banks
serve`), take an approved card sale (with a W3C traceparent), a declined one, one with an
OTP and a UPI payment paid at the banks with its PIN. Every line either process wrote on
stderr is one ECS JSON object; the payments' events carry their action, outcome, id,
merchant, terminal and trace (the trace id the payment keeps); no line holds a card
number, CVV, OTP, UPI PIN or key. Both trace (`OTEL_TRACES_EXPORTER=console`: spans on
stdout): a payment's spans in the gateway and in the banks, reached over HTTP with its
`traceparent`, are one trace. Both serve `/metrics`: the gateway's payments, the banks'
hops.

Then, in process: the mapping of audit actions to outcomes, traceparent parsing, card
numbers masked whoever logs them, and the text default left as it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from server_support import ADMIN
from support import free_port

from bank_sim.testcards import TEST_CARDS, card_for
from gateway_core.logs import (
    EcsFormatter,
    configure_logging,
    log_context,
    outcome,
    trace_id_of,
    uvicorn_logging,
)
from gateway_core.pciscan import pan_spellings, scan_bytes
from gateway_core.upi_api import TEST_PIN
from gateway_core.upi_client import PayerClient

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
VISA, DECLINE, OTP_CARD = (
    card_for(p) for p in ("4242424242424242", "4000000000000002", "4000000000003220")
)
ECS_FIELDS = ("@timestamp", "log.level", "message", "ecs.version", "service.name")
MERCHANT, TERMINAL = "PAYGATEDEMO0001", "TERM0001"
PAYGATE = [sys.executable, "-m", "paygate_cli.main"]


@dataclass
class Proc:
    proc: subprocess.Popen
    url: str
    err: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


def _env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without any PAYGATE_* setting of the machine's, and `extra`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PAYGATE_")}, **extra}


def _launch(cmd: list[str], err: Path, env: dict[str, str]) -> Proc:
    """A server on a free port (`cmd` gets `--port`), up when its /healthz answers."""
    port = free_port()
    with err.open("wb") as errors, err.with_suffix(".out").open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port)], stdout=out, stderr=errors, env=_env(env)
        )
    served = Proc(proc, f"http://127.0.0.1:{port}", err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                return served
        except httpx.HTTPError:
            time.sleep(0.05)
    served.stop()
    raise RuntimeError(f"{cmd[1:3]} did not start: {err.read_text()}")


def field(doc: dict[str, Any], name: str) -> Any:
    """An ECS field by its dotted name, whether the line nests it or not."""
    if name in doc:
        return doc[name]
    head, _, rest = name.partition(".")
    inner = doc.get(head)
    return field(inner, rest) if rest and isinstance(inner, dict) else None


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every scalar of a line, with its dotted path."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, f"{path}.{key}" if path else key)
    else:
        yield path, str(value)


@dataclass
class Run:
    lines: list[str]  # every stderr line of both processes
    docs: list[dict[str, Any]]
    ids: dict[str, str]  # "approved", "declined", "otp", "upi" → payment id
    traces: dict[str, str]  # ... → the trace id on the payment
    spans: dict[str, list[dict[str, Any]]]  # "gateway", "banks" → the spans it wrote
    metrics: dict[str, str]  # "gateway", "banks" → its /metrics after the payments
    secrets: list[str]  # the OTP, the terminal key, the admin PIN, the UPI PIN


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Both processes, the four payments, and what they logged."""
    tmp = tmp_path_factory.mktemp("ecs")
    config = tmp / "config.toml"  # IST business days, nothing else
    config.write_text('timezone = "Asia/Kolkata"\n', encoding="utf-8")
    env = {"PAYGATE_CONFIG": str(config)}
    traced = {**env, "OTEL_TRACES_EXPORTER": "console"}
    data = tmp / "data"
    issued = subprocess.run(  # the admin's PIN approves it: logged, never the PIN
        [*PAYGATE, "terminals", "add", "--terminal", TERMINAL, *ADMIN, "--data-dir", str(data)],
        env=_env({**env, "PAYGATE_LOG_FORMAT": "ecs"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.splitlines()[1]
    banks = _launch(
        [*PAYGATE, "--log-format", "ecs", "banks", "serve", "--data-dir", str(tmp / "bankdata")],
        tmp / "banks.err",
        traced,
    )
    try:
        gateway = _launch(
            [
                *PAYGATE,
                "serve",
                "--data-dir",
                str(data),
                "--bank-url",
                banks.url,
                "--poll-every",
                "0",
            ],
            tmp / "serve.err",
            {**traced, "PAYGATE_LOG_FORMAT": "ecs"},
        )
        try:
            ids, traces, otp = asyncio.run(_payments(gateway.url, banks.url, key))
            metrics = {
                name: httpx.get(f"{proc.url}/metrics", timeout=10).text
                for name, proc in (("gateway", gateway), ("banks", banks))
            }
        finally:
            gateway.stop()
    finally:
        banks.stop()
    lines = issued.stderr.splitlines()
    lines += [line for proc in (banks, gateway) for line in proc.err.read_text().splitlines()]
    docs = [json.loads(line) for line in lines]  # every line is one JSON object
    spans = {
        name: [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
        for name, out in (("gateway", tmp / "serve.out"), ("banks", tmp / "banks.out"))
    }
    secrets = [otp, key, key.partition("_")[2], ADMIN[3], TEST_PIN]
    return Run(lines, docs, ids, traces, spans, metrics, secrets)


async def _payments(
    url: str, bank_url: str, key: str
) -> tuple[dict[str, str], dict[str, str], str]:
    auth = {"Authorization": f"Bearer {key}"}
    ids: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=url, headers=auth, timeout=20) as api:

        async def pay(card, amount: int, **headers: str) -> dict:
            body = {
                "amount": amount,
                "card": {"number": card.pan, "expiry": "12/30", "cvv": card.cvv},
            }
            answer = await api.post("/v1/payments", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            return answer.json()

        approved = await pay(VISA, 125_00, traceparent=TRACEPARENT)
        declined = await pay(DECLINE, 75_00)
        stepped = await pay(OTP_CARD, 50_00)
        assert (approved["status"], declined["status"]) == ("succeeded", "declined")
        assert stepped["status"] == "requires_action", stepped
        sms = httpx.get(f"{bank_url}/banks/v1/outbox", timeout=10).json()
        otp = re.search(r"\b(\d{6})\b", sms[0]["text"]).group(1)
        confirmed = await api.post(f"/v1/payments/{stepped['id']}/confirm", json={"otp": otp})
        assert confirmed.json()["status"] == "succeeded", confirmed.text

        upi = await api.post(
            "/v1/payments", json={"method": "upi", "amount": 60_00, "upi": {"flow": "intent"}}
        )
        assert upi.status_code == 200, upi.text
        payer = PayerClient.remote(bank_url)
        try:
            paid = await payer.pay(
                "success@payer", TEST_PIN, link=upi.json()["next_action"]["link"]
            )
        finally:
            await payer.close()
        assert paid.status == "SUCCESS", paid
        for _ in range(100):  # the PSP's callback reaches the banks' queue in its own time
            refreshed = await api.post(f"/v1/payments/{upi.json()['id']}/refresh")
            status = refreshed.json()["status"]
            if status != "pending":
                break
            await asyncio.sleep(0.1)
        assert status == "succeeded"
        answers = {"approved": approved, "declined": declined, "otp": stepped, "upi": upi.json()}
    ids = {name: answer["id"] for name, answer in answers.items()}
    return ids, {name: answer["trace_id"] for name, answer in answers.items()}, otp


def test_every_line_is_an_ecs_object(run: Run) -> None:
    assert len(run.docs) > 20
    for doc in run.docs:
        for name in ECS_FIELDS:
            assert field(doc, name) not in (None, ""), (name, doc)
        assert field(doc, "service.name") == "paygate"
        assert field(doc, "log.level") in ("debug", "info", "warning", "error", "critical")


def _events(run: Run, payment: str) -> dict[str, dict[str, Any]]:
    return {
        field(d, "event.action"): d
        for d in run.docs
        if field(d, "transaction.id") == run.ids[payment]
    }


@pytest.mark.parametrize(
    ("payment", "action", "result"),
    [
        ("approved", "payment.captured", "success"),
        ("declined", "payment.declined", "failure"),
        ("otp", "payment.captured", "success"),
        ("upi", "payment.succeeded", "success"),
    ],
)
def test_each_payment_logs_its_events(run: Run, payment: str, action: str, result: str) -> None:
    events = _events(run, payment)
    assert {"payment.created", action} <= set(events)
    for doc in events.values():
        assert field(doc, "labels.merchant_id") == MERCHANT
        assert field(doc, "labels.terminal_id") == TERMINAL
        assert re.fullmatch(r"[0-9a-f]{32}", field(doc, "trace.id"))
    assert field(events[action], "event.outcome") == result
    if payment == "declined":
        assert field(events[action], "paygate.response_code") == "05"
    assert field(events[action], "log.logger") == "paygate.audit"


def test_a_payment_keeps_the_trace_id_of_its_lines(run: Run) -> None:
    """The lines of the request that took it carry its trace id; later requests about it
    (an OTP, a refresh) are traces of their own."""
    assert run.traces["approved"] == TRACE
    for payment, trace in run.traces.items():
        assert re.fullmatch(r"[0-9a-f]{32}", trace)
        assert field(_events(run, payment)["payment.created"], "trace.id") == trace
    for payment, action in (("approved", "payment.captured"), ("declined", "payment.declined")):
        assert field(_events(run, payment)[action], "trace.id") == run.traces[payment]
    assert len(set(run.traces.values())) == 4


@pytest.mark.parametrize("payment", ["approved", "declined"])
def test_one_trace_from_the_gateway_to_the_banks_served_apart(run: Run, payment: str) -> None:
    """The gateway's spans and the banks' (another process, reached over HTTP with the
    `traceparent` header) of one card payment share its trace id."""
    trace = f"0x{run.traces[payment]}"
    names = {
        process: {s["name"] for s in spans if s["context"]["trace_id"] == trace}
        for process, spans in run.spans.items()
    }
    assert {"POST /v1/payments", "gateway.charge"} <= names["gateway"]
    assert {"banks POST acquirer", "acquirer", "network", "issuer"} <= names["banks"]
    served = next(s for s in run.spans["gateway"] if s["context"]["trace_id"] == trace)
    assert served["resource"]["attributes"]["service.name"] == "paygate"


def test_both_processes_serve_their_metrics(run: Run) -> None:
    """`paygate serve`'s /metrics counts its payments, `banks serve`'s its hops."""
    gateway = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(run.metrics["gateway"])
        for s in family.samples
    }
    approved = [
        v
        for (name, labels), v in gateway.items()
        if name == "paygate_payments_total" and ("outcome", "approved") in labels
    ]
    assert sum(approved) == 3  # the sale, the OTP sale, the UPI payment
    banks = {f.name: f for f in text_string_to_metric_families(run.metrics["banks"])}
    hops = {s.labels["hop"] for s in banks["paygate_hop_duration_seconds"].samples}
    assert {"acquirer", "network", "issuer", "upi_switch"} <= hops


def test_a_command_logs_as_its_terminal(run: Run) -> None:
    """`terminals add` (a CLI command): the admin's approval and the new key, with the
    settings' merchant and terminal, no trace."""
    wanted = ("approval.granted", "api_key.issued")
    issued = {field(d, "event.action"): d for d in run.docs if field(d, "event.action") in wanted}
    assert set(issued) == set(wanted)
    for doc in issued.values():
        assert (field(doc, "labels.merchant_id"), field(doc, "labels.terminal_id")) == (
            MERCHANT,
            TERMINAL,
        )
        assert field(doc, "trace.id") is None
    assert field(issued["approval.granted"], "paygate.actor") == "owner"


def test_a_traceparent_names_the_trace_of_its_lines(run: Run) -> None:
    traced = [d for d in run.docs if field(d, "trace.id") == TRACE]
    actions = {field(d, "event.action") for d in traced}
    assert {"payment.created", "payment.captured", "http-request"} <= actions
    assert {field(d, "transaction.id") for d in traced} - {None} == {run.ids["approved"]}
    other = _events(run, "declined")["payment.declined"]
    assert field(other, "trace.id") != TRACE  # a request without one gets its own


def test_access_lines_carry_the_request_without_its_query(run: Run) -> None:
    access = [d for d in run.docs if field(d, "log.logger") == "uvicorn.access"]
    assert access
    charge = next(
        d
        for d in access
        if field(d, "url.path") == "/v1/payments" and field(d, "trace.id") == TRACE
    )
    assert field(charge, "http.request.method") == "POST"
    assert field(charge, "http.response.status_code") == 200
    assert field(charge, "event.outcome") == "success"
    assert field(charge, "client.address") == "127.0.0.1"
    assert all("?" not in field(d, "message") for d in access)


def test_no_line_holds_card_data_a_pin_an_otp_or_a_key(run: Run) -> None:
    blob = "\n".join(run.lines).encode()
    assert list(scan_bytes(blob, Path("logs"))) == []  # no card number, no CVV field
    for card in TEST_CARDS:
        for spelling in pan_spellings(card.pan):
            assert spelling not in blob, card.label
    for doc in run.docs:
        pid = f"[{field(doc, 'process.pid')}]"  # uvicorn names its process: not a secret
        for path, value in leaves(doc):
            if path == "process.pid":
                continue
            value = value.replace(pid, "")
            for secret in run.secrets:
                assert not re.search(
                    rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", value
                ), (
                    path,
                    value,
                )


# -- in process -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("payment.succeeded", "success"),
        ("payment.created", "success"),
        ("payment.declined", "failure"),
        ("payment.blocked", "failure"),
        ("payment.bank_failed", "failure"),
        ("otp.wrong_code", "failure"),
        ("otp.authenticated", "success"),
        ("user.wrong_pin", "failure"),
        ("user.unlocked", "success"),
        ("payment.unknown", "unknown"),
    ],
)
def test_an_audit_action_has_an_outcome(action: str, expected: str) -> None:
    assert outcome(action) == expected


def test_a_traceparent_gives_its_trace_id_anything_else_a_new_one() -> None:
    assert trace_id_of(TRACEPARENT) == TRACE
    made = {
        trace_id_of(bad)
        for bad in (
            None,
            "",
            "01-" + TRACE + "-00f067aa0ba902b7-01",
            "00-zz-1-01",
            f"00-{'0' * 32}-00f067aa0ba902b7-01",
        )
    }
    assert len(made) == 5 and all(re.fullmatch(r"[0-9a-f]{32}", t) for t in made)


@pytest.fixture
def ecs(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """ECS on for the test; the lines written so far, parsed."""
    root = logging.getLogger()
    level = root.level
    configure_logging("ecs")
    try:
        yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        configure_logging("text")
        root.setLevel(level)


def test_a_card_number_is_masked_whoever_logs_it(ecs: Callable[[], list[dict[str, Any]]]) -> None:
    with log_context(trace_id=TRACE, merchant_id=MERCHANT):
        logging.getLogger("some.library").warning("card %s failed", "4242 4242 4242 4242")
    (doc,) = ecs()
    assert field(doc, "message") == "card 4242 42•• •••• 4242 failed"
    assert (field(doc, "trace.id"), field(doc, "labels.merchant_id")) == (TRACE, MERCHANT)
    assert field(doc, "labels.terminal_id") is None
    assert field(doc, "log.level") == "warning"
    assert field(doc, "process.thread.id") is None  # a long number: left out


def test_text_stays_the_default_and_the_cli_refuses_another_format(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging("text")
    assert not [h for h in logging.getLogger().handlers if isinstance(h.formatter, EcsFormatter)]
    assert uvicorn_logging() == {"log_level": "warning"}
    monkeypatch.setenv("PAYGATE_LOG_FORMAT", "json")
    refused = cli("list")
    assert (refused.code, refused.err) == (
        2,
        "paygate: setting log_format: Input should be 'text' or 'ecs'\n",
    )
    bad = cli("--log-format", "json", "list")
    assert bad.code == 2 and "invalid choice: 'json'" in bad.err


def test_served_workers_and_their_banks_log_as_their_supervisor(tmp_path: Path) -> None:
    """`paygate --log-format ecs serve --workers N`: the processes it starts log ECS too."""
    from gateway_core.settings import load_settings
    from paygate_cli.workers import supervise

    settings = load_settings(data_dir=tmp_path / "data", log_format="ecs")
    supervisor = supervise(
        settings, host="127.0.0.1", port=0, workers=2, worker_argv=lambda *_: [], say=print
    )
    try:
        children = [supervisor.banks, *supervisor.workers]
        assert [child.env["PAYGATE_LOG_FORMAT"] for child in children] == ["ecs"] * 3
    finally:
        supervisor._sock.close()  # nothing was started: only its listening socket to close
