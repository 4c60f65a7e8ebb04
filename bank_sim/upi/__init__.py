"""The simulated UPI network: remitter banks holding the test payers (`payers`), the
switch (`switch`, its books in `books`), the merchant's payee PSP (`psp`), the payer's
app (`payer_app`), all in `UpiNetwork` (`network`), served under `/upi/v1` (`routes`)."""
