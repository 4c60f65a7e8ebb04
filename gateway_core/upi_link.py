"""UPI payment links (`upi://pay?...`, NPCI's linking specification) and VPAs.

A dynamic QR and an intent carry the same link: `pa` (payee VPA), `pn` (payee name),
`am` (rupees, two decimals), `cu=INR`, `tr` (the payment's reference, 1–35 characters),
`tn` (a note, at most 50), `mc` (the merchant category code) and `mode` (01: QR, 04:
intent; the spec's codes). `parse_link` is what a payer app does with a scanned code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit

from gateway_core.errors import InputError
from gateway_core.upi_api import MAX_UPI_AMOUNT, UpiFlow

MODES: Final[dict[UpiFlow, str]] = {"qr": "01", "intent": "04"}
_HANDLE = re.compile(r"[A-Za-z0-9._-]{2,256}")
_PSP = re.compile(r"[A-Za-z]{2,64}")
_REFERENCE = re.compile(r"[A-Za-z0-9._-]{1,35}")
_MCC = re.compile(r"[0-9]{4}")
VPA_MAX: Final = 255


def check_vpa(text: str) -> str:
    """A VPA as `handle@psp` (2–256 letters, digits, dots, dashes or underscores, then
    letters; 255 characters at most in all), lower-cased; `InputError` otherwise."""
    vpa = text.strip()
    handle, at, psp = vpa.partition("@")
    if len(vpa) > VPA_MAX or not at or not _HANDLE.fullmatch(handle) or not _PSP.fullmatch(psp):
        shown = repr(vpa) if len(vpa) <= 40 and vpa.isprintable() else "that"
        raise InputError(f"{shown} is not a UPI ID (like name@bank)")
    return vpa.lower()


def mask_vpa(vpa: str) -> str:
    """A VPA as a receipt shows it: the first two characters of the handle, then `****`
    (`rahul@okbank` → `ra****@okbank`)."""
    handle, _, psp = vpa.partition("@")
    return f"{handle[:2]}****@{psp}"


def rupees(paise: int) -> str:
    """Paise as the link's `am`: two decimals, no grouping (`25000` → `250.00`)."""
    return f"{paise // 100}.{paise % 100:02d}"


@dataclass(frozen=True)
class PaymentLink:
    """The fields of a `upi://pay` link."""

    payee_vpa: str  # pa
    payee_name: str  # pn
    amount: int  # am, in paise
    reference: str  # tr
    note: str = ""  # tn
    mcc: str = "5411"  # mc
    flow: UpiFlow = "qr"  # mode

    def __post_init__(self) -> None:
        check_vpa(self.payee_vpa)
        if not 0 < self.amount <= MAX_UPI_AMOUNT:
            raise InputError("a UPI payment is more than ₹0.00 and at most ₹1,00,000.00")
        if not _REFERENCE.fullmatch(self.reference):
            raise InputError("a UPI reference (tr) has 1 to 35 letters, digits, . _ or -")
        if len(self.note) > 50:
            raise InputError("a UPI note (tn) has at most 50 characters")
        if not _MCC.fullmatch(self.mcc):
            raise InputError("a merchant category code (mc) has 4 digits")
        if self.flow not in MODES:
            raise InputError("a UPI link is for a QR or an intent, not a collect request")

    def link(self) -> str:
        """The link, its values percent-encoded (spaces as %20)."""
        fields = {
            "pa": self.payee_vpa,
            "pn": self.payee_name,
            "am": rupees(self.amount),
            "cu": "INR",
            "tr": self.reference,
            "tn": self.note,
            "mc": self.mcc,
            "mode": MODES[self.flow],
        }
        query = "&".join(f"{k}={quote(v, safe='@.-_')}" for k, v in fields.items() if v)
        return f"upi://pay?{query}"


def parse_link(text: str) -> PaymentLink:
    """A scanned or opened `upi://pay` link, checked; `InputError` for anything else."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() != "upi" or parts.netloc.lower() != "pay":
        raise InputError("not a UPI payment link (upi://pay?...)")
    fields = dict(parse_qsl(parts.query, keep_blank_values=True))
    missing = [k for k in ("pa", "pn", "am", "tr") if not fields.get(k)]
    if missing:
        raise InputError(f"the UPI link has no {', '.join(missing)}")
    if fields.get("cu", "INR") != "INR":
        raise InputError("UPI takes rupees only (cu=INR)")
    amount = re.fullmatch(r"([0-9]{1,7})(?:\.([0-9]{1,2}))?", fields["am"])
    if amount is None:
        raise InputError("the UPI link's amount (am) is not rupees with two decimals")
    paise = int(amount[1]) * 100 + int((amount[2] or "0").ljust(2, "0"))
    flows = {code: flow for flow, code in MODES.items()}
    return PaymentLink(
        payee_vpa=check_vpa(fields["pa"]),
        payee_name=fields["pn"],
        amount=paise,
        reference=fields["tr"],
        note=fields.get("tn", ""),
        mcc=fields.get("mc", "5411"),
        flow=flows.get(fields.get("mode", "01"), "qr"),
    )
