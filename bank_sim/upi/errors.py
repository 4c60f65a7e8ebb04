"""What the simulated UPI network refuses."""

from __future__ import annotations

from gateway_core.errors import InputError


class UpiNotFound(InputError):
    """An unknown transaction, refund, merchant or payment request (HTTP 404)."""
