"""The owner's audit trail: filters, pages, CSV, and nothing of another clinic."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from clinic.audit.views import CSV_HEADER, EXPORT_BATCH, PER_PAGE
from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry, Role
from tests import factories
from tests.audit import entries, new_entries

NOW = datetime.now(UTC)


def add_entry(app, clinic_ids, *, at=None, user="therapist", client=True, **values):
    """Store an entry as the hook would, at a chosen moment."""
    values.setdefault("action", AuditAction.VIEW)
    values.setdefault("summary", "Client page")
    with app.app_context():
        entry = AuditEntry(
            clinic_id=clinic_ids.clinic_id,
            user_id=getattr(clinic_ids, f"{user}_id") if user else None,
            client_id=clinic_ids.client_id if client else None,
            at=at or NOW,
            **values,
        )
        db.session.add(entry)
        db.session.commit()
        return entry.id


@dataclass(frozen=True)
class Side:
    """One clinic of a world with accounts and a client, and nothing else."""

    clinic_id: int
    owner_id: int
    therapist_id: int
    client_id: int
    # Only ever a record id in an entry; no visit is needed for that.
    visit_id: int = 4242


@dataclass(frozen=True)
class QuietWorld:
    a: Side
    b: Side


def _quiet_side(app, name: str, tag: str) -> Side:
    clinic_id = factories.make_clinic(app, name=name)
    owner_id = factories.make_user(
        app, clinic_id, email=f"owner-{tag}@example.com", full_name=f"Owen Owner {tag}",
        role=Role.OWNER,
    )  # fmt: skip
    therapist_id = factories.make_user(
        app, clinic_id, email=f"therapist-{tag}@example.com", full_name=f"Tess Therapist {tag}"
    )
    client_id = factories.make_client(
        app, clinic_id, therapist_id, first_name=f"Secret{tag}", last_name=f"Client{tag}"
    )
    return Side(clinic_id, owner_id, therapist_id, client_id)


@pytest.fixture
def clinic_world(app) -> QuietWorld:
    """Two clinics whose trails hold only what each test writes: no set-up entries."""
    world = QuietWorld(
        _quiet_side(app, "Clinic Alpha", "Alpha"), _quiet_side(app, "Clinic Beta", "Beta")
    )
    assert entries(app) == [], "set-up wrote audit entries: the counts below would be off"
    return world


@pytest.fixture
def owner(app, client, clinic_world):
    factories.sign_in(app, client, clinic_world.a.owner_id)
    return client


def rows_of(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return body.split("<tr>")[1:]


def read_csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def without_the_trail(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Leave out the entries that opening or exporting the trail itself wrote."""
    return [row for row in rows if row["record_type"] != "audit_trail"]


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
def test_a_therapist_is_refused(app, logged_in, url):
    before = entries(app)
    assert logged_in.get(url).status_code == 403
    # Nothing of the trail was shown; only the refusal is recorded (test_access_refused.py).
    assert [entry.action for entry in new_entries(app, before)] == [AuditAction.ACCESS_REFUSED]


