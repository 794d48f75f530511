"""The clinic's details: edited by the owner, checked, and safe from lost updates."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import update

from clinic.extensions import db
from clinic.models import AuditAction, Clinic
from tests import factories
from tests.audit import entries, new_entries
from tests.auth import (
    field_errors,
    flashes,
    form_errors,
    input_value,
    location,
    page,
    sign_in_form,
    textarea_value,
)
from tests.conftest import ClinicTestClient


@pytest.fixture
def owner(app: Flask, clinic_world: factories.World) -> ClinicTestClient:
    """A browser signed in as clinic A's owner through the real form."""
    client: ClinicTestClient = app.test_client()  # type: ignore[assignment]
    assert sign_in_form(client, clinic_world.a.owner_email).status_code == 302
    return client


def load_clinic(app: Flask, clinic_id: int) -> Clinic:
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_id)
        db.session.expunge(clinic)
        return clinic


def settings_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Alpha Knee Care",
        "address": "9 Tendon Row\nKneeton",
        "phone": "555 010 0300",
        "screening_valid_days": "30",
        "retention_years": "10",
        "version": "1",
    }
    data.update(overrides)
    return data


def test_the_form_shows_the_saved_details(owner):
    response = owner.get("/admin/clinic")
    assert response.status_code == 200
    html = page(response)
    assert input_value(html, "name") == "Clinic Alpha"
    assert textarea_value(html, "address") == "1 River Rd"
    assert input_value(html, "phone") == "555 0100"
    assert input_value(html, "version") == "1"


def test_the_owner_saves_new_details(app, owner, clinic_world):
    response = owner.post("/admin/clinic", data=settings_data())
    assert response.status_code == 302
    assert location(response) == "/admin/clinic"
    clinic = load_clinic(app, clinic_world.a.clinic_id)
    assert clinic.name == "Alpha Knee Care"
    assert clinic.address == "9 Tendon Row\nKneeton"
    assert clinic.phone == "555 010 0300"
    assert clinic.version == 2
    html = page(owner.get("/admin/clinic"))
    assert "The clinic's details were saved." in flashes(html)
    assert input_value(html, "version") == "2"
    assert "Alpha Knee Care" in html  # the header shows the new name
    # The other clinic is untouched.
    assert load_clinic(app, clinic_world.b.clinic_id).name == "Clinic Beta"


def test_address_and_phone_may_be_emptied(app, owner, clinic_world):
    response = owner.post("/admin/clinic", data=settings_data(address="", phone=""))
    assert response.status_code == 302
    clinic = load_clinic(app, clinic_world.a.clinic_id)
    assert (clinic.address, clinic.phone) == ("", "")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the clinic's name."),
        ({"name": "   "}, "name", "Enter the clinic's name."),
        ({"name": "N" * 121}, "name", "Field cannot be longer than 120 characters."),
        ({"address": "A" * 301}, "address", "Field cannot be longer than 300 characters."),
        ({"phone": "call me"}, "phone", "Enter a phone number using digits, like 555 010 0199."),
        ({"phone": "12"}, "phone", "Enter a phone number using digits, like 555 010 0199."),
        ({"phone": "5" * 41}, "phone", "Field cannot be longer than 40 characters."),
    ],
)
def test_bad_details_are_refused_beside_the_field(
    app, owner, clinic_world, overrides, field, message
):
    data = settings_data(**overrides)
    response = owner.post("/admin/clinic", data=data)
    assert response.status_code == 200
    html = page(response)
    assert message in field_errors(html, field)
    assert form_errors(html)
    # What was typed stays in the form.
    assert input_value(html, "phone") == data["phone"].strip()
    assert textarea_value(html, "address") == data["address"]
    clinic = load_clinic(app, clinic_world.a.clinic_id)
    assert clinic.name == "Clinic Alpha"
    assert clinic.address == "1 River Rd"
    assert clinic.version == 1


def _someone_else_saves(app: Flask, clinic_id: int) -> None:
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_id)
        clinic.name = "Renamed Elsewhere"
        db.session.commit()


