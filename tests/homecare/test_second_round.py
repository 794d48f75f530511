"""DOMAIN.md 8.3 and 8.4 through the real forms: home doses, own items' declarations."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from sqlalchemy import select, update

from clinic.extensions import db
from clinic.models import HomeCarePlan, LibraryItemVersion
from tests import factories
from tests.auth import count_rows, field_errors, form_errors, page
from tests.homecare import builder_data, has_tick_box, ready_client, row_html, row_name
from tests.test_bad_input import library_item_data

LIBRARY = "/homecare/library/"
TODAY = date.today()


def builder_url(client_id: int) -> str:
    return f"/clients/{client_id}/homecare/new"


def plan_count(app, client_id: int) -> int:
    with app.app_context():
        return len(
            db.session.scalars(select(HomeCarePlan).where(HomeCarePlan.client_id == client_id))
            .unique()
            .all()
        )


# --- 8.3: home doses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "changes", "field", "message"),
    [
        ("cold_pack", {"minutes": "60"}, "minutes", "Use cold or heat for 10 to 20 minutes"),
        ("heat_pack", {"minutes": "5"}, "minutes", "Use cold or heat for 10 to 20 minutes"),
        ("heat_pack", {"times_per_day": "6"}, "times_per_day", "Use cold or heat 1 to 4 times"),
        ("calf_stretch", {"hold_seconds": "120"}, "hold_seconds", "15 to 60 seconds"),
        ("calf_stretch", {"repetitions": "50"}, "repetitions", "Do a stretch 2 to 3 times."),
        ("straight_leg_raise", {"repetitions": "30"}, "repetitions", "5 to 15 repetitions"),
        ("straight_leg_raise", {"sets": "5"}, "sets", "1 to 3 sets"),
        ("glute_bridge", {"hold_seconds": "30"}, "hold_seconds", "1 to 10 seconds"),
        ("foam_roller", {"minutes": "30"}, "minutes", "1 to 15 minutes a session"),
        (
            "foam_roller",
            {"times_per_week": "", "times_per_day": "3"},
            "times_per_day",
            "once or twice a day (1 to 2)",
        ),
    ],
)
def test_a_home_dose_out_of_range_is_refused_with_the_range(
    app, logged_in, clinic_world, code, changes, field, message
):
    client_id = ready_client(app, clinic_world)
    key = f"b_{code}"
    data = builder_data(code, **{f"{key}-{name}": value for name, value in changes.items()})
    response = logged_in.post(builder_url(client_id), data=data)
    assert response.status_code == 200
    html = page(response)
    assert any(message in error for error in field_errors(html, row_name(html, key, field)))
    assert form_errors(html)
    assert plan_count(app, client_id) == 0


def test_a_home_dose_at_the_ends_of_its_range_is_saved(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    data = builder_data(
        "cold_pack",
        "calf_stretch",
        **{
            "b_cold_pack-minutes": "20",
            "b_cold_pack-times_per_day": "4",
            "b_calf_stretch-hold_seconds": "60",
            "b_calf_stretch-repetitions": "2",
        },
    )
    logged_in.post(builder_url(client_id), data=data)
    assert plan_count(app, client_id) == 1


def test_an_own_item_dose_out_of_range_is_refused_in_the_library(app, owner):
    before = count_rows(app, LibraryItemVersion)
    data = library_item_data(kind="heat", minutes="60", hold_seconds="", repetitions="")
    html = page(owner.post(f"{LIBRARY}new", data=data))
    assert "Use cold or heat for 10 to 20 minutes at a time." in field_errors(html, "minutes")
    assert count_rows(app, LibraryItemVersion) == before


# --- 8.4: the clinic's own items declare what they involve --------------------------------------


def test_a_new_own_item_must_declare_what_it_involves(app, owner):
    before = count_rows(app, LibraryItemVersion)
    data = library_item_data(title="Deep calf rolling")
    del data["uses_pressure"], data["weight_bearing"]
    html = page(owner.post(f"{LIBRARY}new", data=data))
    assert "Say whether the item presses on the leg." in field_errors(html, "uses_pressure")
    assert "Say whether the legs carry weight in it." in field_errors(html, "weight_bearing")
    assert "Deep calf rolling" in html  # the typing is kept
    assert count_rows(app, LibraryItemVersion) == before


def make_own(app, clinic_world, **overrides) -> int:
    return factories.make_library_item(app, clinic_world.a.owner_id, **overrides)


def undeclare(app, item_id: int) -> None:
    """Make the item's versions look as they did before items declared anything."""
    with app.app_context():
        # Versions never change through the ORM; this stands in for rows saved before.
        db.session.execute(
            update(LibraryItemVersion)
            .where(LibraryItemVersion.item_id == item_id)
            .values(areas=None, uses_pressure=None, weight_bearing=None)
        )
        db.session.commit()


