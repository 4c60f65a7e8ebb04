"""The settlement commands: report x|z, settle, reconcile, export, demo seed — exit
codes, output, JSON and CSV shape, and bad input that changes nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from support import open_runtime

from gateway_core.cards import CardInput
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest
from gateway_core.ports import Approval
from gateway_core.settings import load_settings
from gateway_core.settlement import EXPORT_COLUMNS

IST = timezone(timedelta(hours=5, minutes=30), "IST")
APPROVE = ("--approver", "meera", "--approver-pin", "4321")
PAST = (datetime.now(IST) - timedelta(days=2)).date()  # a day the commands may report on
MANAGER = Approval("meera", "4321")


def one_line_error(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("paygate: "), repr(err)
    return err.strip()


def sale(amount: int, pan: str, **kw) -> ChargeRequest:
    cvv = "1234" if pan.startswith("37") else "123"
    card = CardInput(pan=SecretStr(pan), expiry="12/30", cvv=SecretStr(cvv))
    return ChargeRequest(amount=amount, currency="INR", card=card, **kw)


@pytest.fixture
def data(settings, monkeypatch) -> Path:
    """A data dir with a day (PAST) of sales, a tip, a refund, a void and a decline; the
    commands run in the same timezone (IST)."""
    monkeypatch.setenv("PAYGATE_TIMEZONE", "Asia/Kolkata")
    clock = FixedClock(datetime.combine(PAST, time(10, 0), IST))

    async def fill() -> None:
        rt = open_runtime(settings, clock=clock)
        try:
            gw = rt.gateway
            first = await gw.charge(sale(1_150_00, "4242424242424242", tip=150_00))
            clock.advance(minutes=5)
            await gw.charge(sale(480_00, "6521500000000014"))
            await gw.charge(sale(2_000_00, "378282246310005"))
            hold = await gw.charge(sale(300_00, "5555555555554444", capture="manual"))
            await gw.void(hold.id, approval=MANAGER)
            await gw.charge(sale(99_00, "4000000000000002"))  # declined 05
            clock.advance(minutes=30)
            await gw.refund(first.id, 400_00, approval=MANAGER)
        finally:
            await rt.aclose()

    asyncio.run(fill())
    return settings.data_dir


def closings(data: Path) -> int:
    """How many Z reports the data dir holds."""
    settings = load_settings(data_dir=data, timezone="Asia/Kolkata")
    with open_runtime(settings, read_only=True) as rt:
        return len(rt.store.main.table("closings"))


# ---------------------------------------------------------------------------- report x
def test_x_report_shows_the_day_and_changes_nothing(cli, data):
    before = sorted((p, p.stat().st_mtime_ns) for p in (data / "db").rglob("*") if p.is_file())
    done = cli("report", "x", "--date", PAST.isoformat(), "--data-dir", data)
    assert done.code == 0, done.err
    out = done.out
    assert out.startswith("X REPORT  Paygate Demo Store")
    for text in ("Visa", "RuPay", "Amex", "Mastercard", "TOTAL", "payout", "PGS"):
        assert text in out
    assert "declines by reason:" in out and "05   Declined by the bank" in out
    assert "approval rate 80.0%" in out
    after = sorted((p, p.stat().st_mtime_ns) for p in (data / "db").rglob("*") if p.is_file())
    assert before == after


def test_x_report_json_has_every_figure(cli, data):
    done = cli("report", "x", "--date", PAST.isoformat(), "--json", "--data-dir", data)
    assert done.code == 0, done.err
    doc = json.loads(done.out)
    assert doc["kind"] == "X" and doc["day"] == PAST.isoformat() and doc["number"] is None
    [total] = doc["totals"]
    assert total["gross"] == 1_150_00 + 480_00 + 2_000_00  # the void of 300 was never a sale
    assert (total["voids"], total["refunds"], total["tips"]) == (300_00, 400_00, 150_00)
    assert total["net_sales"] == total["gross"] - total["refunds"]
    assert total["payout"] == total["net_sales"] - total["fees"] - total["gst"]
    amex = next(line for line in doc["brands"] if line["brand"] == "amex")
    assert amex["fees"] == 5_500 and amex["gst"] == 990  # 2.75 % of ₹2,000, GST 18 %
    rupay = next(line for line in doc["brands"] if line["brand"] == "rupay")
    assert rupay["fees"] == 0  # RuPay debit: zero MDR
    assert doc["activity"]["declines"] == {"05": 1}
    [payout] = doc["payouts"]
    assert payout["amount"] == total["payout"] and payout["reference"].startswith("PGS")
    assert date.fromisoformat(payout["date"]).weekday() < 5
    assert date.fromisoformat(payout["date"]) > PAST


BAD_DATES = [
    ("28/11/2026", "YYYY-MM-DD"),
    ("2026-02-30", "not a date"),
    ((datetime.now(IST) + timedelta(days=2)).date().isoformat(), "in the future"),
]


def test_a_bad_date_is_one_line_and_exit_2(cli, data):
    for command in (("report", "x"), ("report", "z"), ("export",), ("settle",), ("reconcile",)):
        approve = APPROVE if command in (("report", "z"), ("settle",)) else ()
        for date_text, message in BAD_DATES:
            done = cli(*command, "--date", date_text, "--data-dir", data, *approve)
            assert done.code == 2 and done.out == "", (command, date_text)
            assert message in one_line_error(done.err)
    assert closings(data) == 0


# ---------------------------------------------------------------------------- report z
def test_z_report_closes_once_and_again_gives_the_same_report(cli, data):
    args = ("report", "z", "--date", PAST.isoformat(), "--data-dir", data)
    refused = cli(*args)
    assert refused.code == 2 and "manager must approve" in one_line_error(refused.err)
    assert closings(data) == 0
    wrong = cli(*args, "--approver", "meera", "--approver-pin", "0000")
    assert wrong.code == 2 and closings(data) == 0
    done = cli(*args, *APPROVE, "--json")
    assert done.code == 0, done.err
    z = json.loads(done.out)
    assert (z["kind"], z["number"], z["closed_by"]) == ("Z", 1, "meera")
    assert z["audit_head"]["seq"] > 0 and len(z["digest"]) == 64
    again = cli(*args, *APPROVE, "--json")
    assert again.code == 2
    assert json.loads(again.out) == z
    assert "already closed (Z report 1" in one_line_error(again.err)
    assert closings(data) == 1
    human = cli(*args)
    assert human.code == 2 and human.out.startswith("Z REPORT 1  Paygate Demo Store")
    assert "audit anchor: seq" in human.out
    x = cli("report", "x", "--date", PAST.isoformat(), "--data-dir", data)
    assert "(closed: Z report 1)" in x.out
    assert cli("audit", "verify", "--data-dir", data).code == 0


def test_a_closed_days_payments_cannot_be_captured_or_voided(cli, data):
    assert cli("report", "z", "--date", PAST.isoformat(), "--data-dir", data, *APPROVE).code == 0
    listed = json.loads(cli("list", "--date", PAST.isoformat(), "--json", "--data-dir", data).out)
    paid = next(p for p in listed if p["status"] == "succeeded")
    for command in (("capture", paid["id"]), ("void", paid["id"], *APPROVE)):
        done = cli(*command, "--data-dir", data)
        assert done.code == 2
        assert f"business day {PAST} is closed (Z report 1)" in one_line_error(done.err)


def test_z_refuses_a_day_with_open_payments_or_nothing_on_it(cli, data, settings):
    clock = FixedClock(datetime.combine(PAST, time(18, 0), IST))

    async def hold() -> None:
        rt = open_runtime(settings, clock=clock)
        try:
            await rt.gateway.charge(sale(700_00, "4111111111111111", capture="manual"))
        finally:
            await rt.aclose()

    asyncio.run(hold())
    done = cli("report", "z", "--date", PAST.isoformat(), "--data-dir", data, *APPROVE)
    assert done.code == 2 and "still open" in one_line_error(done.err)
    empty = (PAST - timedelta(days=5)).isoformat()
    done = cli("report", "z", "--date", empty, "--data-dir", data, *APPROVE)
    assert done.code == 2 and "nothing to close" in one_line_error(done.err)
    assert closings(data) == 0


# ---------------------------------------------------------------------------- settle, reconcile
def test_settle_closes_pays_out_and_reconciles(cli, data):
    done = cli("settle", "--date", PAST.isoformat(), "--data-dir", data, *APPROVE)
    assert done.code == 0, done.err
    assert "Z REPORT 1" in done.out
    assert "PAYOUT INR: net sales" in done.out and "reference PGS" in done.out
    assert "reconciliation: 4 matched" in done.out and "no breaks" in done.out
    again = cli("settle", "--date", PAST.isoformat(), "--data-dir", data, "--json")
    assert again.code == 2
    doc = json.loads(again.out)
    assert doc["already_closed"] and doc["reconciliation"]["ok"]
    assert doc["report"]["number"] == 1 and doc["payouts"] == doc["report"]["payouts"]


def test_reconcile_prints_each_category_with_amounts(cli, data):
    done = cli("reconcile", "--date", PAST.isoformat(), "--data-dir", data)
    assert done.code == 0, done.err
    matched = next(line for line in done.out.splitlines() if line.startswith("matched"))
    assert matched.split()[1:] == ["4", "₹4,030.00"]  # 3 sales + the refund
    for label in ("missing at acquirer", "missing at gateway", "amount mismatch"):
        assert label in done.out
    doc = json.loads(cli("reconcile", "--date", PAST.isoformat(), "--json", "--data-dir", data).out)
    assert doc["ok"] and doc["breaks"] == 0
    assert {e["kind"] for e in doc["matched"]} == {"capture", "refund"}
    assert set(doc["summary"]) == {
        "matched",
        "missing_at_acquirer",
        "missing_at_gateway",
        "amount_mismatch",
        "reversals",  # UPI debits given back (the switch's file is read too)
    }
    assert doc["summary"]["reversals"]["count"] == 0 and doc["switch"]


# ---------------------------------------------------------------------------- export
def test_export_csv_rows_add_up_to_the_payout(cli, data):
    done = cli("export", "--date", PAST.isoformat(), "--data-dir", data)
    assert done.code == 0, done.err
    rows = list(csv.DictReader(io.StringIO(done.out)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert sorted(r["type"] for r in rows) == ["decline", "refund", "sale", "sale", "sale", "void"]
    assert all("•" in r["card"] for r in rows if r["type"] != "refund")
    net = sum(Decimal(r["net"]) for r in rows if r["net"])
    x = json.loads(cli("report", "x", "--date", PAST.isoformat(), "--json", "--data-dir", data).out)
    assert net * 100 == x["totals"][0]["payout"]
    assert sum(Decimal(r["fee"]) for r in rows if r["fee"]) * 100 == x["totals"][0]["fees"]


def test_export_json_to_a_file(cli, data, tmp_path):
    out = tmp_path / "day.json"
    done = cli(
        "export", "--date", PAST.isoformat(), "--format", "json", "--out", out, "--data-dir", data
    )
    assert done.code == 0 and done.out == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert set(doc) == {"day", "report", "transactions"}
    assert doc["report"]["kind"] == "X" and len(doc["transactions"]) == 6
    assert all(isinstance(t["amount"], int) for t in doc["transactions"])  # minor units


def test_exporting_a_day_with_nothing_is_refused(cli, data, tmp_path):
    out = tmp_path / "empty.csv"
    empty = (PAST - timedelta(days=1)).isoformat()
    done = cli("export", "--date", empty, "--out", out, "--data-dir", data)
    assert done.code == 2 and "nothing to export" in one_line_error(done.err)
    assert not out.exists() and list(tmp_path.glob(".empty.csv*")) == []
    nowhere = cli("export", "--date", PAST.isoformat(), "--out", tmp_path / "no" / "x.csv")
    assert nowhere.code == 2 and "not a directory" in one_line_error(nowhere.err)


# ---------------------------------------------------------------------------- demo seed
def test_demo_seed_makes_history_and_refuses_a_dir_with_payments(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PAYGATE_TIMEZONE", "Asia/Kolkata")
    target = tmp_path / "demo"
    done = cli("demo", "seed", "--days", "2", "--per-day", "12", "--data-dir", target)
    assert done.code == 0, done.err
    assert "seeded" in done.out and "(Z 1)" in done.out
    assert (target / ".paygate-demo").is_file()
    yesterday = (datetime.now(IST) - timedelta(days=1)).date().isoformat()
    z = cli("report", "z", "--date", yesterday, "--data-dir", target)
    assert z.code == 2 and "already closed" in z.err  # the seeded closed day
    again = cli("demo", "seed", "--days", "2", "--per-day", "12", "--data-dir", target)
    assert again.code == 2 and "already has payments" in one_line_error(again.err)
    bad = cli("demo", "seed", "--days", "0", "--data-dir", tmp_path / "other")
    assert bad.code == 2 and not (tmp_path / "other").exists()
