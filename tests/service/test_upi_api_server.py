"""UPI through a running `paygate serve`, from the command line with a gateway URL: the
charge answers pending with its next_action, the server serves its QR, `status` brings
it up to date, `cancel` gives it up, a refused body is one line (exit 2)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image
from server_support import issue, start


def ok(result) -> dict:
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_upi_through_a_running_server(
    cli: Callable, paygate_cmd: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    key = issue(cli, data_dir, "TERM0001")
    server = start(paygate_cmd, data_dir)
    try:
        monkeypatch.setenv("PAYGATE_GATEWAY_URL", server.url)
        monkeypatch.setenv("PAYGATE_API_KEY", key)
        upi = ("charge", "--method", "upi", "--amount", "250")
        payment = ok(cli(*upi, "--flow", "intent", "--json"))
        assert payment["status"] == "pending" and payment["terminal_id"] == "TERM0001"
        action = payment["next_action"]
        assert action["type"] == "upi_intent" and action["link"].startswith("upi://pay?")

        auth = {"Authorization": f"Bearer {key}"}
        png = httpx.get(f"{server.url}/v1/payments/{payment['id']}/qr", headers=auth)
        (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
        assert decoded.text == action["link"]

        assert ok(cli("status", payment["id"], "--json"))["status"] == "pending"
        shown = cli(*upi)
        assert shown.code == 0 and "link upi://pay?" in shown.out and "▀" in shown.out
        canceled = ok(cli("cancel", payment["id"], "--json"))
        assert canceled["status"] == "canceled" and canceled["next_action"] is None

        collect = cli(*upi, "--flow", "collect", "--vpa", "success@payer")
        assert collect.code == 2 and "collect requests are off" in collect.err
        assert collect.err.count("\n") == 1
    finally:
        assert server.stop() == 0