def test_the_owner_sees_the_clinics_entries_newest_first(app, owner, clinic_world):
    a = clinic_world.a
    add_entry(app, a, at=NOW - timedelta(hours=2), summary="Older entry", remote_addr="192.0.2.1")
    add_entry(app, a, at=NOW - timedelta(hours=1), summary="Newer entry", remote_addr="192.0.2.2")
    add_entry(app, clinic_world.b, summary="SecretBeta was opened", remote_addr="192.0.2.99")
    response = owner.get("/audit/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = rows_of(page)
    assert len(rows) == 2
    assert "Newer entry" in rows[0] and "Older entry" in rows[1]
    assert "Tess Therapist Alpha" in rows[0]
    assert "Viewed" in rows[0]
    assert "192.0.2.2" in rows[0]
    assert f'href="/clients/{a.client_id}"' in rows[0] and "SecretAlpha ClientAlpha" in rows[0]
    assert " UTC" in rows[0]
    assert "SecretBeta" not in page and "192.0.2.99" not in page


def test_opening_the_trail_and_exporting_it_are_recorded(app, owner, clinic_world):
    before = entries(app)
    owner.get("/audit/?action=view")
    owner.get("/audit/export.csv")
    viewed, exported = new_entries(app, before)
    assert (viewed.action, viewed.record_type, viewed.user_id) == (
        AuditAction.VIEW,
        "audit_trail",
        clinic_world.a.owner_id,
    )
    assert "action view" in viewed.summary
    assert (exported.action, exported.record_type) == (AuditAction.EXPORT, "audit_trail")


def test_filter_by_client_from_the_client_page(app, owner, clinic_world):
    a = clinic_world.a
    other = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Other")
    add_entry(app, a, summary="About the world's client")
    with app.app_context():
        db.session.add(
            AuditEntry(
                clinic_id=a.clinic_id,
                user_id=a.therapist_id,
                client_id=other,
                action=AuditAction.VIEW,
                summary="About another client",
            )
        )
        db.session.commit()
    detail = owner.get(f"/clients/{a.client_id}").get_data(as_text=True)
    assert f'href="/audit/?client={a.client_id}"' in detail
    assert "Who opened this record" in detail
    page = owner.get(f"/audit/?client={a.client_id}").get_data(as_text=True)
    assert "About the world&#39;s client" in page
    assert "About another client" not in page
    assert "Showing who opened or changed the record of" in page


def test_a_therapist_has_no_link_to_the_trail(app, logged_in, clinic_world):
    page = logged_in.get(f"/clients/{clinic_world.a.client_id}").get_data(as_text=True)
    assert "Who opened this record" not in page
    assert "/audit/" not in page


def test_filter_by_client_name(app, owner, clinic_world):
    a = clinic_world.a
    grace = factories.make_client(app, a.clinic_id, a.therapist_id, first_name="Grace")
    add_entry(app, a, summary="About SecretAlpha")
    with app.app_context():
        db.session.add(
            AuditEntry(
                clinic_id=a.clinic_id,
                user_id=a.owner_id,
                client_id=grace,
                action=AuditAction.VIEW,
                summary="About Grace",
            )
        )
        db.session.commit()
    page = owner.get("/audit/?q=grace").get_data(as_text=True)
    assert "About Grace" in page and "About SecretAlpha" not in page
    exported = without_the_trail(read_csv(owner.get("/audit/export.csv?q=grace")))
    assert [row["summary"] for row in exported] == ["About Grace"]
    # Another clinic's client by name: nothing of theirs, nothing of ours.
    page = owner.get("/audit/?q=SecretBeta").get_data(as_text=True)
    assert rows_of(page) == []


def test_filter_by_user_action_and_dates(app, owner, clinic_world):
    a = clinic_world.a
    add_entry(app, a, at=NOW - timedelta(days=10), summary="Ten days ago")
    add_entry(app, a, summary="By the owner", user="owner")
    add_entry(app, a, summary="A print", action=AuditAction.PRINT)

    page = owner.get(f"/audit/?user={a.owner_id}&action=view").get_data(as_text=True)
    # The owner's own earlier views of the trail are theirs too.
    assert [("By the owner" in row) for row in rows_of(page) if "Audit trail" not in row] == [True]

    page = owner.get("/audit/?action=print").get_data(as_text=True)
    assert [("A print" in row) for row in rows_of(page)] == [True]

    ten_days_ago = (NOW - timedelta(days=10)).date().isoformat()
    page = owner.get(f"/audit/?date_from={ten_days_ago}&date_to={ten_days_ago}")
    assert [("Ten days ago" in row) for row in rows_of(page.get_data(as_text=True))] == [True]

    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    page = owner.get(f"/audit/?date_from={yesterday}").get_data(as_text=True)
    assert len([row for row in rows_of(page) if "Audit trail" not in row]) == 2
    assert "Ten days ago" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-13-45", "Enter a date like 2026-11-22"),
        ("date_to=yesterday", "Enter a date like 2026-11-22"),
        ("date_from=2026-02-01&date_to=2026-01-01", "The end date is before the start date."),
        ("action=delete_everything", "Choose an action from the list."),
        ("user=abc", "Choose an account of this clinic from the list."),
        ("client=abc", "The client in the link was not understood"),
        ("client=99999999999999999999999", "The client in the link was not understood"),
        ("client=-3", "The client in the link was not understood"),
        ("client=424242", "That client is not one of this clinic"),
        ("q=" + "x" * 101, "Type at most 100 characters."),
        ("page=-4", ""),
        ("page=99999999999999999999", ""),
        ("date_from=0001-01-01&date_to=9999-12-31", ""),
    ],
)
def test_bad_filters_give_a_message_and_show_only_this_clinic(
    app, owner, clinic_world, query, message
):
    add_entry(app, clinic_world.a, summary="Ours")
    add_entry(app, clinic_world.b, summary="SecretBeta was opened")
    for url in (f"/audit/?{query}", f"/audit/export.csv?{query}"):
        response = owner.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert "SecretBeta" not in body
        if url.startswith("/audit/?") and message:
            assert message in body.replace("&#39;", "'")


