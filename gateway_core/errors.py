"""The error hierarchy shared by the whole gateway core.

Every error carries one line a cashier can read. `InputError` is the caller's fault
(a command exits 2), `SystemFailure` is ours or the machine's (a command exits 1).
Messages never contain a full card number or a CVV.
"""


class PaygateError(Exception):
    """Base of every error raised on purpose by paygate."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(PaygateError, ValueError):
    """Bad input from a person or a caller: rejected, nothing changed."""

    exit_code = 2


class SystemFailure(PaygateError):
    """Something outside the input went wrong: storage, keys, locks."""

    exit_code = 1


class RecordConflict(SystemFailure):
    """Another connection (process) wrote a record that must be unique (an idempotency
    key, a bill's key, a Z report) at the same time: this unit was rolled back whole.
    Reading again finds the other's record."""


class BankUnavailable(SystemFailure):
    """No answer in time, an HTTP 5xx, or a connection lost: the outcome is not known."""


class BankNotReached(BankUnavailable):
    """The request never left (connection refused, DNS failure): the bank did nothing."""


class BankRefused(InputError):
    """The bank refused the request itself (HTTP 4xx), with its reason."""
