"""The gateway as an HTTP service (`paygate serve`) and its client (`RemoteGateway`).

`app.create_app(runtime)` assembles the FastAPI app: the routers of `routes` (payments,
otp, admin, reports), the `dependencies` they ask for (runtime, gateway, clock, the
calling terminal), the body `limits` and the error `responses`. `keys` holds the
terminals' API keys; `errors` is the one table that turns exceptions into
`{"error": {...}}` bodies on the server and back into the same exception classes in
`client.RemoteGateway`, which implements the gateway API port (`ports.GatewayAPI`).
"""
