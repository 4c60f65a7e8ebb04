"""`paygate sandbox`: a link taken on a plain data dir (`paygate charge --method link`)
is served by `paygate sandbox` on that data dir: its page at the printed address, the
embedded banks' pages under /sim on the same server. Through it (`--gateway-url`), a
link is made and `paygate checkout` prints its page; a card paid on the page leaves no
card number in the server's output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
from server_support import issue
from support import VISA, free_port


def wait_for(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError(f"the sandbox did not answer in 30 s: {log.read_text()}")


def test_the_sandbox_serves_a_link_made_on_the_data_dir(
    cli, paygate_cmd: list[str], tmp_path: Path
) -> None:
    data, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PAYGATE_CHECKOUT__PUBLIC_URL": url}
    made = subprocess.run(
        [*paygate_cmd, "charge", "--method", "link", "--amount", "750", "--json"],
        env={**env, "PAYGATE_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        check=True,
    )
    link = json.loads(made.stdout)
    assert link["next_action"]["url"] == f"{url}/checkout/{link['id']}"
    assert made.stderr == ""  # a public address is set: no sandbox hint
    key = issue(cli, data, "TERM0001")
    log = tmp_path / "sandbox.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*paygate_cmd, "sandbox", "--port", str(port), "--data-dir", str(data)],
            stdout=out,
            stderr=out,
            env=env,
        )
    try:
        wait_for(url, proc, log)
        page = httpx.get(link["next_action"]["url"])
        assert page.status_code == 200 and "₹750.00" in page.text
        banks = httpx.get(f"{url}/sim/netbanking/v1/banks")
        assert banks.status_code == 200
        assert "DEMOA" in {bank["code"] for bank in banks.json()}
        remote = ("--gateway-url", url, "--api-key", key)
        run = {"env": env, "capture_output": True, "text": True, "check": True}
        second = subprocess.run(
            [*paygate_cmd, "charge", "--method", "link", "--amount", "99", "--json", *remote],
            **run,
        )
        other = json.loads(second.stdout)
        assert (other["status"], other["link"]["url"]) == (
            "pending",
            f"{url}/checkout/{other['id']}",
        )
        shown = subprocess.run([*paygate_cmd, "checkout", other["id"], *remote], **run)
        assert shown.stdout == f"{url}/checkout/{other['id']}\n"
        card = {"number": VISA.pan, "expiry": "12/30", "cvv": VISA.cvv}
        paid = httpx.post(f"{url}/checkout/{other['id']}/card", data=card)
        assert paid.status_code == 303
        assert "Paid" in httpx.get(f"{url}{paid.headers['location']}").text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()
    said = log.read_text()
    assert f"sandbox: checkout pages on {url}/checkout/ID" in said
    assert VISA.digits not in said.replace(" ", "")
