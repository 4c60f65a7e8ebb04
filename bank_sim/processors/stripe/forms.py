"""Stripe's form encoding: `metadata[payment_id]=...`, `payment_method_data[card][number]`,
`enabled_events[0]=...` (or `enabled_events[]=`) as nested dicts and lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PART = re.compile(r"\[([^\]]*)\]")


class FormError(ValueError):
    """A key that cannot be read (the parameter's name is the message)."""


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nested params from form (or query) pairs."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *_PART.findall("[" + rest)] if rest else [head]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormError(key)
            node = child
        last = parts[-1] if parts[-1] != "" else str(len(node))
        if isinstance(node.get(last), dict):
            raise FormError(key)
        node[last] = value
    return _with_lists(root)


def _with_lists(node: dict[str, Any]) -> Any:
    """Dicts keyed 0..n-1 become lists."""
    items = {
        key: _with_lists(value) if isinstance(value, dict) else value for key, value in node.items()
    }
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items
