"""The template helpers: dates and the quick URL builder give what the slow way gives."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask import url_for

from clinic.templating import _ID_PLACEHOLDER, format_date, url_for_each


@pytest.mark.parametrize(
    "value", [date(2026, 12, 3), date(2024, 2, 29), datetime(2026, 1, 5, 23, 59), None]
)
def test_format_date_spells_the_month(value):
    expected = "" if value is None else f"{value.day} {value.strftime('%b %Y')}"
    assert format_date(value) == expected
    assert format_date(value) == expected  # the second time from the cache


@pytest.mark.parametrize("client_id", [1, 42, 98765])
def test_url_for_each_gives_url_for_own_urls(app, client_id):
    with app.test_request_context("/"):
        visit_url = url_for_each("visits.detail", "visit_id", client_id=client_id)
        for visit_id in (1, 7, 120, 987654):
            expected = url_for("visits.detail", client_id=client_id, visit_id=visit_id)
            assert visit_url(visit_id) == expected


def test_url_for_each_under_a_prefix_and_with_the_placeholder_elsewhere(app):
    with app.test_request_context("/", base_url="http://clinic.example/knees/"):
        visit_url = url_for_each("visits.detail", "visit_id", client_id=3)
        assert visit_url(5) == "/knees/clients/3/visits/5"
        # A client whose id is the placeholder itself: every URL is built by url_for.
        odd = url_for_each("visits.detail", "visit_id", client_id=_ID_PLACEHOLDER)
        assert odd(5) == url_for("visits.detail", client_id=_ID_PLACEHOLDER, visit_id=5)
