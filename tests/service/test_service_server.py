"""`paygate serve` as its own process on a free loopback port, with `RemoteGateway`
clients: two terminals at once, a charge whose connection drops and is sent again, the
server going away, SIGTERM; the terminal app itself as a client (two at once, a lost
link); and the `terminals` commands that issue the keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from app_support import (
    PANS,
    SIZE,
    key_card,
    login,
    on_screen,
    press,
    sale,
    screen_text,
    wait_for,
)
from server_support import ADMIN, CARDS, Server, issue, start
from support import VISA, charge, pan_pattern

from bank_sim.testcards import TEST_CARDS
from gateway_core.errors import InputError
from gateway_core.payments import Payment
from gateway_core.service.client import RemoteGateway
from gateway_core.service.errors import GatewayUnreachable
from gateway_core.settings import load_settings
from paygate_cli.remote import RemoteRuntime
from paygate_cli.terminal import terminal_app
from pos_app.app import PaygateApp


@pytest.fixture
def keys(cli: Callable, tmp_path: Path) -> dict[str, str]:
    data_dir = tmp_path / "data"
    return {
        "t1": issue(cli, data_dir, "TERM0001"),
        "t2": issue(cli, data_dir, "TERM0002"),
        "other": issue(cli, data_dir, "TERM0001", merchant="OTHERSHOP01"),
    }


@pytest.fixture
def server(paygate_cmd: list[str], tmp_path: Path, keys: dict[str, str]) -> Iterator[Server]:
    running = start(paygate_cmd, tmp_path / "data", PAYGATE_BANK_LATENCY_MS="100")
    try:
        yield running
    finally:
        running.stop()


async def test_two_terminals_at_once_each_sees_its_own_and_the_x_report_counts_both(
    server: Server, keys: dict[str, str]
) -> None:
    t1, t2, other = (RemoteGateway(server.url, keys[k]) for k in ("t1", "t2", "other"))
    try:
        per_terminal = 8
        results = await asyncio.gather(
            *(
                gw.charge(charge(CARDS[i % len(CARDS)], 100_00 + i, idempotency_key=f"{n}-{i}"))
                for n, gw in (("t1", t1), ("t2", t2))
                for i in range(per_terminal)
            )
        )
        assert all(p.status == "succeeded" for p in results)
        assert len({p.id for p in results}) == 2 * per_terminal
        listed = await asyncio.to_thread(t1.list_day)
        by_terminal = {
            t: {p.id for p in listed if p.terminal_id == t} for t in ("TERM0001", "TERM0002")
        }
        assert by_terminal["TERM0001"] == {p.id for p in results[:per_terminal]}
        assert by_terminal["TERM0002"] == {p.id for p in results[per_terminal:]}
        assert {p.id for p in t2.list_day()} == {p.id for p in listed}  # one merchant, one day
        assert other.list_day() == []
        report = httpx.get(
            f"{server.url}/v1/reports/x", headers={"Authorization": f"Bearer {keys['t2']}"}
        ).json()
        total = report["totals"][0]
        assert report["activity"]["payments"] == 2 * per_terminal
        assert (total["count"], total["gross"]) == (
            2 * per_terminal,
            sum(p.amount for p in results),
        )
        got = t1.get(results[-1].id)
        assert isinstance(got, Payment) and got == results[-1]
    finally:
        for gw in (t1, t2, other):
            await gw.aclose()


async def test_a_dropped_charge_sent_again_with_its_key_is_one_payment(
    server: Server, keys: dict[str, str]
) -> None:
    """The client gives up long before the banks answer (3 hops of 100 ms), so the
    connection drops with the payment in flight; the same key sent again resolves it."""
    impatient = RemoteGateway(server.url, keys["t1"], timeout_s=0.05, retries=0)
    patient = RemoteGateway(server.url, keys["t1"])
    req = charge(VISA, 321_00, idempotency_key="dropped-1")
    try:
        with pytest.raises(GatewayUnreachable) as caught:
            await impatient.charge(req)
        assert "\n" not in str(caught.value) and server.url in str(caught.value)
        payment = await patient.charge(req)
        again = await patient.charge(req)
        assert payment.status == "succeeded" and again.id == payment.id
        assert [p.id for p in patient.list_day()] == [payment.id]
    finally:
        await impatient.aclose()
        await patient.aclose()


async def test_a_server_that_goes_away_is_one_clear_error(
    server: Server, keys: dict[str, str]
) -> None:
    gw = RemoteGateway(server.url, keys["t1"], retries=1)
    try:
        payment = await gw.charge(charge(VISA, 50_00))
        assert server.stop() == 0
        with pytest.raises(GatewayUnreachable, match="cannot be reached"):
            gw.get(payment.id)
        with pytest.raises(GatewayUnreachable, match="cannot be reached"):
            await gw.charge(charge(VISA, 50_00))
    finally:
        await gw.aclose()
    log = server.log.read_text()
    assert "gateway stopped" in log
    for path in [server.log, *(p for p in server.data_dir.rglob("*") if p.is_file())]:
        content = path.read_bytes()
        for card in TEST_CARDS:
            assert not pan_pattern(card.pan).search(content), path
        for key in keys.values():
            assert key.encode() not in content, path


# -- the terminal app as a client -------------------------------------------------------------
async def remote_app(server: Server, key: str, home: Path) -> PaygateApp:
    """A terminal app whose gateway is the server: it keeps no data of its own."""
    settings = load_settings(
        data_dir=home / "data", gateway_url=server.url, api_key=key, timezone="Asia/Kolkata"
    )
    rt = await RemoteRuntime.connect(settings)
    assert rt is not None
    return terminal_app(rt, config_dir=home / "config", animate=False, result_delay=0)


async def take_sales(app: PaygateApp, amounts: list[str]) -> list[Payment]:
    """Sign in and take one approved sale per amount; the payments, as the app saw them."""
    taken = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            for amount in amounts:
                await sale(pilot, amount, PANS["approve"])
                taken.append(app.screen.payment)
                await press(pilot, "enter")
                await on_screen(pilot, "SaleScreen")
            await press(pilot, "f2")
            await wait_for(pilot, lambda: "payments ·" in screen_text(app))
            taken_ids = {p.id[-10:] for p in taken}
            shown = screen_text(app)
            assert all(short in shown for short in taken_ids), shown
    finally:
        await app.rt.aclose()
    return taken


async def test_two_terminal_apps_take_payments_at_once_through_one_server(
    server: Server, keys: dict[str, str], tmp_path: Path
) -> None:
    one = await remote_app(server, keys["t1"], tmp_path / "lane1")
    two = await remote_app(server, keys["t2"], tmp_path / "lane2")
    assert (one.settings.terminal_id, two.settings.terminal_id) == ("TERM0001", "TERM0002")
    lane1, lane2 = await asyncio.gather(
        take_sales(one, ["101", "102", "103"]), take_sales(two, ["201", "202", "203"])
    )
    assert all(p.status == "succeeded" for p in lane1 + lane2)
    assert {p.terminal_id for p in lane1} == {"TERM0001"}
    assert {p.terminal_id for p in lane2} == {"TERM0002"}
    report = httpx.get(
        f"{server.url}/v1/reports/x", headers={"Authorization": f"Bearer {keys['t1']}"}
    ).json()
    total = report["totals"][0]
    assert (total["count"], total["gross"]) == (6, sum(p.amount for p in lane1 + lane2))
    assert not (tmp_path / "lane1" / "data").exists()  # a client terminal keeps no data


async def test_the_app_on_a_lost_link_says_so_in_one_line_and_charges_once_when_back(
    paygate_cmd: list[str], server: Server, keys: dict[str, str], tmp_path: Path
) -> None:
    app = await remote_app(server, keys["t1"], tmp_path / "lane")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            assert server.stop() == 0  # the link goes down before the cashier pays
            await sale(pilot, "450", PANS["approve"], until="")
            await wait_for(pilot, lambda: "cannot be reached" in screen_text(app))
            assert type(app.screen).__name__ == "CardScreen"  # the sale is kept, card forgotten
            sent = app.flow.draft.idempotency_key
            port = int(server.url.rsplit(":", 1)[1])
            back = start(paygate_cmd, server.data_dir, port=port)
            try:
                await key_card(pilot, PANS["approve"])
                await press(pilot, "enter")
                await on_screen(pilot, "ResultScreen")
                paid = app.screen.payment
                assert paid.status == "succeeded" and paid.amount == 450_00
                assert [p.id for p in app.rt.gateway.list_day()] == [paid.id]
                assert app.flow.draft.idempotency_key != sent  # a final answer: the next is new
            finally:
                back.stop()
    finally:
        await app.rt.aclose()


# -- the commands ------------------------------------------------------------------------------
def test_terminals_through_the_running_server_take_effect_at_once(
    cli: Callable, server: Server, keys: dict[str, str]
) -> None:
    busy = cli("terminals", "add", "--terminal", "TERM0007", *ADMIN, "--data-dir", server.data_dir)
    assert busy.code == 1 and "in use by another paygate process" in busy.err
    remote = ("--gateway-url", server.url, "--api-key", keys["t1"])
    added = cli(*remote, "terminals", "add", "--terminal", "TERM0007", *ADMIN)
    assert added.code == 0, added.err
    new = added.out.splitlines()[1]
    listed = cli(*remote, "terminals", "list").out
    assert "TERM0007" in listed and "OTHERSHOP01" not in listed and new not in listed
    auth = {"Authorization": f"Bearer {new}"}
    assert httpx.get(f"{server.url}/v1/payments", headers=auth).status_code == 200
    revoked = cli(*remote, "terminals", "revoke", new.split("_")[1], *ADMIN)
    assert revoked.code == 0, revoked.err
    assert httpx.get(f"{server.url}/v1/payments", headers=auth).status_code == 401
    stranger = cli("--gateway-url", server.url, "--api-key", "pk_nope", "terminals", "list")
    assert (stranger.code, stranger.err) == (
        2,
        "paygate: the API key is missing, unknown or revoked\n",
    )


def test_terminals_add_list_revoke(cli: Callable, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = issue(cli, data_dir, "TERM0005")
    assert key.startswith("pk_")
    listed = cli("terminals", "list", "--data-dir", data_dir)
    key_id = key.split("_")[1]
    assert key_id in listed.out and "TERM0005" in listed.out and "active" in listed.out
    assert key not in listed.out and key.split("_", 2)[2] not in listed.out
    revoked = cli("terminals", "revoke", key_id, *ADMIN, "--data-dir", data_dir)
    assert revoked.code == 0 and "revoked" in revoked.out
    assert "revoked 20" in cli("terminals", "list", "--data-dir", data_dir).out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("add", "--terminal", "TERMINAL09", *ADMIN), "a terminal id is 1 to 8"),
        (("add", "--terminal", "T1", "--merchant", "bad merchant!", *ADMIN), "a merchant id"),
        (("add", "--terminal", "T1", "--admin", "owner", "--admin-pin", "0000"), "wrong PIN"),
        (("add", "--terminal", "T1", "--admin", "meera", "--admin-pin", "4321"), "an admin"),
        (("revoke", "0123456789ab", *ADMIN), "no API key"),
    ],
)
def test_terminals_bad_input_is_one_line_and_issues_nothing(
    cli: Callable, tmp_path: Path, argv: tuple[str, ...], message: str
) -> None:
    data_dir = tmp_path / "data"
    issue(cli, data_dir, "TERM0001")
    before = cli("terminals", "list", "--data-dir", data_dir).out
    result = cli("terminals", *argv, "--data-dir", data_dir)
    assert result.code == 2
    assert result.err.startswith("paygate: ") and message in result.err
    assert result.err.count("\n") == 1
    assert cli("terminals", "list", "--data-dir", data_dir).out == before


def test_serve_refuses_a_bad_port(cli: Callable, tmp_path: Path) -> None:
    result = cli("serve", "--port", "70000", "--data-dir", tmp_path / "data")
    assert (result.code, result.err) == (2, "paygate: --port must be 1 to 65535, not 70000\n")
    assert not (tmp_path / "data").exists()


def test_a_gateway_url_without_a_key_is_refused(cli: Callable, tmp_path: Path) -> None:
    from gateway_core.service.client import RemoteGateway as Remote
    from gateway_core.settings import load_settings

    settings = load_settings(data_dir=tmp_path, gateway_url="http://127.0.0.1:8600")
    with pytest.raises(InputError, match="needs an API key"):
        Remote.from_settings(settings)
    assert Remote.from_settings(load_settings(data_dir=tmp_path)) is None