def test_a_user_of_another_clinic_is_not_a_filter(app, owner, clinic_world):
    b = clinic_world.b
    add_entry(app, clinic_world.a, summary="Ours")
    add_entry(app, b, summary="SecretBeta was opened")
    for user_id in (b.therapist_id, b.owner_id):
        page = owner.get(f"/audit/?user={user_id}").get_data(as_text=True)
        assert "Choose an account of this clinic from the list." in page
        assert "SecretBeta" not in page
        assert "Ours" in page
        rows = read_csv(owner.get(f"/audit/export.csv?user={user_id}"))
        assert [row["summary"] for row in without_the_trail(rows)] == ["Ours"]


def test_another_clinics_client_is_not_a_filter(app, owner, clinic_world):
    add_entry(app, clinic_world.b, summary="SecretBeta was opened")
    page = owner.get(f"/audit/?client={clinic_world.b.client_id}").get_data(as_text=True)
    assert "That client is not one of this clinic" in page
    assert "SecretBeta" not in page


def test_fifty_entries_a_page(app, owner, clinic_world):
    a = clinic_world.a
    with app.app_context():
        db.session.add_all(
            AuditEntry(
                clinic_id=a.clinic_id,
                user_id=a.therapist_id,
                client_id=a.client_id,
                action=AuditAction.VIEW,
                summary=f"Entry number {number}",
                at=NOW - timedelta(minutes=number),
            )
            for number in range(120)
        )
        db.session.commit()
    first = owner.get("/audit/").get_data(as_text=True)
    assert len(rows_of(first)) == PER_PAGE
    assert "Entry number 0<" in first and "Page 1 of 3" in first
    assert 'href="/audit/?page=2"' in first
    third = owner.get("/audit/?page=3").get_data(as_text=True)
    # The first view of the trail was recorded too: 121 entries, 21 on the last page.
    assert len(rows_of(third)) == 121 - 2 * PER_PAGE
    assert "Entry number 119<" in third
    # A page past the last shows the last one.
    beyond = owner.get("/audit/?page=40")
    assert beyond.status_code == 200
    assert "Page 3 of 3" in beyond.get_data(as_text=True)
    assert "Entry number 119<" in beyond.get_data(as_text=True)
    filtered = owner.get("/audit/?action=view&page=1").get_data(as_text=True)
    assert 'href="/audit/?page=2&amp;action=view"' in filtered or (
        'href="/audit/?action=view&amp;page=2"' in filtered
    )