def test_a_stale_form_does_not_overwrite_a_newer_save(app, owner, clinic_world):
    version = input_value(page(owner.get("/admin/clinic")), "version")
    _someone_else_saves(app, clinic_world.a.clinic_id)

    response = owner.post("/admin/clinic", data=settings_data(version=version))
    assert response.status_code == 409
    html = page(response)
    errors = form_errors(html)
    assert errors
    assert "Someone else changed these details" in errors[0]
    assert "Renamed Elsewhere" in errors[0]
    clinic = load_clinic(app, clinic_world.a.clinic_id)
    assert clinic.name == "Renamed Elsewhere"
    assert clinic.version == 2
    # The owner's typing is kept, and the form now carries the newer version ...
    assert input_value(html, "name") == "Alpha Knee Care"
    assert input_value(html, "version") == "2"
    # ... so saving again from this page is a deliberate overwrite.
    response = owner.post("/admin/clinic", data=settings_data(version="2"))
    assert response.status_code == 302
    assert load_clinic(app, clinic_world.a.clinic_id).name == "Alpha Knee Care"


@pytest.mark.parametrize("version", ["", "0", "abc", "99"])
def test_a_missing_or_wrong_version_saves_nothing(app, owner, clinic_world, version):
    response = owner.post("/admin/clinic", data=settings_data(version=version))
    assert response.status_code == 409
    assert load_clinic(app, clinic_world.a.clinic_id).name == "Clinic Alpha"


def test_saving_without_a_csrf_token_changes_nothing(app, owner, clinic_world):
    response = owner.post("/admin/clinic", data=settings_data(), csrf=False)
    assert response.status_code == 400
    assert load_clinic(app, clinic_world.a.clinic_id).name == "Clinic Alpha"


def test_an_owner_edits_only_their_own_clinic(app, clinic_world):
    beta = app.test_client()
    sign_in_form(beta, clinic_world.b.owner_email)
    assert input_value(page(beta.get("/admin/clinic")), "name") == "Clinic Beta"
    beta.post("/admin/clinic", data=settings_data(name="Beta Renamed"))
    assert load_clinic(app, clinic_world.b.clinic_id).name == "Beta Renamed"
    assert load_clinic(app, clinic_world.a.clinic_id).name == "Clinic Alpha"


def test_the_version_column_is_bumped_by_every_save(app, owner, clinic_world):
    owner.post("/admin/clinic", data=settings_data(version="1"))
    owner.post("/admin/clinic", data=settings_data(name="Third Name", version="2"))
    clinic = load_clinic(app, clinic_world.a.clinic_id)
    assert (clinic.name, clinic.version) == ("Third Name", 3)
    with app.app_context():
        db.session.execute(update(Clinic).where(Clinic.id == clinic.id).values(version=7))
        db.session.commit()
    assert input_value(page(owner.get("/admin/clinic")), "version") == "7"


# --- the audit trail --------------------------------------------------------------------------


def test_a_save_is_on_file_as_a_security_change_and_a_refusal_is_not(app, owner, clinic_world):
    a = clinic_world.a
    before = entries(app)
    assert owner.post("/admin/clinic", data=settings_data(version="99")).status_code == 409
    assert owner.post("/admin/clinic", data=settings_data(name="")).status_code == 200
    assert new_entries(app, before) == []
    assert owner.post("/admin/clinic", data=settings_data()).status_code == 302
    [entry] = new_entries(app, before)
    assert (entry.action, entry.record_type, entry.record_id, entry.user_id) == (
        AuditAction.SECURITY,
        "clinic",
        a.clinic_id,
        a.owner_id,
    )
    assert entry.summary == "Changed the clinic's details and settings"


def test_the_logo_changes_are_on_file_and_a_refused_upload_is_not(app, owner, clinic_world):
    image = BytesIO()
    Image.new("RGB", (40, 20), "navy").save(image, "PNG")
    before = entries(app)
    refused = owner.post("/admin/clinic/logo", data={"logo": (BytesIO(b"not an image"), "x.png")})
    assert refused.status_code == 200
    assert new_entries(app, before) == []
    uploaded = owner.post("/admin/clinic/logo", data={"logo": (BytesIO(image.getvalue()), "l.png")})
    assert location(uploaded) == "/admin/clinic"
    assert location(owner.post("/admin/clinic/logo/remove")) == "/admin/clinic"
    assert [(e.action, e.record_type, e.summary) for e in new_entries(app, before)] == [
        (AuditAction.CHANGE, "clinic", "Uploaded the logo for handouts"),
        (AuditAction.CHANGE, "clinic", "Removed the logo for handouts"),
    ]
