"""The retention report: who is past the period, for the owner only, and nothing is deleted."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from clinic.admin import operations as ops
from clinic.clock import utcnow
from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry, Client, Clinic
from tests import factories
from tests.audit import entries, new_entries
from tests.auth import page
from tests.conftest import ClinicTestClient

TODAY = date(2026, 6, 15)


@pytest.fixture
def owner(app: Flask, client: ClinicTestClient, clinic_world: factories.World) -> ClinicTestClient:
    """The test client signed in as clinic A's owner."""
    factories.sign_in(app, client, clinic_world.a.owner_id)
    return client


def add_client(
    app: Flask,
    side: factories.ClinicIds,
    name: str,
    *,
    visits: tuple[date, ...] = (),
    created_on: date | None = None,
    **overrides: Any,
) -> int:
    """Add a client to a clinic with visits on the given days; return the client's id."""
    client_id = factories.make_client(
        app, side.clinic_id, side.therapist_id, first_name=name, last_name="Testperson", **overrides
    )
    for day in visits:
        factories.make_visit(app, client_id, side.therapist_id, visit_on=day)
    if created_on is not None:
        created_at = datetime(created_on.year, created_on.month, created_on.day, 12, tzinfo=UTC)
        with app.app_context():
            db.session.execute(
                sa.update(Client.__table__)
                .where(Client.__table__.c.id == client_id)
                .values(created_at=created_at)
            )
            db.session.commit()
    return client_id


def report(app: Flask, clinic_id: int, years: int = 10, today: date = TODAY) -> ops.RetentionReport:
    with app.app_context():
        return ops.list_past_retention(clinic_id, years, today, page=1, per_page=100)


def names(result: ops.RetentionReport) -> list[str]:
    return [row.first_name for row in result.rows]


def set_retention(app: Flask, clinic_id: int, years: int) -> None:
    with app.app_context():
        db.session.get_one(Clinic, clinic_id).retention_years = years
        db.session.commit()


# --- the dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2016, 6, 15), 10, date(2026, 6, 15)),
        (date(2016, 2, 29), 10, date(2026, 2, 28)),
        (date(2016, 2, 29), 8, date(2024, 2, 29)),
        (date(2026, 2, 28), -10, date(2016, 2, 28)),
        (date(2016, 12, 31), 1, date(2017, 12, 31)),
    ],
)
def test_add_years(day: date, years: int, expected: date) -> None:
    assert ops.add_years(day, years) == expected


@pytest.mark.parametrize(
    ("today", "years", "cutoff"),
    [
        (date(2026, 6, 15), 10, date(2016, 6, 15)),
        (date(2026, 1, 1), 1, date(2025, 1, 1)),
        # A period counted from 28 February 2018 ends 28 February 2028: past on the 29th.
        (date(2028, 2, 29), 10, date(2018, 3, 1)),
        # 29 February 2016 plus ten years is 28 February 2026: not yet past on that day.
        (date(2026, 2, 28), 10, date(2016, 2, 28)),
        (date(2026, 3, 1), 10, date(2016, 3, 1)),
    ],
)
def test_retention_cutoff(today: date, years: int, cutoff: date) -> None:
    assert ops.retention_cutoff(today, years) == cutoff
    assert ops.add_years(cutoff, years) >= today
    assert ops.add_years(cutoff - timedelta(days=1), years) < today


def test_the_period_ends_on_the_anniversary_and_is_past_the_day_after(app, clinic_world):
    a = clinic_world.a
    add_client(app, a, "DayBefore", visits=(date(2016, 6, 14),))
    add_client(app, a, "OnTheDay", visits=(date(2016, 6, 15),))
    add_client(app, a, "DayAfter", visits=(date(2016, 6, 16),))

    result = report(app, a.clinic_id)

    assert names(result) == ["DayBefore"]
    row = result.rows[0]
    assert row.last_visit_on == date(2016, 6, 14)
    assert row.period_ended_on == date(2026, 6, 14)
    assert result.total == 1
    assert names(report(app, a.clinic_id, today=TODAY + timedelta(days=1))) == [
        "DayBefore",
        "OnTheDay",
    ]


def test_the_last_visit_counts_not_the_first(app, clinic_world):
    a = clinic_world.a
    add_client(app, a, "StillSeen", visits=(date(2001, 1, 1), date(2020, 1, 1)))
    add_client(app, a, "LongGone", visits=(date(2001, 1, 1), date(2010, 5, 5)))

    result = report(app, a.clinic_id)

    assert names(result) == ["LongGone"]
    assert result.rows[0].last_visit_on == date(2010, 5, 5)


