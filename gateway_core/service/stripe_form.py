"""Stripe's form encoding: `application/x-www-form-urlencoded` with bracket keys
(`metadata[order]=7`, `payment_method_data[card][number]=...`, `expand[0]=x`, `a[]=y`)
read into nested dicts of strings, and `Params`, the typed reader of one request's.

A list is a dict whose keys are "0", "1", ... (`a[]` appends). Anything malformed is a
`StripeError` 400 `invalid_request_error` naming the parameter (`param`), never its
value: a value, or a key that is not a plain name, may be card data.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from gateway_core.audit import mask_card_numbers
from gateway_core.service.stripe_errors import StripeError

Form = dict[str, Any]  # values: str, or a nested Form
MAX_FIELDS = 256
MAX_DEPTH = 5
MAX_KEY = 200
_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,3}")  # a name, or a list index


def invalid(param: str | None, message: str, code: str = "parameter_invalid") -> StripeError:
    """A 400 naming `param` (only when it is a plain bracket name; never a value)."""
    if param is not None and not _is_plain(param):  # a name that may be data: not echoed
        param, message = None, "a parameter name is malformed or unknown"
    return StripeError(400, "invalid_request_error", code, mask_card_numbers(message), param)


def _is_plain(param: str) -> bool:
    match = _KEY.fullmatch(param)
    parts = [match.group(1), *_PART.findall(match.group(2))] if match else []
    first_is_a_name = bool(parts) and not parts[0][:1].isdigit()
    return first_is_a_name and all(p == "" or _PLAIN.fullmatch(p) for p in parts)


def parse_form(body: bytes) -> Form:
    """The fields of a form body (or a query string) as nested dicts."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except ValueError:  # not UTF-8, a bad %-escape, or too many fields
        raise invalid(None, f"the body is not form data of at most {MAX_FIELDS} fields") from None
    form: Form = {}
    for key, value in pairs:
        _put(form, key, value)
    return form


def _put(form: Form, key: str, value: str) -> None:
    match = _KEY.fullmatch(key) if len(key) <= MAX_KEY else None
    if match is None:
        raise invalid(None, "a parameter name is malformed")
    parts = [match.group(1), *_PART.findall(match.group(2))]
    if len(parts) > MAX_DEPTH:
        raise invalid(key, f"{key}: nested deeper than {MAX_DEPTH} levels")
    node = form
    for depth, part in enumerate(parts):
        name = part if part else str(len(node))  # a[] appends
        if depth == len(parts) - 1:
            if name in node:
                raise invalid(key, f"{key}: given more than once, or as a value and a hash")
            node[name] = value
            return
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise invalid(key, f"{key}: given as a value and as a hash")
        node = child


def param_name(prefix: str, name: str) -> str:
    """`name` inside `prefix` as Stripe writes it (metadata[order])."""
    return f"{prefix}[{name}]" if prefix else name


class Params:
    """The typed reader of one form (or of one hash inside it): each read marks a
    field as known; `done` refuses the fields nobody read."""

    def __init__(self, form: Form, prefix: str = "") -> None:
        self._form = form
        self._prefix = prefix
        self._read: set[str] = set()

    def _name(self, name: str) -> str:
        return param_name(self._prefix, name)

    def _raw(self, name: str, required: bool) -> str | None:
        self._read.add(name)
        value = self._form.get(name)
        if value is None:
            if required:
                missing = self._name(name)
                raise invalid(missing, f"Missing required param: {missing}.", "parameter_missing")
            return None
        if not isinstance(value, str):
            raise invalid(self._name(name), f"Invalid {self._name(name)}: not a hash")
        return value

    def text(self, name: str, *, required: bool = False, max_len: int = 1000) -> str | None:
        """A string field, at most `max_len` characters."""
        value = self._raw(name, required)
        if value is not None and len(value) > max_len:
            raise invalid(self._name(name), f"{self._name(name)}: at most {max_len} characters")
        return value

    def amount(self, name: str, *, required: bool = False) -> int | None:
        """A positive integer of minor units (digits only: never rounded)."""
        value = self._raw(name, required)
        if value is None:
            return None
        if not (value.isascii() and value.isdigit() and 0 < len(value) <= 15 and int(value)):
            code = "parameter_invalid_integer"
            raise invalid(self._name(name), f"Invalid positive integer: {self._name(name)}", code)
        return int(value)

    def flag(self, name: str) -> bool | None:
        """A boolean: true or false."""
        value = self._raw(name, False)
        if value is None or value in ("true", "false"):
            return None if value is None else value == "true"
        raise invalid(self._name(name), f"Invalid boolean: {self._name(name)}")

    def choice(self, name: str, options: tuple[str, ...]) -> str | None:
        """One of `options`."""
        value = self._raw(name, False)
        if value is not None and value not in options:
            listed = ", ".join(options)
            raise invalid(self._name(name), f"Invalid {self._name(name)}: must be one of {listed}")
        return value

    def is_given(self, name: str) -> bool:
        """Whether the field is there (read or not)."""
        return name in self._form

    def is_text(self, name: str) -> bool:
        """Whether the field is a plain value (not a hash)."""
        return isinstance(self._form.get(name), str)

    def nested(self, name: str) -> Params | None:
        """A hash field as its own reader (None when absent)."""
        self._read.add(name)
        value = self._form.get(name)
        if value is None or value == "":  # Stripe: an empty string unsets a hash
            return None
        if not isinstance(value, dict):
            raise invalid(self._name(name), f"Invalid {self._name(name)}: must be a hash")
        return Params(value, self._name(name))

    def strings(self, name: str) -> list[str]:
        """A list of strings (`a[0]=x`, `a[]=x`)."""
        inner = self.nested(name)
        if inner is None:
            return []
        found = [inner.text(str(i), max_len=100) for i in range(len(inner._form))]
        inner.done()
        return [value for value in found if value is not None]

    def metadata(self, name: str = "metadata") -> dict[str, str]:
        """Stripe's metadata: at most 50 keys of 40 characters, values of 500."""
        inner = self.nested(name)
        if inner is None:
            return {}
        if len(inner._form) > 50:
            raise invalid(self._name(name), f"{self._name(name)}: at most 50 keys")
        found = {}
        for key in list(inner._form):
            if len(key) > 40:
                raise invalid(self._name(name), f"{self._name(name)}: keys are at most 40 long")
            found[key] = inner.text(key, max_len=500) or ""
        return found

    def ignore(self, *names: str) -> None:
        """Fields taken and not used (they change nothing here)."""
        self._read.update(names)

    def done(self) -> None:
        """Refuse the first field nobody read (`parameter_unknown`)."""
        unknown = sorted(set(self._form) - self._read)
        if unknown:
            name = self._name(unknown[0])
            raise invalid(name, f"Received unknown parameter: {name}", "parameter_unknown")
