"""paygate as a Stripe-compatible API: the app `paygate serve` mounts at `/stripe`, so
that the official `stripe` SDK with `base_addresses={"api": "http://HOST:PORT/stripe"}`
and a terminal's paygate key as its secret key takes ordinary paygate payments.

PaymentIntents (create, confirmed at once or a draft confirmed later; confirm, also
with the cardholder's OTP; capture, cancel, retrieve, list) and Refunds (create,
retrieve, list by payment_intent), in Stripe's form encoding, shapes, errors and
idempotency (`stripe_calls`). docs/CONNECTORS.md describes what is supported.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_core.service import stripe_lookup as lookup
from gateway_core.service.dependencies import Service
from gateway_core.service.routes import stripe_intents as intents
from gateway_core.service.routes import stripe_refunds as refunds
from gateway_core.service.stripe_calls import reading, writing
from gateway_core.service.stripe_drafts import Drafts
from gateway_core.service.stripe_errors import StripeError
from gateway_core.service.stripe_replays import Replays

PI = "/v1/payment_intents"


async def _unrecognized(request: Request, exc: Exception) -> Response:
    """An unknown URL or method, as Stripe answers it (the path is not echoed)."""
    text = "Unrecognized request URL: paygate answers a subset of Stripe's API."
    return StripeError(404, "invalid_request_error", None, text).response()


def stripe_app(service: Service) -> Starlette:
    """The Stripe-compatible API over the service's runtime and terminal keys."""
    routes = [
        Route(PI, writing(intents.create, lookup.replay_confirmed), methods=["POST"]),
        Route(PI, reading(intents.list_all), methods=["GET"]),
        Route(PI + "/{intent}", reading(intents.retrieve), methods=["GET"]),
        Route(
            PI + "/{intent}/confirm",
            writing(intents.confirm, lookup.replay_confirmed),
            methods=["POST"],
        ),
        Route(PI + "/{intent}/capture", writing(intents.capture, lookup.replay), methods=["POST"]),
        Route(PI + "/{intent}/cancel", writing(intents.cancel, lookup.replay), methods=["POST"]),
        Route("/v1/refunds", writing(refunds.create, refunds.replay), methods=["POST"]),
        Route("/v1/refunds", reading(refunds.list_all), methods=["GET"]),
        Route("/v1/refunds/{refund}", reading(refunds.retrieve), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _unrecognized})
    rt = service.rt
    app.state.service = service
    app.state.replays = Replays(rt.records, rt.vault, rt.clock)
    app.state.drafts = Drafts(rt.records, rt.vault, rt.clock)
    return app