def test_a_discarded_draft_is_not_a_visit(app, clinic_world):
    a = clinic_world.a
    client_id = add_client(app, a, "Discarded", visits=(date(2010, 5, 5),))
    factories.make_visit(
        app, client_id, a.therapist_id, visit_on=date(2025, 1, 1), discarded_at=utcnow()
    )

    result = report(app, a.clinic_id)

    assert names(result) == ["Discarded"]
    assert result.rows[0].last_visit_on == date(2010, 5, 5)


def test_a_client_without_visits_counts_from_the_record_creation(app, clinic_world):
    a = clinic_world.a
    add_client(app, a, "NeverSeenOld", created_on=date(2016, 6, 14))
    add_client(app, a, "NeverSeenOnTheDay", created_on=date(2016, 6, 15))
    add_client(app, a, "NeverSeenNew")

    result = report(app, a.clinic_id)

    assert names(result) == ["NeverSeenOld"]
    row = result.rows[0]
    assert row.last_visit_on is None
    assert row.counted_from == date(2016, 6, 14)
    assert row.period_ended_on == date(2026, 6, 14)


def test_archived_clients_are_listed_and_marked(app, clinic_world):
    a = clinic_world.a
    add_client(app, a, "Archived", visits=(date(2005, 1, 1),), archived=True)
    add_client(app, a, "Active", visits=(date(2006, 1, 1),))

    result = report(app, a.clinic_id)

    assert [(row.first_name, row.archived) for row in result.rows] == [
        ("Archived", True),
        ("Active", False),
    ]


def test_oldest_first(app, clinic_world):
    a = clinic_world.a
    add_client(app, a, "Middle", visits=(date(2008, 1, 1),))
    add_client(app, a, "Oldest", created_on=date(1999, 3, 3))
    add_client(app, a, "Newest", visits=(date(2012, 1, 1),))

    assert names(report(app, a.clinic_id)) == ["Oldest", "Middle", "Newest"]


def test_another_clinics_clients_never_appear(app, owner, clinic_world):
    b = clinic_world.b
    add_client(app, b, "OtherClinic", visits=(date(1990, 1, 1),))
    add_client(app, b, "OtherNoVisit", created_on=date(1990, 1, 1))

    assert report(app, clinic_world.a.clinic_id).total == 0
    assert names(report(app, b.clinic_id)) == ["OtherClinic", "OtherNoVisit"]
    html = page(owner.get("/admin/clinic/retention"))
    assert "OtherClinic" not in html
    assert "OtherNoVisit" not in html
    assert "No client's record is past the retention period today." in html
    assert "OtherClinic" not in page(owner.get("/admin/clinic/retention.csv"))


def test_the_report_costs_two_queries_whatever_the_number_of_clients(app, clinic_world):
    a = clinic_world.a
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    def run() -> int:
        statements.clear()
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", count)
            try:
                ops.list_past_retention(a.clinic_id, 10, TODAY, page=1, per_page=25)
                ops.export_past_retention_csv(a.clinic_id, 10, TODAY)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", count)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    add_client(app, a, "One", visits=(date(2001, 1, 1), date(2002, 1, 1)))
    few = run()
    for number in range(8):
        add_client(app, a, f"More{number}", visits=(date(2003, 1, 1),))
        add_client(app, a, f"Unseen{number}", created_on=date(2004, 1, 1))
    assert run() == few == 3  # count and page, then the whole export


# --- the page -------------------------------------------------------------------------------------


def test_the_page_lists_the_clients_and_explains_nothing_is_deleted(app, owner, clinic_world):
    a = clinic_world.a
    add_client(app, a, "Gone", visits=(date(2001, 3, 4),), archived=True)
    add_client(app, a, "Unseen", created_on=date(2002, 5, 6))

    response = owner.get("/admin/clinic/retention")

    assert response.status_code == 200
    html = page(response)
    assert "Nothing is deleted automatically." in html
    assert "10 years after a client's last visit" in html
    assert "2 clients past the period" in html
    assert html.index("Testperson, Gone") < html.index("Testperson, Unseen")
    assert "4 Mar 2001" in html and "4 Mar 2011" in html
    assert "No visits (record created 6 May 2002)" in html
    assert "archived</span>" in html
    assert "Testperson, SecretAlpha" not in html and "ClientAlpha, SecretAlpha" not in html


def test_the_clinic_settings_page_links_to_the_report(owner):
    assert 'href="/admin/clinic/retention"' in page(owner.get("/admin/clinic"))


