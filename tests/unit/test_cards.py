"""Tests for gateway_core.cards: IIN routing, Luhn, lengths, expiry, CVV, masking, secrecy."""

import random
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from gateway_core.cards import (
    Brand,
    CardData,
    CardError,
    CardExpired,
    CardInput,
    CheckedCard,
    InvalidCardNumber,
    InvalidCvv,
    InvalidExpiry,
    LuhnFailed,
    UnknownBrand,
    WrongLength,
    brand_for,
    check_card,
    detect_brand,
    group_digits,
    luhn_check_digit,
    luhn_valid,
    mask_pan,
    masked_from_parts,
    normalize_pan,
    parse_expiry,
    validate_cvv,
    validate_expiry,
    validate_pan,
)

fast = settings(max_examples=100, deadline=None)  # per test: never touch the global profile

TODAY = date(2025, 6, 15)
DIGITS = "0123456789"

# An independent oracle: for each brand, prefix ranges that resolve to it (ranges shadowed
# by earlier IIN entries are cut out by hand) and the valid lengths.
CLEAN: dict[Brand, tuple[list[tuple[str, str]], tuple[int, ...]]] = {
    Brand.VISA: ([("4", "4")], (13, 16, 19)),
    Brand.MASTERCARD: ([("51", "55"), ("2221", "2720")], (16,)),
    Brand.AMEX: ([("34", "34"), ("37", "37")], (15,)),
    Brand.DISCOVER: (
        [
            ("6011", "6011"),
            ("622126", "622925"),
            ("644", "649"),
            ("650", "651"),
            ("652000", "652149"),
            ("653150", "653999"),
            ("654", "659"),
        ],
        (16, 17, 18, 19),
    ),
    Brand.RUPAY: (
        [("508500", "508999"), ("606985", "607984"), ("608001", "608500"), ("652150", "653149")],
        (16,),
    ),
    Brand.JCB: ([("3528", "3589")], (16, 17, 18, 19)),
    Brand.DINERS: (
        [("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")],
        tuple(range(14, 20)),
    ),
    Brand.UNIONPAY: (
        [("620", "621"), ("622000", "622125"), ("622926", "622999"), ("623", "629")],
        (16, 17, 18, 19),
    ),
    Brand.MAESTRO: (
        [
            ("500000", "508499"),
            ("509000", "509999"),
            ("56", "58"),
            ("6304", "6304"),
            ("639", "639"),
            ("67", "67"),
        ],
        tuple(range(12, 20)),
    ),
}


def make_pan(prefix: str, length: int = 16, fill: str = "0") -> str:
    """A Luhn-valid PAN: prefix, padded with `fill` digits, then the check digit."""
    body = (prefix + fill * length)[: length - 1]
    return body + luhn_check_digit(body)


def reference_luhn(digits: str) -> bool:
    total = sum(int(d) for d in digits[-1::-2])
    total += sum(sum(divmod(int(d) * 2, 10)) for d in digits[-2::-2])
    return total % 10 == 0


@st.composite
def valid_pans(draw, brand: Brand | None = None) -> tuple[Brand, str]:
    brand = brand or draw(st.sampled_from(list(CLEAN)))
    ranges, lengths = CLEAN[brand]
    lo, hi = draw(st.sampled_from(ranges))
    prefix = str(draw(st.integers(int(lo), int(hi))))
    length = draw(st.sampled_from(lengths))
    body = prefix + draw(st.text(DIGITS, min_size=length - len(prefix) - 1, max_size=19))
    body = body[: length - 1]
    return brand, body + luhn_check_digit(body)


def leaks(exc: BaseException, secret: str) -> bool:
    """True if the error shows the secret, or any run of 5+ digits (no message needs one)."""
    texts = [str(exc), repr(exc), *map(str, exc.args), *map(repr, exc.args)]
    return any(secret in text or re.search("[0-9]{5}", text) for text in texts)


# ------------------------------------------------------------------ properties
@fast
@given(valid_pans())
def test_valid_pans_validate_with_their_brand(case):
    brand, pan = case
    checked = validate_pan(pan)
    assert checked.brand is brand
    assert checked.pan.get_secret_value() == pan
    assert (checked.bin6, checked.last4, checked.length) == (pan[:6], pan[-4:], len(pan))


@fast
@given(valid_pans())
def test_brand_detection_never_flips_while_typing(case):
    brand, pan = case
    seen = {detect_brand(pan[:i]) for i in range(len(pan) + 1)} - {None}
    assert seen == {brand}


