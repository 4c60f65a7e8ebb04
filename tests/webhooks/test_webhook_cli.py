"""`paygate webhooks ...` on a data dir, delivering to a receiver on a loopback port."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response
from support import CLI_SALE

from bank_sim.processors.server import LoopbackServer
from gateway_core.webhooks import verify
from gateway_core.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER


@pytest.fixture(scope="module")
def receiver():
    """A merchant's receiver: keeps each POST (body, headers); answers `status[0]`."""
    app = FastAPI()
    app.state.got, app.state.status = [], [200]

    @app.post("/hooks")
    async def hooks(request: Request) -> Response:
        app.state.got.append((await request.body(), dict(request.headers)))
        return Response(status_code=app.state.status[0])

    server = LoopbackServer(app)
    app.state.url = f"{server.start()}/hooks"
    yield app.state
    server.stop()


def _secret(out: str) -> str:
    return re.search(r"whsec_\S+", out).group()


def _endpoint(out: str) -> str:
    return re.search(r"\bwe_[0-9a-f]+", out).group()


def _files(data: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())


def test_add_deliver_log_replay_test_and_remove(cli, tmp_path, receiver):
    data = tmp_path / "data"
    receiver.got.clear()
    added = cli(
        "webhooks", "add", receiver.url, "--events", "payment.succeeded", "--data-dir", data
    )
    assert added.code == 0, added.err
    secret, endpoint = _secret(added.out), _endpoint(added.out)
    assert secret.encode() not in _files(data)  # sealed, never in clear

    assert cli("charge", *CLI_SALE, "--data-dir", data).code == 0
    rounds = cli("webhooks", "deliver", "--data-dir", data)
    assert rounds.out == "1 made, 1 delivered, 0 failed\n"
    ((body, headers),) = receiver.got
    event = verify(body, headers[SIGNATURE_HEADER.lower()], secret)
    assert event["type"] == "payment.succeeded" and headers[EVENT_ID_HEADER.lower()] == event["id"]

    log = cli("webhooks", "deliveries", "--endpoint", endpoint, "--data-dir", data)
    assert log.code == 0 and "payment.succeeded" in log.out and "delivered" in log.out
    delivery = re.search(r"whd_[0-9a-f]+", log.out).group()
    assert cli("webhooks", "deliveries", "--failed", "--data-dir", data).out == "no deliveries\n"

    replayed = cli("webhooks", "replay", delivery, "--data-dir", data)
    assert replayed.code == 0 and f"{event['id']}: HTTP 200" in replayed.out
    assert receiver.got[1][0] == body

    since = cli(
        "webhooks", "replay", "--endpoint", endpoint, "--since", "2000-01-01", "--data-dir", data
    )
    assert since.code == 0 and len(receiver.got) == 3

    receiver.status[0] = 500
    tested = cli("webhooks", "test", endpoint, "--data-dir", data)
    receiver.status[0] = 200
    assert tested.code == 1 and "webhook.test" in tested.out and "HTTP 500" in tested.out
    failed = cli("webhooks", "deliveries", "--failed", "--data-dir", data)
    assert "webhook.test" in failed.out and "payment.succeeded" not in failed.out

    listed = cli("webhooks", "list", "--data-dir", data)
    assert endpoint in listed.out and "enabled" in listed.out
    assert cli("webhooks", "remove", endpoint, "--data-dir", data).code == 0
    assert "no webhook endpoints" in cli("webhooks", "list", "--data-dir", data).out
    assert secret not in "".join(
        cli(*argv, "--data-dir", data).out
        for argv in (("webhooks", "list"), ("webhooks", "deliveries"))
    )


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("add", "ftp://shop.example/x"), "http:// or https://"),
        (("add", "shop.example/hooks"), "http:// or https://"),
        (("add", "https://user:pw@shop.example/x"), "user or password"),
        (("add", "https://shop.example/x", "--events", "payment.nope"), "no event 'payment.nope'"),
        (("remove", "we_nope"), "no webhook endpoint"),
        (("enable", "we_nope"), "no webhook endpoint"),
        (("test", "we_nope"), "no webhook endpoint"),
        (("replay", "whd_nope"), "no webhook delivery"),
        (("replay",), "replay DELIVERY_ID, or"),
        (("replay", "--since", "2026-01-01"), "needs --endpoint"),
        (("replay", "--endpoint", "we_x", "--since", "yesterday"), "--since is a date"),
        (("deliveries", "--endpoint", "we_nope"), "no webhook endpoint"),
        (("deliveries", "--limit", "0"), "--limit"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_stores_nothing(cli, data_dir, argv, says):
    before, stored = cli("webhooks", "list", "--data-dir", data_dir).out, _listing(data_dir)
    result = cli("webhooks", *argv, "--data-dir", data_dir)
    assert result.code == 2 and says in result.err, result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert cli("webhooks", "list", "--data-dir", data_dir).out == before
    assert cli("webhooks", "deliveries", "--data-dir", data_dir).out == "no deliveries\n"
    assert _listing(data_dir) == stored


def _listing(data: Path) -> dict[str, int]:
    """The data dir's files and their sizes."""
    return {str(p.relative_to(data)): p.stat().st_size for p in data.rglob("*") if p.is_file()}
