"""The pure parts of two-step sign-in: codes, their shapes and the time window."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.auth import two_factor
from clinic.models import Clinic, User

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MOMENT = 1_800_000_015


def test_a_new_secret_is_160_random_bits_of_base32():
    secrets = {two_factor.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(re.fullmatch(r"[A-Z2-7]{32}", secret) for secret in secrets)


@pytest.mark.parametrize(
    ("secret", "grouped"),
    [
        (SECRET, "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"),
        ("ABCDEF", "ABCD EF"),
        ("", ""),
    ],
)
def test_the_secret_is_shown_in_groups_of_four(secret, grouped):
    assert two_factor.group_secret(secret) == grouped


@pytest.mark.parametrize(
    ("typed", "expected", "looks_like_totp"),
    [
        ("123456", "123456", True),
        ("123 456", "123456", True),
        (" 123-456\t", "123456", True),
        ("12345", "12345", False),
        ("1234567", "1234567", False),
        ("١٢٣٤٥٦", "١٢٣٤٥٦", False),  # Arabic-Indic digits are not what an app shows
        ("K7MP-3XQA", "k7mp3xqa", False),
        ("k7mp 3xqa", "k7mp3xqa", False),
        ("", "", False),
    ],
)
def test_typed_codes_are_normalised(typed, expected, looks_like_totp):
    assert two_factor.normalise_code(typed) == expected
    assert two_factor.looks_like_totp_code(typed) is looks_like_totp


def test_recovery_codes_are_random_and_unambiguous():
    codes = {two_factor.generate_recovery_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", code)
        assert not set(code) & set("01ilo")


# Each example runs argon2id a few times: twenty of them cover the separators and cases.
@settings(max_examples=20, deadline=None)
@given(
    code=st.text(alphabet=two_factor.RECOVERY_ALPHABET, min_size=16, max_size=16),
    separator=st.sampled_from(["", "-", " ", " - ", "\t"]),
    upper=st.booleans(),
)
def test_a_recovery_code_matches_however_it_is_typed(code, separator, upper):
    typed = separator.join(code[i : i + 4] for i in range(0, 16, 4))
    typed = typed.upper() if upper else typed
    key = "test-secret-key"
    stored = two_factor.hash_recovery_code(code, key)
    assert two_factor.recovery_code_matches(stored, typed, key)
    # Keyed: another server key does not match, and the hash is not the code's SHA-256.
    assert not two_factor.recovery_code_matches(stored, typed, "another-secret-key")
    assert stored != hashlib.sha256(code.encode()).hexdigest()


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-60, False), (-30, True), (0, True), (29, True), (30, True), (60, False), (90, False)],
)
def test_codes_from_one_step_either_side_are_accepted(offset, accepted):
    totp = pyotp.TOTP(SECRET)
    code = totp.at(MOMENT + offset)
    step = two_factor._matching_step(SECRET, code, MOMENT)
    assert (step is not None) is accepted
    if accepted:
        assert step == totp.timecode(MOMENT + offset)


def test_a_code_for_another_secret_is_not_accepted():
    other = pyotp.TOTP(pyotp.random_base32()).at(MOMENT)
    window = {pyotp.TOTP(SECRET).at(MOMENT + offset) for offset in (-30, 0, 30)}
    assert (two_factor._matching_step(SECRET, other, MOMENT) is None) is (other not in window)


def test_the_provisioning_address_names_the_clinic_and_the_account():
    user = User(email="ana@example.com", clinic=Clinic(name="Riverside & Co"))
    uri = two_factor.provisioning_uri(user, SECRET)
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    query = parse_qs(parts.query)
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["Riverside & Co"]
    assert "ana%40example.com" in parts.path


def test_the_qr_code_is_plain_svg_a_strict_policy_allows():
    svg = str(two_factor.qr_code_svg("otpauth://totp/x?secret=" + SECRET + "&issuer=<b>"))
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert 'viewBox="' in svg
    for forbidden in ("<script", "<style", "style=", "<b>", "href", "<image"):
        assert forbidden not in svg, forbidden
    assert not re.search(r"\son\w+=", svg), "an event handler attribute"