@fast
@given(valid_pans(), st.data())
def test_any_single_digit_change_fails(case, data):
    _, pan = case
    i = data.draw(st.integers(0, len(pan) - 1))
    digit = data.draw(st.sampled_from(DIGITS.replace(pan[i], "")))
    changed = pan[:i] + digit + pan[i + 1 :]
    assert not luhn_valid(changed)
    with pytest.raises(CardError):  # usually LuhnFailed; brand/length may fail first
        validate_pan(changed)


@fast
@given(valid_pans(), st.data())
def test_spaces_and_dashes_normalize_away(case, data):
    _, pan = case
    seps = data.draw(st.lists(st.sampled_from(["", " ", "-"]), min_size=len(pan) - 1))
    text = pan[0] + "".join(sep + d for sep, d in zip(seps, pan[1:], strict=False))
    pad = data.draw(st.sampled_from(["", " ", "\t", "\n "]))
    assert normalize_pan(pad + text + pad) == pan
    assert validate_pan(text).pan.get_secret_value() == pan


@fast
@given(st.text(DIGITS, min_size=1, max_size=25))
def test_luhn_matches_reference(digits):
    assert luhn_valid(digits) == reference_luhn(digits)
    assert luhn_valid(digits + luhn_check_digit(digits))


@pytest.mark.parametrize("text", ["", "4111 1111 1111 1111", "٤", "0x10"])
def test_luhn_rejects_non_digits(text):
    assert not luhn_valid(text)


pan_like_text = st.one_of(
    st.text(),
    st.text(DIGITS + " -/٤a.\n", min_size=10, max_size=30),
    st.builds(
        lambda c, junk, i: c[1][:i] + junk + c[1][i:],
        valid_pans(),
        st.text(max_size=3),
        st.integers(0, 19),
    ),
)


@fast
@given(pan_like_text, st.sampled_from(list(Brand)))
def test_fuzz_only_card_errors_and_no_echo(text, brand):
    digits = "".join(ch for ch in text if ch in DIGITS)
    for check in (validate_pan, parse_expiry, lambda t: validate_cvv(t, brand)):
        try:
            check(text)
        except CardError as exc:
            assert "\n" not in exc.message
            if len(digits) >= 12:
                assert not leaks(exc, digits)
                assert not leaks(exc, text.strip())


@fast
@given(valid_pans())
def test_masks_show_at_most_bin6_and_last4(case):
    brand, pan = case
    masked = mask_pan(pan)
    shown = masked.replace(" ", "")
    assert len(shown) == len(pan)
    assert shown.endswith(pan[-4:])
    visible_lead = len(shown) - len(shown.lstrip("0123456789"))
    assert visible_lead <= 6 and shown.count("•") >= 5
    assert masked == masked_from_parts(brand, pan[:6], pan[-4:], len(pan))
    assert masked == validate_pan(pan).masked


# ------------------------------------------------------------------ IIN decisions
@pytest.mark.parametrize(
    ("prefix", "brand"),
    [
        ("652150", Brand.RUPAY),  # RuPay's range inside Discover 65 wins
        ("653149", Brand.RUPAY),
        ("652149", Brand.DISCOVER),
        ("653150", Brand.DISCOVER),
        ("650012", Brand.DISCOVER),
        ("622126", Brand.DISCOVER),  # Discover co-brand range inside UnionPay 62 wins
        ("622925", Brand.DISCOVER),
        ("622125", Brand.UNIONPAY),
        ("622926", Brand.UNIONPAY),
        ("620012", Brand.UNIONPAY),
        ("508500", Brand.RUPAY),  # RuPay inside Maestro 50 wins
        ("508999", Brand.RUPAY),
        ("500012", Brand.MAESTRO),
        ("508499", Brand.MAESTRO),
        ("3530", Brand.JCB),  # RuPay/JCB co-brands route as JCB
        ("2221", Brand.MASTERCARD),
        ("2720", Brand.MASTERCARD),
        ("606985", Brand.RUPAY),
        ("608500", Brand.RUPAY),
        ("6304", Brand.MAESTRO),
    ],
)
def test_overlap_decisions(prefix, brand):
    assert validate_pan(make_pan(prefix)).brand is brand


@pytest.mark.parametrize("prefix", ["2220", "2721", "1", "9", "35", "608000"])
def test_unknown_prefixes(prefix):
    with pytest.raises(UnknownBrand):
        validate_pan(make_pan(prefix))
    assert detect_brand(make_pan(prefix)) is None


