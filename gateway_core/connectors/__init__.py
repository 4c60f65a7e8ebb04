"""The real processors' connectors by name (`ports.Connector`), each on its provider's
official SDK, imported on first use (the SDKs are slow to import)."""

from __future__ import annotations

import importlib

from gateway_core.errors import InputError
from gateway_core.ports.connectors import Connector
from gateway_core.settings import ProcessorSettings

# name -> "module:class"; a class is built as cls(settings, base_url).
CONNECTORS = {
    "stripe": "gateway_core.connectors.stripe:StripeConnector",
    "razorpay": "gateway_core.connectors.razorpay:RazorpayConnector",
    "paypal": "gateway_core.connectors.paypal:PaypalConnector",
}


def open_connector(name: str, settings: ProcessorSettings, fakes_url: str) -> Connector:
    """The connector `name`, reaching `settings.base_url`, or when that is unset the
    provider's local fake under `fakes_url` (e.g. http://127.0.0.1:8600/stripe)."""
    if name not in CONNECTORS:
        known = ", ".join(sorted(CONNECTORS))
        raise InputError(f"unknown processor {name!r}: paygate knows {known}")
    module, cls = CONNECTORS[name].split(":")
    base_url = settings.base_url or f"{fakes_url.rstrip('/')}/{name}"
    connector: Connector = getattr(importlib.import_module(module), cls)(settings, base_url)
    return connector
