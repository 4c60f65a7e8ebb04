"""Payment methods: one module per method implementing the `Tender` port of
`gateway_core.ports` (`card` first; `base.Refusals` for the steps a method lacks)."""
