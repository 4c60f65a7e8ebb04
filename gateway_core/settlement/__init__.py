"""Settlement: X and Z reports, fees and payout, reconciliation with the acquirer, export.

A business day's money is what *moved* on it (docs/SETTLEMENT.md has the formulas):

- a capture counts on the day it was captured, a void on the day it was voided (both
  are the payment's last change, `updated_at`); a refund on the day it was made (it is
  filed there). Nearly always that is the day the payment was taken; a pre-authorization
  captured after midnight counts on the day of its capture, like the acquirer's
  clearing file, so the report and the clearing file always describe the same money;
- per currency, method and (for cards) brand: gross = captured (a voided authorization
  was never a sale; its amount is shown apart as `voids`); net sales = gross − refunds;
  fees = Σ MDR of each capture; GST = Σ GST on each fee; payout = net sales − fees −
  GST. Every method's subtotal is the sum of its lines, every total the sum of its
  methods. `day_figures` is the one reading of a report that every view shows
  (dashboard, X and Z reports, `paygate report`).

The *X report* can be printed any time and changes nothing. The *Z report* closes the
day: it is numbered in closing order, stored once (never updated), carries the audit
chain's head and a digest that the audit log signs, and closing the same day again gives
back the stored report. After it, the gateway refuses anything that would change the day
(`gateway.DayClosed`); a later refund of its sales is filed, and counted, on its own day.

Per tender: cards per brand, UPI, net banking per bank (a flat fee per payment and GST
on it; a payout per bank), cash (its rounding a line of its own; kept in the drawer:
`kept`, no payout). Payment links are skipped (their attempts hold the money).

Modules: `models` (the report and its lines), `days` (which business day), `tally` (the
day's arithmetic), `reconciliation` (against the clearing file, the UPI switch's and
the banks' settlement files, the drawers), `expected` (what the banks and drawers
should hold), `export` (rows, CSV), `service` (`Settlement`: reading, closing,
reconciling, exporting), `text` (the plain text of reports and reconciliations),
`shift_reports` (the day's shifts, as text).
"""

from gateway_core.settlement.days import (
    FIRST_DAY,
    LAST_DAY,
    LOOKBACK_DAYS,
    DayOf,
    moved_on,
    parse_day,
)
from gateway_core.settlement.export import EXPORT_COLUMNS, plain_amount, to_csv
from gateway_core.settlement.models import (
    ALL,
    CARD,
    Activity,
    DayFigures,
    DayNotReady,
    DayReport,
    FeeLine,
    Line,
    Payout,
    Record,
    day_figures,
    method_of,
)
from gateway_core.settlement.reconciliation import (
    DrawerCount,
    Entry,
    Mismatch,
    Reconciliation,
    clearing_entry,
    match,
)
from gateway_core.settlement.service import Settlement, digest_of, payout_reference
from gateway_core.settlement.tally import is_void, kind_of, method_totals, tally
from gateway_core.settlement.text import (
    decline_text,
    format_reconciliation,
    format_report,
    payout_lines,
    tender_label,
)

__all__ = [
    "ALL",
    "CARD",
    "EXPORT_COLUMNS",
    "FIRST_DAY",
    "LAST_DAY",
    "LOOKBACK_DAYS",
    "Activity",
    "DayFigures",
    "DayNotReady",
    "DayOf",
    "DayReport",
    "DrawerCount",
    "Entry",
    "FeeLine",
    "Line",
    "Mismatch",
    "Payout",
    "Reconciliation",
    "Record",
    "Settlement",
    "clearing_entry",
    "day_figures",
    "decline_text",
    "digest_of",
    "format_reconciliation",
    "format_report",
    "is_void",
    "kind_of",
    "match",
    "method_of",
    "method_totals",
    "moved_on",
    "parse_day",
    "payout_lines",
    "payout_reference",
    "plain_amount",
    "tally",
    "tender_label",
    "to_csv",
]
