"""A local fake of Razorpay's API (Orders, Payments by card, UPI and net banking,
capture, Refunds, signed webhooks), served under /razorpay/v1."""
