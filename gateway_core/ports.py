"""The core's ports: what the gateway offers and what it needs, as `typing.Protocol`s.

One module, one section per port family. Adapters satisfy a Protocol structurally (no
inheritance); tests check each adapter against its port.
"""

from __future__ import annotations

from gateway_core.clock import Clock

__all__ = ["Clock"]

# ---------------------------------------------------------------------------- gateway API
# What the terminal, the console and the CLI call: `Gateway` in process, `RemoteGateway`
# over HTTP, both checked by one contract suite.


# ---------------------------------------------------------------------------- tenders
# One per payment method (card, later UPI, net banking, cash): authorize / confirm /
# capture / void / refund / status; the gateway adds what every method shares.


# ---------------------------------------------------------------------------- processor
# Who moves the money for a tender: the acquirer client (in process or over httpx).


# ---------------------------------------------------------------------------- repositories
# Everything stored, so that nothing outside gateway_core/store/ imports the database.


# ---------------------------------------------------------------------------- keys
# Where secret keys come from: the file keyring now; a KMS-style envelope provider later.
