"""A stateful fake of PayPal's REST API (OAuth2, Orders v2, Payments v2, webhooks),
served under /paypal for paygate's PayPal connector (gateway_core/connectors/paypal.py)."""
