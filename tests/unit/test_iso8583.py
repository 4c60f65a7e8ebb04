"""ISO 8583 frames between the simulated banks: wire format, strictness, masking."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bank_sim import iso8583 as iso
from bank_sim.iso8583 import FrameError
from gateway_core.errors import InputError

PAN = "4242424242424242"
CVV = "737"
IST = timezone(timedelta(hours=5, minutes=30), "IST")
AT = datetime(2026, 11, 28, 10, 0, 5, tzinfo=IST)


def auth_request(**extra: str) -> dict[str, str]:
    fields = {
        "t": "0100",
        "2": PAN,
        "3": iso.PROCESSING_PURCHASE,
        "4": iso.amount_field(125050),
        **iso.timestamps(AT),
        "11": iso.new_stan(1),
        "14": "2812",
        "22": "012",
        "25": "00",
        "41": "TERM0001",
        "42": "MERCH0000000042",
        "49": iso.CURRENCY_NUMERIC["INR"],
    }
    fields.update(extra)
    return iso.with_private_data(fields, cvv=CVV)


def auth_response() -> dict[str, str]:
    response = iso.response_for(auth_request())
    response.update({"37": iso.new_rrn(AT, "000001", 10), "38": "A1B2C3", "39": "00"})
    return response


def refund_request() -> dict[str, str]:
    fields = auth_request(t="0200", **{"3": iso.PROCESSING_REFUND, "11": "000007"})
    fields = iso.with_private_data(fields, cvv=None)
    fields.pop("14")
    return fields


def completion_advice() -> dict[str, str]:
    fields = auth_request(t="0220", **{"4": iso.amount_field(100000), "11": "000008"})
    fields = iso.with_private_data(fields, cvv=None)
    fields["37"] = iso.new_rrn(AT, "000001", 10)
    fields["38"] = "A1B2C3"
    return fields


def reversal() -> dict[str, str]:
    original = auth_request()
    return {
        "t": "0400",
        "2": PAN,
        "3": "000000",
        "4": original["4"],
        "7": iso.transmission_time(AT + timedelta(seconds=30)),
        "11": "000009",
        "41": "TERM0001",
        "42": "MERCH0000000042",
        "49": "356",
        "90": iso.original_data(original, acquirer_id="400001"),
    }


EXAMPLES = {
    "0100": auth_request,
    "0110": auth_response,
    "0200": refund_request,
    "0220": completion_advice,
    "0400": reversal,
}


def bits(frame: bytes) -> set[int]:
    """Field numbers whose bitmap bits are set (primary + secondary when present)."""
    primary = int(frame[4:20], 16)
    present = {n for n in range(1, 65) if primary >> (64 - n) & 1}
    if 1 in present:
        secondary = int(frame[20:36], 16)
        present |= {n + 64 for n in range(1, 65) if secondary >> (64 - n) & 1}
    return present


# ------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("mti", sorted(EXAMPLES))
def test_round_trip_of_each_message(mti: str) -> None:
    fields = EXAMPLES[mti]()
    assert fields["t"] == mti
    frame = iso.encode(fields)
    assert isinstance(frame, bytes)
    assert frame.startswith(mti.encode("ascii"))
    expected_bits = {int(k) for k in fields if k != "t"}
    if any(n > 64 for n in expected_bits):
        expected_bits.add(1)
    assert bits(frame) == expected_bits
    assert iso.decode(frame) == fields


def test_wire_layout_of_an_authorization() -> None:
    frame = iso.encode(auth_request())
    assert frame[:4] == b"0100"
    assert frame[4:20] == b"723C048000C18000"  # no secondary bitmap: no field above 64
    assert b"16" + PAN.encode() in frame  # LLVAR PAN
    assert b"007CVV=737" in frame  # LLLVAR field 48
    assert frame.endswith(b"356")


def test_reversal_uses_a_secondary_bitmap_and_field_90() -> None:
    frame = iso.encode(reversal())
    assert 1 in bits(frame) and 90 in bits(frame)
    original = auth_request()
    assert iso.parse_original_data(iso.decode(frame)["90"]) == {
        "t": "0100",
        "11": original["11"],
        "7": original["7"],
        "32": "00000400001",
        "33": "00000000000",
    }


def test_short_terminal_and_merchant_ids_are_padded_on_the_wire() -> None:
    fields = auth_request(**{"41": "T1", "42": "SHOP 7"})
    frame = iso.encode(fields)
    assert b"T1      SHOP 7         " in frame
    assert iso.decode(frame) == fields


def test_bytearray_is_accepted() -> None:
    frame = iso.encode(auth_request())
    assert iso.decode(bytearray(frame)) == auth_request()


_DIGITS = string.digits
_ALNUM = string.ascii_letters + string.digits
_ITEM_KEY = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_uppercase),
    st.text(string.ascii_uppercase + string.digits + "_", max_size=7),
)
_ITEM_VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=";"),
    max_size=40,
)


@st.composite
def valid_fields(draw: st.DrawFn) -> dict[str, str]:
    fields = {
        "t": draw(st.sampled_from(sorted(iso.MTIS))),
        "2": draw(st.text(_DIGITS, min_size=12, max_size=19)),
        "3": draw(st.sampled_from([iso.PROCESSING_PURCHASE, iso.PROCESSING_REFUND])),
        "4": iso.amount_field(draw(st.integers(1, 10**12 - 1))),
        "11": iso.new_stan(draw(st.integers(1, 10**7))),
        "49": draw(st.sampled_from(sorted(iso.CURRENCY_NUMERIC.values()))),
    }
    moment = draw(st.datetimes(timezones=st.sampled_from([UTC, IST])))
    fields.update(iso.timestamps(moment))
    if draw(st.booleans()):
        fields["14"] = f"{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 12)):02d}"
    if draw(st.booleans()):
        fields["41"] = draw(st.text(_ALNUM, min_size=1, max_size=8))
        fields["42"] = draw(st.text(_ALNUM, min_size=1, max_size=15))
    if draw(st.booleans()):
        fields["37"] = iso.new_rrn(moment, fields["11"], moment.hour)
        fields["38"] = draw(st.text(_ALNUM, min_size=6, max_size=6))
        fields["39"] = draw(st.sampled_from(["00", "05", "1A", "N7", "51", "91"]))
    items = draw(st.dictionaries(_ITEM_KEY, _ITEM_VALUE, max_size=4))
    fields = iso.with_private_data(fields, **items)
    if draw(st.booleans()):
        acquirer = draw(st.text(_DIGITS, min_size=1, max_size=11))
        fields["90"] = iso.original_data(fields, acquirer_id=acquirer)
    return fields


@given(valid_fields())
def test_decode_inverts_encode(fields: dict[str, str]) -> None:
    frame = iso.encode(fields)
    assert iso.decode(frame) == fields
    assert iso.encode(iso.decode(frame)) == frame


# ------------------------------------------------------------------------------ fuzz
def check_decode(frame: bytes, pan: str = PAN) -> None:
    """decode gives a dict (then the frame is canonical) or a FrameError naming no data."""
    try:
        fields = iso.decode(frame)
    except FrameError as exc:
        message = str(exc)
        assert pan not in message
        assert "CVV=" not in message and "AUTH=" not in message
        assert "\n" not in message and message
        return
    assert isinstance(fields, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    assert iso.encode(fields) == frame


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_decode_of_any_bytes_is_a_dict_or_frame_error(frame: bytes) -> None:
    check_decode(frame)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_decode_of_bytes_after_a_valid_header(tail: bytes) -> None:
    check_decode(b"0100" + tail)
    check_decode(b"0400F" + tail)


_MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("set"), st.integers(0, 10_000), st.sampled_from(b"0123456789ABCDEF ")),
)


def mutate(frame: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(frame)
    for op, position, value in mutations:
        i = position % (len(data) + 1)
        if op == "insert":
            data.insert(i, value)
        elif data and i < len(data):
            if op == "flip":
                data[i] ^= value
            elif op == "delete":
                del data[i]
            else:
                data[i] = value
    return bytes(data)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(valid_fields(), st.lists(_MUTATION, min_size=1, max_size=4))
def test_decode_of_a_mutated_frame(fields: dict[str, str], mutations: list) -> None:
    check_decode(mutate(iso.encode(fields), mutations), pan=fields["2"])


@pytest.mark.parametrize("mti", sorted(EXAMPLES))
def test_every_single_byte_deletion_of_real_frames(mti: str) -> None:
    frame = iso.encode(EXAMPLES[mti]())
    for i in range(len(frame)):
        check_decode(frame[:i] + frame[i + 1 :])
        check_decode(frame[:i])


# ------------------------------------------------------------------------ strictness
@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"01",
        b"0100",
        b"0100723C",
        b"0800" + b"0" * 16,  # network management: not on this network
        b"ABCD" + b"0" * 16,
    ],
)
def test_short_or_foreign_frames_are_rejected(frame: bytes) -> None:
    with pytest.raises(FrameError):
        iso.decode(frame)


def test_non_canonical_frames_are_rejected() -> None:
    frame = iso.encode(auth_request())
    with pytest.raises(FrameError, match="extra bytes"):
        iso.decode(frame + b"0")
    with pytest.raises(FrameError, match="canonical"):  # lowercase hex bitmap
        iso.decode(frame[:4] + frame[4:20].lower() + frame[20:])
    # secondary bitmap flagged, but no field above 64
    primary = int(frame[4:20], 16) | 1 << 63
    padded = frame[:4] + f"{primary:016X}".encode() + b"0" * 16 + frame[20:]
    with pytest.raises(FrameError, match="canonical"):
        iso.decode(padded)
    # " 16" style length prefix that int() would accept
    with pytest.raises(FrameError):
        iso.decode(frame.replace(b"16" + PAN.encode(), b" 16" + PAN.encode()[:-1]))


def test_decode_checks_field_contents() -> None:
    frame = iso.encode(auth_request())
    bad_amount = frame.replace(b"000000125050", b"0000001250.0")
    with pytest.raises(FrameError, match=r"field 4 .*digits") as caught:
        iso.decode(bad_amount)
    assert PAN not in str(caught.value)
    with pytest.raises(FrameError, match="bytes are not ASCII"):
        iso.decode(frame.replace(b"CVV=737", b"CVV=\xe97"))


def test_decode_needs_bytes() -> None:
    with pytest.raises(FrameError):
        iso.decode("0100")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"2": PAN + "4242"}, "field 2"),  # 20 digits
        ({"2": "4242-4242-4242-4242"}, "field 2"),
        ({"4": "12.50"}, "field 4"),
        ({"4": "00000012505O"}, "field 4"),
        ({"4": "1000000000000"}, "field 4"),
        ({"41": "TERMINAL9"}, "field 41"),
        ({"41": "   "}, "field 41"),
        ({"42": "M" * 16}, "field 42"),
        ({"48": "X=" + "Z" * 998}, "field 48"),
        ({"48": f"CVV={CVV}\n"}, "field 48"),
        ({"7": "1328100000"}, "field 7"),  # month 13
        ({"12": "246000"}, "field 12"),
        ({"14": "2813"}, "field 14"),
        ({"49": "INR"}, "field 49"),
        ({"39": "0"}, "field 39"),
        ({"3": 0}, "field 3"),
        ({"t": "0800"}, "message type"),
        ({"t": "100"}, "message type"),
        ({"02": PAN}, "fields 2 to 128"),
        ({"200": "1"}, "fields 2 to 128"),
        ({"65": "1"}, "fields 2 to 128"),
    ],
)
def test_encode_rejects_bad_fields_without_echoing_card_data(
    change: dict[str, object], complaint: str
) -> None:
    fields: dict[str, object] = {**auth_request(), **change}
    with pytest.raises(FrameError) as caught:
        iso.encode(fields)  # type: ignore[arg-type]
    message = str(caught.value)
    assert complaint in message
    assert PAN not in message
    assert f"CVV={CVV}" not in message and "ZZZ" not in message
    assert isinstance(caught.value, InputError)


def test_encode_without_mti() -> None:
    fields = auth_request()
    del fields["t"]
    with pytest.raises(FrameError, match="message type") as caught:
        iso.encode(fields)
    assert PAN not in str(caught.value)


def test_encode_leaves_its_input_alone() -> None:
    fields = auth_request(**{"41": "T1"})
    before = dict(fields)
    iso.encode(fields)
    assert fields == before


def test_bitmaps_passed_in_are_ignored_and_never_returned() -> None:
    fields = auth_request()
    frame = iso.encode({**fields, "p": "FFFFFFFFFFFFFFFF", "1": "0"})
    assert frame == iso.encode(fields)
    assert "p" not in iso.decode(frame)


# ------------------------------------------------------------------------- responses
@pytest.mark.parametrize(
    ("request_mti", "response_mti"),
    [("0100", "0110"), ("0200", "0210"), ("0220", "0230"), ("0400", "0410")],
)
def test_response_for(request_mti: str, response_mti: str) -> None:
    request = auth_request(t=request_mti, **{"37": "633210000001"})
    response = iso.response_for(request)
    assert response["t"] == response_mti
    for key in ("3", "4", "7", "11", "12", "13", "37", "41", "42", "49"):
        assert response[key] == request[key]
    assert not {"2", "14", "22", "25", "48"} & response.keys()
    response["39"] = "00"
    assert iso.decode(iso.encode(response)) == response


@pytest.mark.parametrize("mti", ["0110", "0800", None])
def test_response_for_a_non_request(mti: str | None) -> None:
    request = auth_request()
    if mti is None:
        del request["t"]
    else:
        request["t"] = mti
    with pytest.raises(FrameError):
        iso.response_for(request)


# ------------------------------------------------------------------------ field 48
def test_private_data_items() -> None:
    fields = auth_request()
    assert fields["48"] == "CVV=737"
    assert iso.private_data(fields) == {"CVV": CVV}
    stepped = iso.with_private_data(fields, cvv=None, AUTH="q1w2e3r4t5y6u7i8==")
    assert stepped["48"] == "AUTH=q1w2e3r4t5y6u7i8=="
    assert iso.private_data(stepped) == {"AUTH": "q1w2e3r4t5y6u7i8=="}
    assert "48" not in iso.with_private_data(stepped, auth=None)
    assert iso.private_data({"t": "0100"}) == {}
    both = iso.with_private_data(fields, auth="abc")
    assert both["48"] == "CVV=737;AUTH=abc"
    assert fields["48"] == "CVV=737"  # the input is not changed


@pytest.mark.parametrize("text", ["CVV", "cvv=737", "CVV=1;CVV=2", "CVV=737;", "=737"])
def test_malformed_private_data(text: str) -> None:
    with pytest.raises(FrameError) as caught:
        iso.private_data({"48": text})
    assert "737" not in str(caught.value)


def test_with_private_data_rejects_bad_items() -> None:
    with pytest.raises(FrameError) as caught:
        iso.with_private_data({"t": "0100"}, cvv="7;37")
    assert "7;37" not in str(caught.value)
    with pytest.raises(FrameError):
        iso.with_private_data({"t": "0100"}, **{"bad key": "1"})


# --------------------------------------------------------------------------- masking
def test_masked_hides_card_data() -> None:
    fields = iso.with_private_data(
        auth_request(**{"35": PAN + "=2812101", "45": "B" + PAN + "^DOE/J^2812"}),
        auth="q1w2e3r4t5y6u7i8",
    )
    safe = iso.masked(fields)
    assert safe["2"] == "424242******4242"
    assert safe["14"] == "****"
    assert safe["48"] == "CVV=***;AUTH=q1w2…"
    assert "35" not in safe and "45" not in safe
    text = str(safe)
    assert PAN not in text and CVV not in text and "2812" not in text
    assert "q1w2e3" not in text
    assert list(safe) == ["t", *sorted((k for k in safe if k != "t"), key=int)]
    assert fields["2"] == PAN  # the input is not changed


@pytest.mark.parametrize(
    ("pan", "shown"),
    [
        ("4242424242424242", "424242******4242"),
        ("4000000000000000002", "400000*********0002"),
        ("378282246310005", "378282*****0005"),
        ("501234565678", "501*****5678"),
    ],
)
def test_masked_pan_shows_at_most_bin_and_last_four(pan: str, shown: str) -> None:
    assert iso.masked({"t": "0100", "2": pan})["2"] == shown


@given(st.text(_DIGITS, min_size=12, max_size=19))
def test_masked_pan_never_reveals_the_middle(pan: str) -> None:
    shown = iso.masked({"2": pan})["2"]
    assert len(shown) == len(pan)
    assert shown[-4:] == pan[-4:]
    lead = len(shown) - len(shown.lstrip("0123456789"))
    assert lead <= 6 and shown[:lead] == pan[:lead]
    assert shown.count("*") >= 5


def test_masked_private_data_that_does_not_parse_is_hidden_whole() -> None:
    assert iso.masked({"48": "raw 737 stuff"})["48"] == "***"


def test_describe_rows() -> None:
    rows = iso.describe(auth_request())
    assert rows[0] == ("t", "Message type indicator", "0100")
    assert ("2", "Primary account number", "424242******4242") in rows
    assert ("48", "Additional data, private", "CVV=***") in rows
    assert [r[0] for r in rows] == list(iso.masked(auth_request()))
    assert PAN not in str(rows) and "CVV=737" not in str(rows)


# --------------------------------------------------------------------------- helpers
def test_new_stan_wraps_to_one() -> None:
    assert iso.new_stan(1) == "000001"
    assert iso.new_stan(42) == "000042"
    assert iso.new_stan(999_999) == "999999"
    assert iso.new_stan(1_000_000) == "000001"
    assert iso.new_stan(1_000_001) == "000002"


def test_new_rrn() -> None:
    rrn = iso.new_rrn(date(2026, 11, 28), "000123", 10)
    assert rrn == "633210000123"
    assert len(iso.new_rrn(date(2024, 12, 31), 7, 23)) == 12
    assert iso.new_rrn(date(2024, 12, 31), 7, 23) == "436623000007"
    with pytest.raises(FrameError):
        iso.new_rrn(date(2026, 1, 1), "12", 10)
    with pytest.raises(FrameError):
        iso.new_rrn(date(2026, 1, 1), "000001", 24)


def test_times() -> None:
    assert iso.transmission_time(AT) == "1128043005"  # 10:00:05 IST is 04:30:05 UTC
    assert iso.timestamps(AT) == {"7": "1128043005", "12": "100005", "13": "1128"}
    with pytest.raises(FrameError):
        iso.transmission_time(datetime(2026, 11, 28, 10, 0))


def test_amount_field() -> None:
    assert iso.amount_field(125050) == "000000125050"
    assert iso.amount_field(0) == "000000000000"
    for bad in (-1, 10**12, True):
        with pytest.raises(FrameError):
            iso.amount_field(bad)


def test_currency_tables() -> None:
    assert iso.CURRENCY_NUMERIC["INR"] == "356"
    assert iso.CURRENCY_ALPHA["392"] == "JPY"
    assert {iso.CURRENCY_ALPHA[n] for n in iso.CURRENCY_NUMERIC.values()} == set(
        iso.CURRENCY_NUMERIC
    )
    assert set(iso.CURRENCY_NUMERIC) >= {"INR", "USD", "EUR", "GBP", "JPY", "KWD", "AED", "SGD"}


def test_original_data_needs_the_original_keys() -> None:
    with pytest.raises(FrameError):
        iso.original_data({"t": "0100", "11": "000001"})
    with pytest.raises(FrameError):
        iso.parse_original_data("0100")