def test_the_library_flags_own_items_that_declare_nothing(app, owner, clinic_world):
    item_id = make_own(app, clinic_world, title="Old knee circles")
    undeclare(app, item_id)
    html = unescape(page(owner.get(LIBRARY)))
    assert "1 of your items does not say what it involves." in html
    assert "Not declared: edit to say what it involves" in html
    detail = unescape(page(owner.get(f"{LIBRARY}{item_id}")))
    assert "Not declared" in detail
    # Declaring it through the edit form clears the flag.
    edit = owner.post(
        f"{LIBRARY}{item_id}/edit", data=library_item_data(title="Old knee circles", version="1")
    )
    assert edit.status_code == 302
    assert "Not declared" not in unescape(page(owner.get(LIBRARY)))


def test_an_undeclared_item_stays_out_of_a_plan_for_a_client_with_a_finding(
    app, logged_in, clinic_world
):
    item_id = make_own(app, clinic_world, title="Old knee circles")
    undeclare(app, item_id)
    key = f"c_{item_id}"
    client_id = ready_client(app, clinic_world, anticoagulants=True)
    html = unescape(page(logged_in.get(builder_url(client_id))))
    assert not has_tick_box(html, key)
    assert "has not yet said what it involves" in row_html(html, key)
    data = builder_data(**{f"{key}-include": "y", f"{key}-version": "1", f"{key}-minutes": "5"})
    response = logged_in.post(builder_url(client_id), data=data)
    assert "has not yet said what it involves" in unescape(page(response))
    assert plan_count(app, client_id) == 0


def test_an_undeclared_item_may_go_to_a_client_with_no_finding(app, logged_in, clinic_world):
    item_id = make_own(app, clinic_world, title="Old knee circles")
    undeclare(app, item_id)
    client_id = ready_client(app, clinic_world)
    assert has_tick_box(page(logged_in.get(builder_url(client_id))), f"c_{item_id}")


@pytest.mark.parametrize(
    ("answers", "allowed"),
    [
        ({}, True),
        # The example: deep calf rolling for a past clot, blood thinners, veins.
        ({"previous_dvt": {"side": "left"}}, False),
        ({"anticoagulants": True}, False),
        ({"varicose_veins": {"side": "left", "region": "calf"}}, False),
        # Far from the calf: no reason to leave it out.
        ({"bruise": {"side": "left", "region": "thigh"}}, True),
    ],
)
def test_a_declared_own_item_meets_the_built_in_rules(
    app, logged_in, clinic_world, answers, allowed
):
    from clinic.domain.catalogue import Region
    from clinic.domain.homecare import Dose, ItemKind

    item_id = make_own(
        app,
        clinic_world,
        title="Deep calf rolling",
        kind=ItemKind.FOAM_ROLL,
        steps=("Sit with the roller under your calf.", "Roll slowly, pressing firmly."),
        dose=Dose(minutes=5, times_per_week=2),
        areas=frozenset({Region.CALF}),
        uses_pressure=True,
        weight_bearing=False,
    )
    client_id = ready_client(app, clinic_world, **answers)
    html = page(logged_in.get(builder_url(client_id)))
    assert has_tick_box(html, f"c_{item_id}") is allowed


# --- 8.4: printing needs a current screening with the clot signs asked that day ----------------


