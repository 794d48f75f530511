"""The plan builder: the screening gate, exclusions and changes, doses, notes, nothing lost."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from flask_login import login_user
from sqlalchemy import select

from clinic.audit.trail import Actor
from clinic.domain.homecare import (
    EMERGENCY_NOTE,
    SAME_DAY_NOTE,
    STOP_NOTE,
    Dose,
    Each,
    describe_dose,
)
from clinic.extensions import db
from clinic.forms import clean_text
from clinic.homecare import operations as ops
from clinic.models import HomeCarePlan, LibraryItem, User
from tests import factories
from tests.auth import count_rows, field_errors, flashes, form_errors, location, page
from tests.homecare import (
    builder_data,
    has_tick_box,
    ready_client,
    row_errors,
    row_html,
    row_name,
    row_prefix,
)
from tests.test_bad_input import PAYLOADS, shown

TODAY = date.today()


def builder_url(client_id: int) -> str:
    return f"/clients/{client_id}/homecare/new"


def plans_of(app, client_id: int) -> list[HomeCarePlan]:
    with app.app_context():
        plans = db.session.scalars(
            select(HomeCarePlan).where(HomeCarePlan.client_id == client_id)
        ).all()
        for plan in plans:
            for item in plan.items:
                db.session.expunge(item)
            db.session.expunge(plan)
        return list(plans)


def row_text(html: str, key: str) -> str:
    return " ".join(unescape(row_html(html, key)).split())


# --- the gate -----------------------------------------------------------------------------------


def test_no_screening_no_plan(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Unscreened")
    html = page(logged_in.get(builder_url(client_id)))
    assert "A home-care plan cannot be built yet" in html
    assert "no screening yet" in html
    assert f"/clients/{client_id}#screening" in html
    response = logged_in.post(builder_url(client_id), data=builder_data("cold_pack"))
    assert response.status_code == 409
    assert plans_of(app, client_id) == []
    detail = page(logged_in.get(f"/clients/{client_id}"))
    assert "A plan cannot be built yet" in detail


def test_an_out_of_date_screening_closes_the_gate(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id)
    factories.make_screening(app, client_id, a.therapist_id, taken_on=TODAY - timedelta(days=31))
    assert "out of date" in page(logged_in.get(builder_url(client_id)))


def test_an_uncleared_warning_sign_closes_the_gate(app, logged_in, clinic_world):
    # Clinic A's first client has signs of a clot in the left leg.
    html = unescape(page(logged_in.get(builder_url(clinic_world.a.client_id))))
    assert "warning signs that need a doctor first" in html
    assert "calf or thigh signs that need a same-day check" in html


def test_a_screening_from_days_ago_is_enough(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id)
    factories.make_screening(app, client_id, a.therapist_id, taken_on=TODAY - timedelta(days=3))
    html = page(logged_in.get(builder_url(client_id)))
    assert "New home-care plan" in html


# --- exclusions and changes ---------------------------------------------------------------------

# answers -> (items left out, {item: a change shown for it})
EXCLUSIONS: list[tuple[str, dict[str, Any], set[str], dict[str, str]]] = [
    (
        "less feeling",
        {"neuropathy": True},
        {"heat_pack", "foam_roller"},
        {"cold_pack": "Look at your skin every 5 minutes"},
    ),
    (
        "varicose veins on both calves",
        {"varicose_veins": {"side": "both", "region": "calf"}},
        {"calf_stretch"},
        {"self_massage": "On both legs, skip steps 3 and 4.", "foam_roller": "skip step 2"},
    ),
    (
        "a break in the left thigh",
        {"recent_fracture": {"side": "left", "region": "thigh", "date": TODAY}},
        # DOMAIN.md 8.4: standing on, or lying on, the left leg is out too.
        {"glute_bridge", "quadriceps_stretch", "clamshell"},
        {
            "hamstring_stretch": "Do this with your right leg only.",
            "calf_stretch": "Do this with your right leg only.",
        },
    ),
    (
        "a flare-up in both knees",
        {"acute_flare": {"side": "both"}},
        {
            "hamstring_stretch",
            "quadriceps_stretch",
            "calf_stretch",
            "straight_leg_raise",
            "glute_bridge",
            "clamshell",
            "heat_pack",
        },
        {"self_massage": "On both legs, skip steps 7, 8, 9 and 10."},
    ),
    (
        "a recent injury to the right knee",
        {"recent_knee_injury": {"side": "right", "date": TODAY}},
        {"glute_bridge", "quadriceps_stretch", "clamshell"},
        {"heat_pack": "Use it on your left knee only."},
    ),
    (
        "pregnancy",
        {"pregnancy": True},
        set(),
        {"straight_leg_raise": "Ask your midwife or doctor", "glute_bridge": "Ask your midwife"},
    ),
    (
        "blood thinners",
        {"anticoagulants": True},
        {"foam_roller"},
        {"self_massage": "Keep the pressure gentle: do not dig in."},
    ),
    (
        "a cleared knee replacement",
        {"post_replacement_cleared": {"side": "left"}},
        set(),
        {
            "quadriceps_stretch": "Bend your new knee only as far as your surgeon or physio has said."
        },
    ),
]
ALL_CODES = (
    "self_massage",
    "hamstring_stretch",
    "quadriceps_stretch",
    "calf_stretch",
    "straight_leg_raise",
    "glute_bridge",
    "clamshell",
    "heat_pack",
    "cold_pack",
    "foam_roller",
)


@pytest.mark.parametrize(
    ("answers", "left_out", "changes"),
    [case[1:] for case in EXCLUSIONS],
    ids=[case[0] for case in EXCLUSIONS],
)
def test_the_builder_shows_what_the_screening_leaves_out_or_changes(
    app, logged_in, clinic_world, answers, left_out, changes
):
    client_id = ready_client(app, clinic_world, **answers)
    html = page(logged_in.get(builder_url(client_id)))
    for code in ALL_CODES:
        row = row_text(html, f"b_{code}")
        if code in left_out:
            assert "Left out" in row, code
            assert "Not for this client:" in row, code
            # The reason, read beside the item, does not name the item again.
            assert "<li>Left out" in row, code
            assert "is left out" not in row, code
            assert not has_tick_box(html, f"b_{code}"), code
        else:
            assert has_tick_box(html, f"b_{code}"), code
        if code in changes:
            assert "Changed" in row, code
            assert changes[code] in row, code
    # Ticking what is left out is refused beside the row, and nothing is saved.
    if left_out:
        response = logged_in.post(builder_url(client_id), data=builder_data(*sorted(left_out)))
        assert response.status_code == 200
        refused = page(response)
        for code in left_out:
            (message,) = row_errors(refused, f"b_{code}")
            assert "Not for this client" in unescape(message)
        assert plans_of(app, client_id) == []


def test_the_saved_plan_keeps_the_changes_and_safety_notes(app, logged_in, clinic_world):
    client_id = ready_client(
        app, clinic_world, anticoagulants=True, bruise={"side": "left", "region": "shin"}
    )
    response = logged_in.post(
        builder_url(client_id), data=builder_data("self_massage", "cold_pack")
    )
    (plan,) = plans_of(app, client_id)
    assert location(response) == f"/clients/{client_id}/homecare/{plan.id}"
    massage, cold = plan.items
    assert massage.builtin_code == "self_massage"
    assert "Keep the pressure gentle: do not dig in." in massage.changes
    assert any("skip steps 3 and 4" in change for change in massage.changes)
    assert cold.changes == []
    notes = plan.safety_notes
    for note in (STOP_NOTE, SAME_DAY_NOTE, EMERGENCY_NOTE):
        assert note in notes
    assert "Do not press on the bruise on your left shin." in notes
    html = unescape(page(logged_in.get(location(response))))
    assert "The plan was saved." in html
    for note in notes:
        assert note in html


def test_safety_notes_are_on_every_plan_even_with_a_clear_screening(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    html = unescape(page(logged_in.get(builder_url(client_id))))
    for note in (STOP_NOTE, SAME_DAY_NOTE, EMERGENCY_NOTE):
        assert note in html
    logged_in.post(builder_url(client_id), data=builder_data("hamstring_stretch"))
    (plan,) = plans_of(app, client_id)
    assert {STOP_NOTE, SAME_DAY_NOTE, EMERGENCY_NOTE} <= set(plan.safety_notes)


# --- doses and notes ----------------------------------------------------------------------------


def test_adjusted_doses_and_notes_are_saved(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    data = builder_data(
        "hamstring_stretch",
        "straight_leg_raise",
        note="Walk ten minutes a day too.",
        **{
            "b_hamstring_stretch-hold_seconds": "20",
            "b_hamstring_stretch-repetitions": "2",
            "b_hamstring_stretch-note": "Use a towel round your foot.",
            "b_straight_leg_raise-sets": "3",
            "b_straight_leg_raise-repetitions": "12",
        },
    )
    logged_in.post(builder_url(client_id), data=data)
    (plan,) = plans_of(app, client_id)
    assert plan.note == "Walk ten minutes a day too."
    hamstring, raise_ = plan.items
    assert (hamstring.hold_seconds, hamstring.repetitions, hamstring.each) == (20, 2, Each.LEG)
    assert hamstring.note == "Use a towel round your foot."
    assert hamstring.dose_text == "Hold 20 seconds. Do it 2 times on each leg. Once a day."
    assert (raise_.sets, raise_.repetitions) == (3, 12)
    assert raise_.dose_text == describe_dose(
        Dose(hold_seconds=5, repetitions=12, sets=3, times_per_day=1, each=Each.LEG)
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hold_seconds": "500"}, "hold_seconds", "Hold for 1 to 120 seconds."),
        ({"repetitions": "0"}, "repetitions", "Give 1 to 50 repetitions."),
        ({"repetitions": "1e999"}, "repetitions", "Not a valid integer value."),
        ({"repetitions": "99999999999999999999"}, "repetitions", "Give 1 to 50 repetitions."),
        ({"times_per_week": "3"}, "times_per_week", "Give times a day or times a week, not both."),
        ({"minutes": "-5"}, "minutes", "Give 1 to 60 minutes."),
        ({"each": "arm"}, "each", "Not a valid choice."),
        ({"note": "x" * 1001}, "note", "Keep this under 1000 characters."),
    ],
)
def test_a_bad_dose_is_shown_beside_its_field_and_nothing_is_saved(
    app, logged_in, clinic_world, changes, field, message
):
    client_id = ready_client(app, clinic_world)
    key = "b_hamstring_stretch"
    data = builder_data(
        "hamstring_stretch",
        "cold_pack",
        note="Keep this plan note",
        **{f"{key}-{name}": value for name, value in changes.items()},
    )
    response = logged_in.post(builder_url(client_id), data=data)
    assert response.status_code == 200
    html = page(response)
    assert message in field_errors(html, row_name(html, key, field))
    assert form_errors(html)
    assert "Keep this plan note" in html  # the typing is kept
    for value in changes.values():
        assert unescape(value) in unescape(html) or value == "arm"
    assert plans_of(app, client_id) == []


def test_a_row_without_any_amount_is_refused(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    data = builder_data("cold_pack", **{"b_cold_pack-minutes": "", "b_cold_pack-times_per_day": ""})
    html = page(logged_in.post(builder_url(client_id), data=data))
    assert row_errors(html, "b_cold_pack") == [
        "Give at least one amount: a hold, a count or a time."
    ]
    assert plans_of(app, client_id) == []


def test_nothing_ticked_is_refused(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    html = page(logged_in.post(builder_url(client_id), data=builder_data(note="Only a note")))
    assert "Tick at least one item for the plan." in form_errors(html)
    assert "Only a note" in html
    assert plans_of(app, client_id) == []


def test_a_plan_holds_at_most_ten_items(app, owner, clinic_world):
    client_id = ready_client(app, clinic_world)
    item_id = factories.make_library_item(app, clinic_world.a.owner_id, title="Eleventh")
    key = f"c_{item_id}"
    data = builder_data(
        *ALL_CODES, **{f"{key}-include": "y", f"{key}-version": "1", f"{key}-repetitions": "5"}
    )
    html = page(owner.post(builder_url(client_id), data=data))
    assert "A plan holds at most 10 items: more is hard to keep up at home. Untick 1." in (
        form_errors(html)
    )
    assert plans_of(app, client_id) == []
    del data[f"{row_prefix(data, key)}-include"]
    assert owner.post(builder_url(client_id), data=data).status_code == 302
    (plan,) = plans_of(app, client_id)
    assert len(plan.items) == 10


def test_rows_not_ticked_are_not_checked(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    data = builder_data(
        "cold_pack", **{"b_heat_pack-minutes": "nonsense", "b_clamshell-repetitions": "900"}
    )
    assert logged_in.post(builder_url(client_id), data=data).status_code == 302
    (plan,) = plans_of(app, client_id)
    assert [item.builtin_code for item in plan.items] == ["cold_pack"]


def test_a_second_press_of_save_makes_one_plan(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    data = builder_data("cold_pack", creation_token="token-abc")
    first = logged_in.post(builder_url(client_id), data=data)
    second = logged_in.post(builder_url(client_id), data=data)
    assert location(first) == location(second)
    assert len(plans_of(app, client_id)) == 1


def test_an_oversized_token_is_replaced_not_stored(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    data = builder_data("cold_pack", creation_token="t" * 500)
    assert logged_in.post(builder_url(client_id), data=data).status_code == 302
    (plan,) = plans_of(app, client_id)
    assert len(plan.creation_token) <= 64


def test_an_item_changed_in_the_library_meanwhile_is_read_again(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    key = f"c_{a.library_item_id}"
    with app.test_request_context():
        owner = db.session.get_one(User, a.owner_id)
        login_user(owner)
        item = db.session.get_one(LibraryItem, a.library_item_id)
        details = ops.details_of(item.current)
        ops.revise_library_item(
            Actor.of(owner),
            item,
            ops.ItemDetails(**{**details.__dict__, "title": "Wall sit, new wording"}),
            expected_number=1,
        )
        db.session.commit()
    # The therapist had the page open with version 1.
    data = builder_data(**{f"{key}-include": "y", f"{key}-version": "1", f"{key}-repetitions": "5"})
    html = page(logged_in.post(builder_url(client_id), data=data))
    assert any("changed in the library" in message for message in row_errors(html, key))
    assert "Wall sit, new wording" in row_html(html, key)
    assert f'name="{row_name(html, key, "version")}" type="hidden" value="2"' in html
    assert plans_of(app, client_id) == []
    data[f"{row_prefix(data, key)}-version"] = "2"
    assert logged_in.post(builder_url(client_id), data=data).status_code == 302
    (plan,) = plans_of(app, client_id)
    assert (plan.items[0].title, plan.items[0].item_version) == ("Wall sit, new wording", 2)


def test_the_client_page_lists_plans_and_handouts(app, logged_in, clinic_world):
    a = clinic_world.a
    html = unescape(page(logged_in.get(f"/clients/{a.client_id}")))
    assert "Home-care plans" in html
    # This client has signs of a clot: no new plan until a doctor has cleared them.
    assert "A plan cannot be built yet" in html
    assert "Build a home-care plan" not in html
    assert f"/clients/{a.client_id}/homecare/{a.plan_id}" in html
    assert f"/clients/{a.client_id}/homecare/handouts/{a.handout_id}.pdf" in html
    assert "SecretBeta" not in html
    client_id = ready_client(app, clinic_world)
    html = page(logged_in.get(f"/clients/{client_id}"))
    assert "Build a home-care plan" in html
    assert "No plans yet." in html


def test_the_builder_page_lists_every_library_item(app, logged_in, clinic_world):
    a = clinic_world.a
    html = page(logged_in.get(builder_url(ready_client(app, clinic_world))))
    for code in ALL_CODES:
        assert f'id="item-b_{code}"' in html
    assert f'id="item-c_{a.library_item_id}"' in html
    assert f'id="item-c_{clinic_world.b.library_item_id}"' not in html
    assert count_rows(app, HomeCarePlan) == 2  # the two clinics' own; a GET saves nothing
    assert flashes(html) == []


# --- hostile text (the corpus of tests/test_bad_input.py, on a client a plan can be built for) ---


@pytest.mark.parametrize("field", ["note", "b_cold_pack-note"])
def test_hostile_text_in_the_builder_never_fails(app, logged_in, clinic_world, field):
    client_id = ready_client(app, clinic_world)
    for payload in PAYLOADS:
        data = builder_data("cold_pack", note="Walk every day.")
        row_note = f"{row_prefix(data, 'b_cold_pack')}-note"
        data[row_note if field == "b_cold_pack-note" else field] = payload
        response = logged_in.post(builder_url(client_id), data=data)
        where = f"{field}={payload[:30]!r}"
        assert response.status_code in (200, 302), where
        body = page(response)
        assert "<script>alert(" not in body, where
        assert "onerror=alert(1)>" not in body, where
        if response.status_code == 200:
            assert clean_text(payload), where  # only an over-long note is refused
            assert shown(payload) in body, f"{where}: the typed text was not kept"
            continue
        # Saved: the plan page shows it escaped, never as markup.
        plan_page = page(logged_in.get(location(response)))
        assert "<script>alert(" not in plan_page, where
        if clean_text(payload):
            assert shown(payload) in plan_page, where