def test_pages_of_the_report(app, owner, clinic_world):
    app.config["CLIENTS_PER_PAGE"] = 2
    for year in range(2001, 2006):
        add_client(app, clinic_world.a, f"Year{year}", visits=(date(year, 1, 1),))

    first = page(owner.get("/admin/clinic/retention"))
    last = page(owner.get("/admin/clinic/retention?page=3"))

    assert "Year2001" in first and "Year2002" in first and "Year2003" not in first
    assert "Page 1 of 3" in first and "page=2" in first
    assert "Year2005" in last and "Year2004" not in last and "Page 3 of 3" in last
    for hostile in ("0", "-4", "abc", "99", "99999999999999999999", "-99999999999999999999"):
        response = owner.get(f"/admin/clinic/retention?page={hostile}")
        assert response.status_code == 200, hostile
        assert "Page " in page(response)


@pytest.mark.parametrize("url", ["/admin/clinic/retention", "/admin/clinic/retention.csv"])
def test_a_therapist_is_refused(app, client, clinic_world, url):
    add_client(app, clinic_world.a, "Hidden", visits=(date(2001, 1, 1),))
    factories.sign_in(app, client, clinic_world.a.therapist_id)

    response = client.get(url)

    assert response.status_code == 403
    assert "Hidden" not in page(response)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/admin/clinic/retention").status_code == 302


def test_changing_the_setting_moves_clients_in_and_out(app, owner, clinic_world):
    a = clinic_world.a
    seven_years_ago = date.today() - timedelta(days=7 * 366)
    add_client(app, a, "SevenYears", visits=(seven_years_ago,))
    url = "/admin/clinic/retention"

    assert "SevenYears" not in page(owner.get(url))
    set_retention(app, a.clinic_id, 5)
    html = page(owner.get(url))
    assert "SevenYears" in html and "5 years after" in html
    set_retention(app, a.clinic_id, 8)
    assert "SevenYears" not in page(owner.get(url))


def test_the_csv_export(app, owner, clinic_world):
    a = clinic_world.a
    add_client(app, a, "=HYPERLINK(1)", visits=(date(2001, 3, 4),), archived=True)
    add_client(app, a, "Unseen", created_on=date(2002, 5, 6))

    response = owner.get("/admin/clinic/retention.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(page(response))))
    assert rows[0] == [
        "client_id",
        "last_name",
        "first_name",
        "last_visit",
        "counted_from",
        "period_ended",
        "archived",
    ]
    assert [row[2:] for row in rows[1:]] == [
        ["'=HYPERLINK(1)", "2001-03-04", "2001-03-04", "2011-03-04", "yes"],
        ["Unseen", "", "2002-05-06", "2012-05-06", "no"],
    ]
    with app.app_context():
        exports = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT)
        ).all()
    # The download is on file, once.
    assert [(e.clinic_id, e.user_id) for e in exports] == [(a.clinic_id, a.owner_id)]


# --- nothing is deleted ---------------------------------------------------------------------------


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: int(db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in db.metadata.sorted_tables
        }


@pytest.fixture
def old_records(app: Flask, clinic_world: factories.World) -> None:
    a = clinic_world.a
    add_client(app, a, "Old", visits=(date(1995, 1, 1),), archived=True)
    add_client(app, a, "Unseen", created_on=date(1996, 1, 1))
    set_retention(app, a.clinic_id, 1)


def test_viewing_the_report_deletes_nothing(app, owner, old_records):
    before = row_counts(app)

    for url in ("/admin/clinic/retention", "/admin/clinic/retention.csv"):
        assert owner.get(url).status_code == 200

    after = row_counts(app)
    # Viewing and exporting are recorded in the audit trail, which only ever grows.
    assert after.pop("audit_entries") >= before.pop("audit_entries")
    assert after == before
    with app.app_context():
        past = db.session.scalars(sa.select(Client.first_name).order_by(Client.id)).all()
    assert {"Old", "Unseen", "SecretAlpha", "SecretBeta"} <= set(past)


# --- the audit trail --------------------------------------------------------------------------


def test_the_report_and_its_download_are_on_file(app, owner, clinic_world):
    before = entries(app)
    assert owner.get("/admin/clinic/retention?page=99999999999999999999").status_code == 200
    assert owner.get("/admin/clinic/retention.csv").status_code == 200
    assert [(e.action, e.record_type, e.summary) for e in new_entries(app, before)] == [
        (AuditAction.VIEW, "client_list", "Clients past the retention period"),
        (AuditAction.EXPORT, "client_list", "Clients past the retention period (CSV)"),
    ]


def test_no_file_leaves_when_its_entry_cannot_be_written(
    app,
    owner,
    clinic_world,
    failing_audit,
):
    add_client(app, clinic_world.a, "Exported", visits=(date(2001, 1, 1),))
    failing_audit(AuditAction.EXPORT)
    before = entries(app)
    response = owner.get("/admin/clinic/retention.csv")
    assert response.status_code >= 500
    assert response.mimetype == "text/html"
    assert "Exported" not in page(response)
    assert new_entries(app, before) == []
