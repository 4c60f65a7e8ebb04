"""The back office behind the merchant console (F4): the day read and added up (by
`gateway_core.dashboard` and `gateway_core.settlement`), the console's approval, the
manager's capture, void and refund, the Z report, reconciliation and export. Reads run
in the console's thread workers; what changes something runs in workers of the app.
Satisfies `pos_app.screens.hosts.BackOffice`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime

from textual.app import App

from gateway_core.access import AccessError
from gateway_core.acquirer_api import Frame
from gateway_core.audit import Verdict
from gateway_core.dashboard import (
    PAGE_SIZE,
    Ledger,
    Record,
    audit_events,
    day_refunds,
    day_stats,
    events_of,
    ledger_of,
    read_day,
    refunded,
)
from gateway_core.errors import PaygateError
from gateway_core.gateway import Gateway
from gateway_core.money import Money
from gateway_core.observe.health import Health, read_health
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.presentation import format_money
from gateway_core.runtime import Runtime
from gateway_core.settlement import Reconciliation, Settlement
from gateway_core.settlement.running import model_scores, payments_taken
from gateway_core.settlement.shift_reports import shift_reports
from gateway_core.shift_models import ShiftReport
from gateway_core.webhooks.endpoints import notices
from pos_app.private_files import write_private_text
from pos_app.screens.hosts import ActionDialog, ClosingView, DayData, Dialog, Noted, ReconcileView
from pos_app.wiring import Wiring

log = logging.getLogger("paygate.terminal")


class BackOffice:
    """The console's reads and actions over the open data dir."""

    def __init__(
        self, app: App[int], rt: Runtime, wiring: Wiring, operator: Callable[[], str]
    ) -> None:
        self.app = app
        self.rt = rt
        self.settings = rt.settings
        self._gateway = wiring.gateway
        self._operator = operator
        self.field_rows = wiring.field_rows
        self._payments = rt.records.payments  # keeps each day's order of pages
        self._open = rt.records.open_payments

    @property
    def gateway(self) -> Gateway:
        return self._gateway()

    def now(self) -> datetime:
        return self.rt.clock.now().astimezone(self.settings.tz)

    def settlement(self) -> Settlement:
        """Reports, closing, reconciliation and export over the open data dir."""
        rt = self.rt
        return Settlement(rt.records, rt.settings, audit=rt.audit, clock=rt.clock)

    # -- reads (in the console's threads) -------------------------------------------------
    def day_data(self, day: date) -> DayData:
        """The day for every tab: its running totals added up, its refunds and the
        payments waiting for their payer (not its pages: the transactions tab reads them
        when shown; the day's order costs 0.5 s of CPU on a 100k day)."""
        rt, settings = self.rt, self.settings
        settlement = self.settlement()
        totals = settlement.totals(day)
        report = settlement.report(day, totals)
        stats = day_stats(report, totals, settings)
        stats.shifts = self.shift_reports(day)
        if (fraud := rt.gateway.risk.fraud) is not None:
            stats.fraud = fraud.watch(day, model_scores(day, totals))
        return DayData(
            day,
            stats,
            report,
            settlement.closing(day),
            rt.gateway.risk.blocks(),
            payments=payments_taken(totals),
            refunded=refunded(day_refunds(rt.records, settlement, day)),
            waiting=self._waiting(day),
            notices=self._notices(),
        )

    def _notices(self) -> list[str]:
        """What the merchant must act on: webhook endpoints disabled after failures."""
        with self.rt.records.reading():
            return notices(self.rt.records.webhooks, self.settings.merchant_id)

    def _waiting(self, day: date) -> list[Record]:
        """The day's payments waiting for their payer (UPI, net banking, payment links):
        among the open ones (the open index), not the whole day."""
        prefix = f"pay_{day:%Y%m%d}_"
        records = self.rt.records
        if day not in records.days():
            return []
        with records.reading():
            ids = [payment_id for payment_id in self._open.ids() if payment_id.startswith(prefix)]
        with records.reading(day):
            found = [self._payments.get(day, payment_id) for payment_id in ids]
        merchant = self.settings.merchant_id
        return [r for r in found if r and r["status"] == "pending" and r["merchant_id"] == merchant]

    def ledger(self, day: date) -> Ledger:
        """The whole day's payments, for a search or another sort."""
        payments, refunds = read_day(self.rt.records, self.settlement(), day)
        return ledger_of(day, payments, refunds, self.settings.currency)

    def page(self, day: date, cursor: tuple[str, str] | None) -> list[Record]:
        """The page of the day's payments after `cursor` (None: the first), newest first."""
        return self._payments.page(day, self.settings.merchant_id, cursor, PAGE_SIZE)

    def shift_reports(self, day: date) -> list[ShiftReport]:
        """The day's shift reports, read under the main database's lock (a worker thread
        never reads a table while the gateway writes to it)."""
        with self.rt.records.reading():
            return shift_reports(self.rt.gateway.shifts, day)

    def payment_detail(self, payment_id: str) -> tuple[Payment, list[Record]]:
        """A payment as stored and its audit events."""
        payment = self.rt.gateway.get(payment_id)
        day = payment.created_at.astimezone(self.settings.tz).date()
        return payment, events_of(audit_events(self.rt.records, since=day), payment.id)

    def audit_events(self) -> list[Record]:
        return audit_events(self.rt.records)

    def verify_audit(self) -> Verdict:
        return self.rt.audit.verify()

    async def health(self, since: Health | None) -> Health:
        """A reading of the Health view: the recorders (the rate since an earlier
        reading), and the checks of /readyz."""
        from gateway_core.service.health import banks_check, keys_check, store_check

        rt = self.rt
        checks = {"store": store_check(rt), "banks": await banks_check(rt), "keys": keys_check(rt)}
        return read_health(self.now(), since, checks)

    async def frames(self, payment_id: str) -> list[Frame]:
        frames: list[Frame] = await self.gateway.bank.frames(payment_id)
        return frames

    # -- actions --------------------------------------------------------------------------
    def approve_console(self, approval: Approval, dialog: Dialog) -> None:
        """A manager's or admin's PIN opens the console; anyone else gets one line."""
        self.app.run_worker(
            self._approve_console(approval, dialog),
            group="console",
            exclusive=True,
            exit_on_error=False,
        )

    async def _approve_console(self, approval: Approval, dialog: Dialog) -> None:
        try:
            manager = await asyncio.to_thread(
                self.rt.access.approve,
                approval.user_id,
                approval.pin,
                action="merchant_console",
                subject=self.settings.merchant_id,
                operator=self._operator(),
            )
        except AccessError as exc:
            dialog.show_error(str(exc))
            return
        dialog.dismiss(manager)

    def merchant_action(
        self,
        kind: str,
        payment: Payment,
        amount: int | None,
        approval: Approval,
        dialog: ActionDialog,
    ) -> None:
        """Capture, void or refund from the console, once a manager approves. A wrong
        PIN stays in the dialog; any other refusal is one line under the payment."""
        self.app.run_worker(
            self._merchant_action(kind, payment, amount, approval, dialog),
            group="merchant-action",
            exclusive=True,
            exit_on_error=False,
        )

    async def _merchant_action(
        self,
        kind: str,
        payment: Payment,
        amount: int | None,
        approval: Approval,
        dialog: ActionDialog,
    ) -> None:
        screen = dialog.payment_screen
        operator = self._operator()
        try:
            if kind == "capture":  # the gateway asks no approval to capture: the console does
                approver = await asyncio.to_thread(
                    self.rt.access.approve,
                    approval.user_id,
                    approval.pin,
                    action="capture",
                    subject=payment.id,
                    operator=operator,
                )
                # the manager who approved captures (approval.granted names who asked)
                done = await self.gateway.capture(payment.id, amount, operator=approver.id)
            elif kind == "void":
                done = await self.gateway.void(payment.id, operator=operator, approval=approval)
            else:
                done = await self.gateway.refund(
                    payment.id, amount, operator=operator, approval=approval
                )
        except AccessError as exc:
            dialog.show_error(str(exc))
            return
        except PaygateError as exc:
            dialog.dismiss(None)
            screen.note(f"{exc}; nothing was changed", "error")
            return
        except Exception as exc:
            log.error("%s failed: %s", kind, type(exc).__name__)
            dialog.dismiss(None)
            screen.note(f"Something went wrong ({type(exc).__name__})", "error")
            return
        dialog.dismiss(done)
        done_amount = {"capture": done.amount_captured, "void": done.amount}.get(kind, amount)
        word = {"capture": "Captured", "void": "Voided", "refund": "Refunded"}[kind]
        screen.note(
            f"{word} {format_money(Money(done_amount or 0, done.currency))} "
            f"(approved by {approval.user_id})",
            "ok",
        )

    def still_open_shifts(self, day: date) -> list[str]:
        """The cashiers' shifts a Z of `day` would have to close, one line each."""
        return self.gateway.shifts.still_open(day)

    def close_day(
        self, view: ClosingView, day: date, manager_id: str, *, close_shifts: bool = False
    ) -> None:
        """Take the Z report (in a thread: the store and the audit log write); refused
        while cashiers' shifts are open, unless `close_shifts`: the manager closes them
        uncounted first (as `paygate report z --close-shifts`)."""

        def close() -> None:
            try:
                shifts = self.gateway.shifts
                if close_shifts:
                    uncounted = shifts.open_shifts(day)
                    shifts.close_uncounted(uncounted, operator=manager_id, approver=manager_id)
                z, _already = self.settlement().close_day(
                    day, closed_by=manager_id, open_shifts=shifts.still_open
                )
            except PaygateError as exc:
                self.app.call_from_thread(view.close_failed, str(exc))
                return
            self.app.call_from_thread(view.day_closed, z)

        self.app.run_worker(
            close, thread=True, group="close-day", exclusive=True, exit_on_error=False
        )

    def reconcile_day(self, view: ReconcileView, day: date) -> None:
        """The day against each tender's other side: the acquirer's clearing file, the UPI
        switch's and the net banking banks' settlement files, the drawers of the day's
        shifts (`Settlement.reconcile`)."""
        self.app.run_worker(
            self._reconcile(view, day), group="reconcile", exclusive=True, exit_on_error=False
        )

    async def reconcile(self, day: date) -> Reconciliation:
        """`reconcile_day`'s reconciliation."""
        gw = self.gateway
        shifts = await asyncio.to_thread(self.shift_reports, day)
        return await self.settlement().reconcile(day, gw.bank, gw.upi, gw.netbanking, shifts)

    async def _reconcile(self, view: ReconcileView, day: date) -> None:
        try:
            rec = await self.reconcile(day)
        except PaygateError as exc:
            view.note(f"Cannot reconcile: {exc}", "error")
            return
        view.show_reconciliation(rec)

    def export_day(self, view: Noted, day: date) -> None:
        """The day as CSV under `<data dir>/exports/`; the path is shown."""
        path = self.settings.data_dir / "exports" / f"paygate-{day.isoformat()}.csv"

        def export() -> None:
            try:
                text = self.settlement().export(day, "csv")
                write_private_text(path, text)
            except PaygateError as exc:
                self.app.call_from_thread(view.note, str(exc), "error")
                return
            except OSError as exc:
                self.app.call_from_thread(
                    view.note, f"Not exported: {exc.strerror or exc}", "error"
                )
                return
            rows = text.count("\n") - 1
            self.app.call_from_thread(view.note, f"Exported {rows} rows to {path}", "ok")

        self.app.run_worker(
            export, thread=True, group="export", exclusive=True, exit_on_error=False
        )
