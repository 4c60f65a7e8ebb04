"""Monitoring: metrics counted in plain Python on the payment path (`recorders`, fed by
`hooks`), served to Prometheus at scrape time (`metrics`), OpenTelemetry traces
(`tracing`, off unless the `OTEL_*` variables turn them on) and the console's Health
view figures (`health`). Importing `recorders`, `hooks` or `tracing` loads no
third-party package: a terminal's first screen pays nothing for them."""
