"""The simulated net banking banks: their customers' accounts (`customers`), the
merchants boarded with a shared secret (`merchants`), the books (`books`), the
transactions and refunds (`transactions`), all in `NetBanking` (`banks`), served server
to server under `/netbanking/v1` (`api`) and to customers' browsers under `/nb` (`pages`,
Jinja2 `templates/`)."""
