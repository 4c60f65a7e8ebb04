"""A 422's message and param name the parameter in one line: a mapping's key from the
request (a newline, a card number) is shown as "?", plain names and indexes as they are."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError

from gateway_core.service.responses import validation_detail


def _detail(*loc: object) -> tuple[str, str | None]:
    exc = RequestValidationError([{"type": "int_parsing", "loc": loc, "msg": "not a number"}])
    _status, detail = validation_detail(exc)
    return detail.message, detail.param


@pytest.mark.parametrize("key", ["\n", "4111111111111111", "a b", "x" * 70])
def test_a_mappings_odd_key_is_a_question_mark(key: str) -> None:
    message, param = _detail("body", "count", key, "[key]")
    assert (message, param) == ("count.?.[key]: not a number", "count.?.[key]")


def test_plain_names_indexes_and_dotted_names_are_shown() -> None:
    assert _detail("body", "count", "50000")[1] == "count.50000"
    assert _detail("body", "upi.vpa")[1] == "upi.vpa"
    assert _detail("header", "Idempotency-Key")[1] == "Idempotency-Key"
    assert _detail("body", "items", 2, "amount")[1] == "items.2.amount"
