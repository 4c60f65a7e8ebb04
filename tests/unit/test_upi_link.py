"""UPI links and VPAs under hypothesis: whatever text comes in, `parse_link` and
`check_vpa` answer or raise `InputError`, nothing else; a `PaymentLink` survives its
own link."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_core.errors import InputError
from gateway_core.upi_api import MAX_UPI_AMOUNT
from gateway_core.upi_link import VPA_MAX, PaymentLink, check_vpa, mask_vpa, parse_link, rupees

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

handles = st.text(string.ascii_letters + string.digits + "._-", min_size=2, max_size=40)
psps = st.text(string.ascii_letters, min_size=2, max_size=12)
vpas = st.builds(lambda h, p: f"{h}@{p}", handles, psps)
names = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s.isprintable())
links = st.builds(
    PaymentLink,
    payee_vpa=vpas,
    payee_name=names,
    amount=st.integers(1, MAX_UPI_AMOUNT),
    reference=st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=35),
    note=st.text(max_size=50).filter(str.isprintable),
    mcc=st.from_regex(r"[0-9]{4}", fullmatch=True),
    flow=st.sampled_from(["qr", "intent"]),
)
# text that looks a little like a link: its scheme, keys and separators, and anything
linkish = st.lists(
    st.one_of(
        st.sampled_from(["upi://pay?", "UPI://PAY?", "upi://", "pa=", "&am=", "&tr=", "&cu="]),
        st.sampled_from(["pn=", "&mode=", "@", "%", "%ZZ", "&", "=", ".", "1", "99999999"]),
        st.text(max_size=8),
    ),
    max_size=14,
).map("".join)


@FAST
@given(links)
def test_a_link_survives_its_own_text(link: PaymentLink) -> None:
    back = parse_link(link.link())
    assert back == PaymentLink(
        payee_vpa=link.payee_vpa.lower(),
        payee_name=link.payee_name,
        amount=link.amount,
        reference=link.reference,
        note=link.note,
        mcc=link.mcc,
        flow=link.flow,
    )
    assert f"am={rupees(link.amount)}" in link.link()


@FAST
@given(st.one_of(linkish, st.text(max_size=300)))
def test_parse_link_answers_or_refuses_with_input_error(text: str) -> None:
    try:
        link = parse_link(text)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert 0 < link.amount <= MAX_UPI_AMOUNT
        assert check_vpa(link.payee_vpa) == link.payee_vpa


@FAST
@given(st.one_of(vpas, st.text(max_size=300), st.builds(lambda h: f"{h}@bank", st.text())))
def test_check_vpa_answers_or_refuses_with_input_error(text: str) -> None:
    try:
        vpa = check_vpa(text)
    except InputError as exc:
        assert len(str(exc)) <= 400 and "\n" not in str(exc)  # one line, 40 chars shown
    else:
        assert vpa == vpa.lower() and len(vpa) <= VPA_MAX and vpa.count("@") == 1
        assert mask_vpa(vpa).endswith("@" + vpa.split("@")[1])


@pytest.mark.parametrize(
    "text",
    [
        "upi://pay?pa=shop@pgbank&pn=Shop&am=100000.01&tr=r1",  # above ₹1,00,000.00
        "upi://pay?pa=shop@pgbank&pn=Shop&am=0.00&tr=r1",
        "upi://pay?pa=shop@pgbank&pn=Shop&am=1.5.0&tr=r1",
        "upi://pay?pa=shop@pgbank&pn=Shop&am=10&tr=r1&cu=USD",
        "upi://pay?pa=shop&pn=Shop&am=10&tr=r1",
        "upi://pay?pn=Shop&am=10&tr=r1",
        "http://pay?pa=shop@pgbank&pn=Shop&am=10&tr=r1",
        "upi://pay?pa=shop@pgbank&pn=Shop&am=10&tr=" + "r" * 36,
        "upi://[::1",
    ],
)
def test_bad_links_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_link(text)
