"""Webhooks to the merchant: endpoints (`endpoints`), events made from the audit log
(`events`), the delivery worker (`delivery`) and the signature (`signing`: `verify` is
what a merchant's receiver calls)."""

from gateway_core.webhooks.signing import SignatureError, sign, verify

__all__ = ["SignatureError", "sign", "verify"]