def test_the_csv_has_every_filtered_entry_and_defuses_formulas(app, owner, clinic_world):
    a = clinic_world.a
    add_entry(
        app,
        a,
        summary='=HYPERLINK("http://example.com")',
        remote_addr="@evil",
        action=AuditAction.PRINT,
        record_type="visit",
        record_id=a.visit_id,
    )
    add_entry(app, a, summary="+1 and -1", user=None, client=False)
    add_entry(app, clinic_world.b, summary="SecretBeta was opened")
    response = owner.get("/audit/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(CSV_HEADER)
    assert "SecretBeta" not in text
    rows = read_csv(response)
    # The export is recorded before the first line is sent, so it lists itself first.
    assert rows[0]["action"] == "export" and rows[0]["summary"] == "Audit trail (CSV)"
    assert rows[0]["user"] == "Owen Owner Alpha"
    assert len(rows) == 3
    plain, formula = rows[1:]
    assert formula["summary"] == '\'=HYPERLINK("http://example.com")'
    assert formula["address"] == "'@evil"
    assert formula["action"] == "print" and formula["action_label"] == "Printed"
    assert formula["user"] == "Tess Therapist Alpha"
    assert formula["client"] == "SecretAlpha ClientAlpha"
    assert formula["client_id"] == str(a.client_id)
    assert formula["record_id"] == str(a.visit_id)
    assert datetime.fromisoformat(formula["when_utc"]).tzinfo is not None
    assert plain["summary"] == "'+1 and -1"
    assert plain["user"] == "" and plain["client"] == ""

    only_prints = without_the_trail(read_csv(owner.get("/audit/export.csv?action=print")))
    assert [row["action"] for row in only_prints] == ["print"]


def test_the_csv_streams_past_one_batch(app, owner, clinic_world):
    a = clinic_world.a
    count = EXPORT_BATCH + 5
    with app.app_context():
        db.session.add_all(
            AuditEntry(
                clinic_id=a.clinic_id,
                user_id=a.therapist_id,
                action=AuditAction.SIGN_IN,
                summary=f"n{number}",
                # Many share one moment: the export pages by moment and id together.
                at=NOW - timedelta(seconds=number // 10),
            )
            for number in range(count)
        )
        db.session.commit()
    rows = without_the_trail(read_csv(owner.get("/audit/export.csv")))
    assert len(rows) == count
    assert len({row["summary"] for row in rows}) == count
    moments = [row["when_utc"] for row in rows]
    assert moments == sorted(moments, reverse=True)


@pytest.mark.parametrize(
    "query",
    [
        "page=99999999999999999999",
        "page=-99999999999999999999",
        "page=" + "9" * 5000,
        "page=1e9",
        "page=%00",
        "client=99999999999999999999",
        "user=99999999999999999999",
        "date_from=99999-01-01",
        "date_to=0000-01-01",
        "date_from=9999-12-31&date_to=9999-12-31",
    ],
)
def test_numbers_out_of_range_never_fail(app, owner, clinic_world, query):
    """Out-of-range numbers in the link clamp or are ignored with a message (issue 11)."""
    add_entry(app, clinic_world.a, summary="Ours")
    for url in (f"/audit/?{query}", f"/audit/export.csv?{query}"):
        response = owner.get(url)
        assert response.status_code == 200, url


def test_a_page_past_the_last_shows_the_last(app, owner, clinic_world):
    add_entry(app, clinic_world.a, summary="The only entry")
    body = owner.get("/audit/?page=99999999999999999999").get_data(as_text=True)
    assert "The only entry" in body


def test_no_csv_leaves_when_its_entry_cannot_be_written(
    app,
    owner,
    clinic_world,
    failing_audit,
):
    add_entry(app, clinic_world.a, summary="Not to be sent")
    failing_audit(AuditAction.EXPORT)
    before = entries(app)
    response = owner.get("/audit/export.csv")
    assert response.status_code >= 500
    assert response.mimetype == "text/html"
    assert "Not to be sent" not in response.get_data(as_text=True)
    assert new_entries(app, before) == []
