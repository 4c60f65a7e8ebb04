"""The gateway as an HTTP service (`paygate serve`) and its client (`RemoteGateway`).

`app.create_app(runtime)` is the FastAPI app; `keys` holds the terminals' API keys;
`errors` is the one table that turns exceptions into `{"error": {...}}` bodies on the
server and back into the same exception classes in `client.RemoteGateway`.
"""
