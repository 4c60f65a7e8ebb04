"""A stateful fake of Stripe's API (PaymentIntents, Refunds, webhooks) under
`/stripe/v1`, for the Stripe connector's tests and for demos without a network."""
