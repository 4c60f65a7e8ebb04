"""Local fakes of real processors' APIs (Stripe, Razorpay, PayPal): stateful, in their
documented shapes, signing their webhooks as each provider does, and able to fail on
request (`faults`). Served under /stripe/v1, /razorpay/v1, /paypal/v2 by
`paygate banks serve`, and in process from a loopback port (`server`)."""