def screened_plan(app, clinic_world, *, days_ago: int, checked: bool = True) -> tuple[int, int]:
    """A client screened some days ago with a plan of the cold pack; return both ids."""
    from datetime import date, timedelta

    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Printer")
    factories.make_screening(
        app, client_id, a.therapist_id, taken_on=date.today() - timedelta(days=days_ago)
    )
    plan_id = factories.make_plan(app, client_id, a.therapist_id, ("b_cold_pack",), checked=checked)
    return client_id, plan_id


def handout_count(app, plan_id: int) -> int:
    from clinic.models import IssuedHandout

    with app.app_context():
        return len(
            db.session.scalars(select(IssuedHandout).where(IssuedHandout.plan_id == plan_id)).all()
        )


@pytest.mark.parametrize(
    ("days_ago", "checked", "message"),
    [
        (1, True, "The signs of a clot in the leg have not been asked about today."),
        (40, False, "is out of date. Take a new screening before treating."),
    ],
    ids=["clot signs not asked today", "screening out of date"],
)
@pytest.mark.parametrize("action", ["issue", "preview"])
def test_printing_needs_a_current_screening_with_the_clot_signs_asked_today(
    app, logged_in, clinic_world, days_ago, checked, message, action
):
    client_id, plan_id = screened_plan(app, clinic_world, days_ago=days_ago, checked=checked)
    url = f"/clients/{client_id}/homecare/{plan_id}"
    if action == "issue":
        response = logged_in.post(f"{url}/issue")
    else:
        response = logged_in.get(f"{url}/preview.pdf")
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    html = unescape(page(response))
    assert message in html
    assert f'href="/clients/{client_id}/screening/new"' in html
    assert handout_count(app, plan_id) == 0
    # The plan page says so too, and offers no issue button.
    plan_page = unescape(page(logged_in.get(url)))
    assert message in plan_page
    assert "Issue the handout (PDF)" not in plan_page
    assert f'action="{url}/issue"' not in plan_page


def test_a_preview_of_a_plan_the_screening_no_longer_matches_says_so_on_every_page(
    app, logged_in, clinic_world
):
    from io import BytesIO

    from pypdf import PdfReader

    client_id, plan_id = screened_plan(app, clinic_world, days_ago=0)
    # A new screening today finds blood thinners: the plan was made from the old one.
    factories.make_screening(app, client_id, clinic_world.a.therapist_id, anticoagulants=True)
    response = logged_in.get(f"/clients/{client_id}/homecare/{plan_id}/preview.pdf")
    assert response.status_code == 200
    pages = PdfReader(BytesIO(response.data)).pages
    assert len(pages) >= 2
    for number, one in enumerate(pages, start=1):
        text = " ".join(one.extract_text().split())
        assert "DOES NOT MATCH THE SCREENING" in text, number
    first = " ".join(pages[0].extract_text().split())
    assert "The client was screened again after this plan was made." in first
    assert handout_count(app, plan_id) == 0


def test_a_preview_of_a_matching_plan_is_not_marked(app, logged_in, clinic_world):
    from tests.homecare import pdf_text

    client_id, plan_id = screened_plan(app, clinic_world, days_ago=0)
    response = logged_in.get(f"/clients/{client_id}/homecare/{plan_id}/preview.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "PREVIEW, NOT ISSUED" in text
    assert "DOES NOT MATCH" not in text


def test_a_one_leg_item_is_printed_for_that_leg_only(app, logged_in, clinic_world):
    client_id = ready_client(
        app, clinic_world, recent_fracture={"side": "left", "region": "shin", "date": TODAY}
    )
    logged_in.post(builder_url(client_id), data=builder_data("hamstring_stretch", "calf_stretch"))
    with app.app_context():
        (plan,) = db.session.scalars(
            select(HomeCarePlan).where(HomeCarePlan.client_id == client_id)
        ).all()
        hamstring, calf = plan.items
        assert hamstring.dose_text == "Hold 30 seconds. Do it 3 times. Once a day."
        assert "Do this with your right leg only." in hamstring.changes
        assert "Do the same toward the other foot." not in hamstring.steps
        assert "Reach toward the toes of your right foot." in hamstring.steps[2]
        # The standing calf stretch would make the left leg the front, bending one.
        assert calf.steps[0].startswith("Sit on the floor or a bed")
        assert not any("Stand" in step for step in calf.steps)
