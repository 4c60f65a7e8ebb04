"""What the simulated net banking banks refuse."""

from __future__ import annotations

from gateway_core.errors import InputError


class NbNotFound(InputError):
    """An unknown bank, transaction, refund or merchant (HTTP 404)."""
