"""Fixtures of the connector tests."""

from fakes_support import fakes_server  # noqa: F401  (fixture)
