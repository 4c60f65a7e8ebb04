"""The core describes a frame for the inspector; the simulator uses the same names."""

from __future__ import annotations

from datetime import UTC, datetime

from bank_sim import iso8583
from gateway_core.acquirer_api import FIELD_NAMES, Frame, describe_frame


def test_describe_frame_names_each_data_element_masked() -> None:
    frame = Frame(
        source="acquirer",
        target="network",
        mti="0100",
        fields={"4": "000000012500", "2": "4242424242424242", "48": "CVV=737", "14": "2812"},
        at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    assert describe_frame(frame) == [
        ("2", "Primary account number", "424242******4242"),
        ("4", "Amount, transaction", "000000012500"),
        ("14", "Date, expiration", "****"),
        ("48", "Additional data, private", "CVV=***"),
    ]


def test_the_simulator_has_no_table_of_its_own() -> None:
    assert iso8583.FIELD_NAMES is FIELD_NAMES
    assert iso8583.SPEC["39"]["desc"] == FIELD_NAMES["39"]
