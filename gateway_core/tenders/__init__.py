"""Payment methods: one module per method, each implementing the `Tender` port
(`gateway_core.ports`). `card` is the first; `base` holds what tenders return."""
