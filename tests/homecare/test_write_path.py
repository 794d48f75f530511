"""Home care on the write path: refusals beside their item, one entry per change and per print."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from sqlalchemy import select
from wtforms import FieldList

from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.homecare.forms import PlanForm, PlanRowForm
from clinic.models import AuditAction, HomeCarePlan, IssuedHandout, LibraryItemVersion
from tests import factories
from tests.audit import Entry, entries, new_entries
from tests.auth import (
    all_field_errors,
    count_rows,
    field_errors,
    form_errors,
    input_value,
    location,
    page,
    textarea_value,
)
from tests.homecare import ready_client, row_errors, row_name
from tests.injection_payloads import form_values
from tests.test_bad_input import library_item_data

LIBRARY = "/homecare/library/"


def builder_url(client_id: int) -> str:
    return f"/clients/{client_id}/homecare/new"


def plan_ids(app: Flask, client_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(HomeCarePlan.id).where(HomeCarePlan.client_id == client_id)
            ).all()
        )


def handout_ids(app: Flask, plan_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(IssuedHandout.id).where(IssuedHandout.plan_id == plan_id)
            ).all()
        )


def one(written: list[Entry]) -> Entry:
    assert len(written) == 1, written
    return written[0]


def is_ticked(html: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert tag is not None, name
    return " checked" in tag.group(0)


def ticked(page_html: str, **rows: dict[str, str]) -> dict[str, str]:
    """Return what a browser sends from the builder page with the rows given ticked and typed.

    rows maps a library key to the fields typed into its row (besides the tick).
    """
    data = form_values(page_html, "creation_token")
    for key, typed in rows.items():
        data[row_name(page_html, key, "include")] = "y"
        for field, value in typed.items():
            data[row_name(page_html, key, field)] = value
    return data


# --- The plan builder ----------------------------------------------------------------------------


def test_a_refused_item_is_shown_beside_it_everything_typed_is_kept_and_the_view_is_on_file(
    app, logged_in, clinic_world
):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    builder = page(logged_in.get(builder_url(client_id)))
    # Three items ticked through the real form; the dose of the middle one breaks a rule that
    # only the operation knows (a day count and a week count together).
    data = ticked(
        builder,
        b_hamstring_stretch={"hold_seconds": "20", "note": "Use a towel round your foot."},
        b_cold_pack={"times_per_week": "3", "note": "After the walk."},
        b_clamshell={"note": "Slowly."},
    )
    data["note"] = "Walk ten minutes a day too."
    before = entries(app)
    response = logged_in.post(builder_url(client_id), data=data)

    assert response.status_code == 200
    html = page(response)
    times_per_week = row_name(html, "b_cold_pack", "times_per_week")
    assert field_errors(html, times_per_week) == ["Give times a day or times a week, not both."]
    assert all_field_errors(html) == ["Give times a day or times a week, not both."]
    assert form_errors(html)
    # Every item typed is kept: the ticks, the doses, the notes.
    for key in ("b_hamstring_stretch", "b_cold_pack", "b_clamshell"):
        assert is_ticked(html, row_name(html, key, "include")), key
    assert input_value(html, row_name(html, "b_hamstring_stretch", "hold_seconds")) == "20"
    assert input_value(html, times_per_week) == "3"
    assert textarea_value(html, row_name(html, "b_cold_pack", "note")) == "After the walk."
    assert "Use a towel round your foot." in unescape(html)
    assert "Walk ten minutes a day too." in html
    assert plan_ids(app, client_id) == []
    shown = one(new_entries(app, before))
    assert (shown.action, shown.record_type, shown.client_id, shown.user_id) == (
        AuditAction.VIEW,
        "plan",
        client_id,
        a.therapist_id,
    )
    assert shown.summary == "Home-care plan builder (shown again, not saved)"

    # Put right, the plan is saved with exactly one entry, naming the new plan.
    data[times_per_week] = ""
    before = entries(app)
    response = logged_in.post(builder_url(client_id), data=data)
    assert response.status_code == 302
    (plan_id,) = plan_ids(app, client_id)
    assert location(response) == f"/clients/{client_id}/homecare/{plan_id}"
    created = one(new_entries(app, before))
    assert (created.action, created.record_type, created.record_id, created.client_id) == (
        AuditAction.CREATE,
        "plan",
        plan_id,
        client_id,
    )
    assert created.summary == "Saved a home-care plan"


def test_an_item_changed_in_the_library_is_refused_beside_that_item(app, owner, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    key = f"c_{a.library_item_id}"
    builder = page(owner.get(builder_url(client_id)))
    data = ticked(builder, b_calf_stretch={}, **{key: {"note": "Against the kitchen wall."}})
    # Another owner saves a new version while the page is open.
    edit = library_item_data(title="Wall sit, new wording", version="1")
    assert owner.post(f"{LIBRARY}{a.library_item_id}/edit", data=edit).status_code == 302
    before = entries(app)
    html = page(owner.post(builder_url(client_id), data=data))
    (message,) = row_errors(html, key)
    assert "changed in the library" in message
    assert row_errors(html, "b_calf_stretch") == []
    assert textarea_value(html, row_name(html, key, "note")) == "Against the kitchen wall."
    assert plan_ids(app, client_id) == []
    assert [e.action for e in new_entries(app, before)] == [AuditAction.VIEW]


def test_the_builder_page_is_on_file(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    before = entries(app)
    assert logged_in.get(builder_url(client_id)).status_code == 200
    shown = one(new_entries(app, before))
    assert (shown.action, shown.client_id, shown.summary) == (
        AuditAction.VIEW,
        client_id,
        "Home-care plan builder",
    )


# --- Handouts ----------------------------------------------------------------------------------


def test_issuing_records_one_entry_with_the_new_handout(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    plan_id = factories.make_plan(app, client_id, clinic_world.a.therapist_id, ("b_cold_pack",))
    before = entries(app)
    response = logged_in.post(f"/clients/{client_id}/homecare/{plan_id}/issue")
    assert response.status_code == 302
    (handout_id,) = handout_ids(app, plan_id)
    assert response.headers["Location"].endswith(f"#handout-{handout_id}")
    created = one(new_entries(app, before))
    assert (created.action, created.record_type, created.record_id, created.client_id) == (
        AuditAction.CREATE,
        "handout",
        handout_id,
        client_id,
    )
    assert created.summary == "Issued a home-care handout"


def test_a_refused_issue_shows_the_plan_on_file_and_keeps_nothing(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    plan_id = factories.make_plan(app, client_id, a.therapist_id, ("b_cold_pack",))
    factories.make_screening(app, client_id, a.therapist_id, neuropathy=True)
    before = entries(app)
    response = logged_in.post(f"/clients/{client_id}/homecare/{plan_id}/issue")
    assert response.status_code == 409
    assert "screened again after this plan was made" in page(response)
    assert handout_ids(app, plan_id) == []
    shown = one(new_entries(app, before))
    assert (shown.action, shown.record_id, shown.summary) == (
        AuditAction.VIEW,
        plan_id,
        "Home-care plan (shown again, not saved)",
    )


def test_a_handout_whose_entry_fails_is_not_kept(
    app,
    logged_in,
    clinic_world,
    failing_audit,
):
    client_id = ready_client(app, clinic_world)
    plan_id = factories.make_plan(app, client_id, clinic_world.a.therapist_id, ("b_cold_pack",))
    failing_audit(AuditAction.CREATE)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production: a 500 page
    before = entries(app)
    response = logged_in.post(f"/clients/{client_id}/homecare/{plan_id}/issue")
    assert response.status_code == 500
    assert handout_ids(app, plan_id) == []
    assert new_entries(app, before) == []


def test_the_preview_writes_one_print_entry(app, logged_in, clinic_world):
    a = clinic_world.a
    before = entries(app)
    response = logged_in.get(f"/clients/{a.client_id}/homecare/{a.plan_id}/preview.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    printed = one(new_entries(app, before))
    assert (printed.action, printed.record_type, printed.record_id, printed.client_id) == (
        AuditAction.PRINT,
        "plan",
        a.plan_id,
        a.client_id,
    )
    assert printed.summary == "Handout preview PDF"


def test_a_handout_download_writes_one_print_entry(app, logged_in, clinic_world):
    a = clinic_world.a
    before = entries(app)
    response = logged_in.get(f"/clients/{a.client_id}/homecare/handouts/{a.handout_id}.pdf")
    assert response.status_code == 200
    printed = one(new_entries(app, before))
    assert (printed.action, printed.record_type, printed.record_id, printed.client_id) == (
        AuditAction.PRINT,
        "handout",
        a.handout_id,
        a.client_id,
    )
    assert printed.summary == "Issued handout PDF"


def test_a_preview_whose_entry_fails_sends_no_file(
    app,
    logged_in,
    clinic_world,
    failing_audit,
):
    a = clinic_world.a
    failing_audit(AuditAction.PRINT)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production: a 500 page
    response = logged_in.get(f"/clients/{a.client_id}/homecare/{a.plan_id}/preview.pdf")
    assert response.status_code == 500
    assert not response.data.startswith(b"%PDF")


# --- The library ---------------------------------------------------------------------------------


def test_library_changes_are_each_on_file_with_the_item(app, owner, clinic_world):
    a = clinic_world.a
    before = entries(app)
    response = owner.post(f"{LIBRARY}new", data=library_item_data(title="Step-ups", version="0"))
    item_id = int(location(response).rsplit("/", 1)[1])
    edit = library_item_data(title="Step-ups, low", version="1")
    assert owner.post(f"{LIBRARY}{item_id}/edit", data=edit).status_code == 302
    owner.post(f"{LIBRARY}{item_id}/archive")
    owner.post(f"{LIBRARY}{item_id}/restore")
    written = new_entries(app, before)
    assert [(e.action, e.record_type, e.record_id, e.summary) for e in written] == [
        (AuditAction.CREATE, "library_item", item_id, "Added a library item"),
        (AuditAction.CHANGE, "library_item", item_id, "Edited a library item"),
        (AuditAction.CHANGE, "library_item", item_id, "Retired a library item"),
        (AuditAction.CHANGE, "library_item", item_id, "Offered a retired library item again"),
    ]
    assert {(e.user_id, e.client_id) for e in written} == {(a.owner_id, None)}
    assert count_rows(app, LibraryItemVersion, LibraryItemVersion.item_id == item_id) == 2


def test_plan_problems_are_keyed_by_the_builder_forms_list():
    # The operation names an item's problem row_key(PLAN_ROWS, i, field); apply_violations
    # finds it in the form's FieldList of that name, among the ticked rows.
    unbound = getattr(PlanForm, homecare_ops.PLAN_ROWS)
    assert unbound.field_class is FieldList
    assert hasattr(PlanRowForm, homecare_ops.ROW_FIELD)