@pytest.mark.parametrize(
    ("typed", "brand"),
    [
        ("", None),
        ("4", Brand.VISA),
        ("5", None),
        ("51", Brand.MASTERCARD),
        ("65", None),
        ("6521", None),
        ("65215", Brand.RUPAY),
        ("650", Brand.DISCOVER),
        ("62", None),
        ("6221", None),
        ("62213", Brand.DISCOVER),
        ("620", Brand.UNIONPAY),
        ("35", None),
        ("353", Brand.JCB),
        ("2220", None),
        ("23", Brand.MASTERCARD),
        ("4111 11", Brand.VISA),
        ("4x", None),
    ],
)
def test_detect_brand_on_partial_input(typed, brand):
    assert detect_brand(typed) is brand


@pytest.mark.parametrize(
    ("pan", "brand"),
    [
        ("4111111111111111", Brand.VISA),
        ("4222222222222", Brand.VISA),
        ("5555555555554444", Brand.MASTERCARD),
        ("2223003122003222", Brand.MASTERCARD),
        ("378282246310005", Brand.AMEX),
        ("6011111111111117", Brand.DISCOVER),
        ("3530111333300000", Brand.JCB),
        ("30569309025904", Brand.DINERS),
        ("6200000000000005", Brand.UNIONPAY),
        ("6759649826438453", Brand.MAESTRO),
        (make_pan("6521", fill="5"), Brand.RUPAY),
    ],
)
def test_standard_test_pans(pan, brand):
    assert validate_pan(pan).brand is brand
    assert brand_for(pan) is brand


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", InvalidCardNumber),
        ("4111 1111 1111 111a", InvalidCardNumber),
        ("4111  1111 1111 1111", InvalidCardNumber),
        ("4111--1111-1111-1111", InvalidCardNumber),
        ("4111.1111.1111.1111", InvalidCardNumber),
        ("-4111111111111111", InvalidCardNumber),
        ("٤111111111111111", InvalidCardNumber),
        ("41111111111", WrongLength),
        ("41111111111111111111", WrongLength),
        ("4111111111111112", LuhnFailed),
        (make_pan("4", 15), WrongLength),
        (make_pan("51", 19), WrongLength),
        (make_pan("34", 16), WrongLength),
    ],
)
def test_pan_errors(text, error):
    with pytest.raises(error) as info:
        validate_pan(text)
    assert type(info.value) is error and isinstance(info.value, ValueError)
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: validate_pan(make_pan("4", 15)), "Visa card numbers have 13, 16 or 19 digits"),
        (lambda: validate_pan(make_pan("6011", 15)), "Discover card numbers have 16 to 19 digits"),
        (lambda: validate_pan("4111111111111112"), "card number is not valid - check the digits"),
        (
            lambda: normalize_pan("4111/1111"),
            "card number may contain only digits, spaces and dashes",
        ),
        (
            lambda: normalize_pan("4111"),
            "card number is too short - it should have 12 to 19 digits",
        ),
        (lambda: validate_cvv("123", Brand.AMEX), "Amex cards have a 4-digit security code"),
        (lambda: validate_cvv("1", Brand.RUPAY), "RuPay cards have a 3-digit security code"),
        (lambda: validate_expiry("03/24", TODAY), "card expired 03/24"),
        (lambda: validate_expiry("13/24", TODAY), "expiry month must be 01 to 12"),
    ],
)
def test_error_messages(call, message):
    with pytest.raises(CardError) as info:
        call()
    assert str(info.value) == info.value.message == message


# ------------------------------------------------------------------ grouping, masking
def test_grouping():
    assert group_digits("378282246310005") == "3782 822463 10005"
    assert group_digits("30569309025904") == "3056 930902 5904"
    assert group_digits("4111111111111111") == "4111 1111 1111 1111"
    assert group_digits("4111111111111111111") == "4111 1111 1111 1111 111"
    assert group_digits("378282") == "3782 82"
    assert group_digits("4111 11") == "4111 11"
    assert group_digits("") == ""
    assert group_digits("36123456789012345", Brand.DINERS) == "3612 3456 7890 1234 5"


def test_masking_examples():
    assert mask_pan("4111 1111 1111 1111") == "4111 11•• •••• 1111"
    assert mask_pan("378282246310005") == "3782 82•••• •0005"
    assert mask_pan(SecretStr("30569309025904")) == "3056 9••••• 5904"
    assert masked_from_parts(Brand.MAESTRO, "501234", "5678", 12) == "501• •••• 5678"
    assert masked_from_parts(None, "411111", "1111", 16) == "4111 11•• •••• 1111"
    with pytest.raises(ValueError):
        masked_from_parts(Brand.VISA, "4111", "1111", 16)


# ------------------------------------------------------------------ expiry
@pytest.mark.parametrize(
    ("text", "month", "year"),
    [
        ("03/27", 3, 2027),
        ("03/2027", 3, 2027),
        ("0327", 3, 2027),
        (" 3 / 27 ", 3, 2027),
        ("12/99", 12, 2099),
        ("01/00", 1, 2000),
    ],
)
def test_parse_expiry(text, month, year):
    expiry = parse_expiry(text)
    assert (expiry.month, expiry.year) == (month, year)
    assert str(expiry) == f"{month:02d}/{year % 100:02d}"


