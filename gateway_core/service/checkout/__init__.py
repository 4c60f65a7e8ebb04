"""The hosted checkout page: server-rendered HTML (Jinja2, no JavaScript) where a
customer pays a payment link by net banking, UPI or card (`pages.router`)."""

from gateway_core.service.checkout.pages import router

__all__ = ["router"]