@pytest.mark.parametrize(
    "text", ["13/25", "00/25", "", "3/2", "03-27", "032027", "03/1999", "٠٣/٢٧", "03/27\n1"]
)
def test_invalid_expiry(text):
    with pytest.raises(InvalidExpiry):
        parse_expiry(text)


def test_expiry_valid_through_last_day_of_month():
    expiry = parse_expiry("02/24")
    assert expiry.last_day == date(2024, 2, 29)
    assert not expiry.is_expired(date(2024, 2, 29))
    assert expiry.is_expired(date(2024, 3, 1))
    assert validate_expiry("06/25", TODAY) == parse_expiry("06/25")
    assert validate_expiry("06/25", date(2025, 6, 30))
    with pytest.raises(CardExpired):
        validate_expiry("06/25", date(2025, 7, 1))


def test_expiry_too_far_ahead():
    assert validate_expiry("06/45", TODAY).year == 2045
    with pytest.raises(InvalidExpiry, match="20 years"):
        validate_expiry("07/45", TODAY)
    with pytest.raises(InvalidExpiry):
        validate_expiry("12/99", TODAY)


# ------------------------------------------------------------------ CVV
@pytest.mark.parametrize("brand", list(Brand))
def test_cvv_length_per_brand(brand):
    good = "1234"[: brand.cvv_length]
    assert validate_cvv(good, brand).get_secret_value() == good
    assert validate_cvv(SecretStr(f" {good} "), brand).get_secret_value() == good
    for bad in ("1234"[: 7 - brand.cvv_length], "12a4"[: brand.cvv_length], "", "１２３４"):
        with pytest.raises(InvalidCvv) as info:
            validate_cvv(bad, brand)
        assert bad not in str(info.value) or not bad
    assert (brand.cvv_length == 4) is (brand is Brand.AMEX)


# ------------------------------------------------------------------ whole card, secrecy
def card(pan="4111 1111 1111 1111", expiry="12/27", cvv="737") -> CardInput:
    return CardInput(pan=pan, expiry=expiry, cvv=cvv)


def test_check_card_happy_path():
    checked = check_card(card(), TODAY)
    assert isinstance(checked, CheckedCard)
    assert checked.brand is Brand.VISA and checked.cvv.get_secret_value() == "737"
    assert checked.masked == "4111 11•• •••• 1111" and str(checked.expiry) == "12/27"
    data = checked.card_data
    assert isinstance(data, CardData) and not isinstance(data, CheckedCard)
    assert "cvv" not in CardData.model_fields and not hasattr(data, "cvv")
    assert data.pan.get_secret_value() == "4111111111111111"
    assert data == checked.without_cvv()
    with pytest.raises(ValidationError):
        CardData(**{**dict(data), "cvv": checked.cvv})


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"pan": "4111 1111 1111 1112", "expiry": "13/99", "cvv": "x"}, LuhnFailed),
        ({"expiry": "01/25", "cvv": "x"}, CardExpired),
        ({"cvv": "1234"}, InvalidCvv),
        ({"pan": "378282246310005", "cvv": "737"}, InvalidCvv),
    ],
)
def test_check_card_order(kwargs, error):
    with pytest.raises(error):
        check_card(card(**kwargs), TODAY)


def test_no_pan_or_cvv_in_repr_or_str():
    pan, cvv = "378282246310005", "9731"
    raw = card(pan=pan, cvv=cvv)
    checked = check_card(raw, TODAY)
    for obj in (raw, checked, checked.card_data, validate_pan(pan)):
        for text in (repr(obj), str(obj), obj.model_dump_json(), repr(obj.model_dump())):
            assert pan not in text and cvv not in text
    assert repr(checked) == "CheckedCard(brand='amex', masked='3782 82•••• •0005', expiry='12/27')"
    assert str(checked.card_data) == "Amex 3782 82•••• •0005"


def test_validation_errors_hide_input():
    with pytest.raises(ValidationError) as info:
        CardInput(pan=4111111111111111, expiry="12/27", cvv=737)
    assert "4111111111111111" not in str(info.value) and "737" not in str(info.value)


def test_random_keyed_cards_never_leak():
    rng = random.Random(7)
    for _ in range(200):
        pan = "".join(rng.choice(DIGITS) for _ in range(rng.randint(12, 19)))
        try:
            validate_pan(pan)
        except CardError as exc:
            assert not leaks(exc, pan)
