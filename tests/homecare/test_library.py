"""The clinic's own home-care items: owner only, every edit a new version, plans keep theirs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from clinic.domain.homecare import ITEMS
from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.models import (
    HomeCarePlan,
    HomeCarePlanItem,
    ImmutableRecordError,
    LibraryItem,
    LibraryItemVersion,
)
from tests import factories
from tests.audit import entries, new_entries
from tests.auth import count_rows, field_errors, flashes, form_errors, input_value, location, page
from tests.homecare import builder_data, has_tick_box, ready_client, row_html
from tests.test_bad_input import library_item_data

LIBRARY = "/homecare/library/"


def versions_of(app, item_id: int) -> list[LibraryItemVersion]:
    with app.app_context():
        rows = db.session.scalars(
            select(LibraryItemVersion)
            .where(LibraryItemVersion.item_id == item_id)
            .order_by(LibraryItemVersion.number)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def test_the_library_lists_built_in_and_own_items(owner, clinic_world):
    html = page(owner.get(LIBRARY))
    for item in ITEMS:
        assert item.title in html
    assert "SecretAlpha wall sit" in html
    assert "SecretBeta" not in html


def test_the_owner_adds_an_item_as_version_1(app, owner):
    data = library_item_data(
        title="Step-ups",
        excluded_by=["acute_flare", "recent_knee_injury"],
        each="leg",
        cautions="Hold a rail.\nStop if it hurts.",
    )
    response = owner.post(f"{LIBRARY}new", data=data)
    item_id = int(location(response).rsplit("/", 1)[1])
    (version,) = versions_of(app, item_id)
    assert version.number == 1
    assert version.title == "Step-ups"
    assert version.steps == [
        "Stand with your back to a wall.",
        "Slide down a little.",
        "Hold, then slide up.",
    ]
    assert version.cautions == ["Hold a rail.", "Stop if it hurts."]
    assert version.excluded_by == ["acute_flare", "recent_knee_injury"]
    assert (version.hold_seconds, version.repetitions, version.times_per_day) == (10, 5, 1)
    assert version.each is not None and version.each.value == "leg"
    html = page(owner.get(location(response)))
    assert "The item was added to the library as version 1." in flashes(html)
    assert "Knee flare-up" in html


def test_each_edit_makes_a_new_version_and_keeps_the_old(app, owner, clinic_world):
    item_id = clinic_world.a.library_item_id
    url = f"{LIBRARY}{item_id}/edit"
    assert input_value(page(owner.get(url)), "version") == "1"
    response = owner.post(url, data=library_item_data(title="Wall sit, shallow", version="1"))
    assert location(response) == f"{LIBRARY}{item_id}"
    response = owner.post(url, data=library_item_data(title="Wall sit, deeper", version="2"))
    assert response.status_code == 302
    first, second, third = versions_of(app, item_id)
    assert (first.number, first.title) == (1, "SecretAlpha wall sit")
    assert (second.number, second.title) == (2, "Wall sit, shallow")
    assert (third.number, third.title) == (3, "Wall sit, deeper")
    with app.app_context():
        assert db.session.get_one(LibraryItem, item_id).current_number == 3
    html = page(owner.get(f"{LIBRARY}{item_id}"))
    for text in ("Version 1", "Version 2", "Version 3", "SecretAlpha wall sit"):
        assert text in html


def test_saving_without_a_change_makes_no_version(app, owner, clinic_world):
    item_id = clinic_world.a.library_item_id
    html = page(owner.get(f"{LIBRARY}{item_id}/edit"))
    data = {
        "version": "1",
        "title": "SecretAlpha wall sit",
        "kind": "strengthen",
        "purpose": "This makes the front of your thigh stronger.",
        "steps": "Stand with your back against a wall.\r\nSlide down a little, as if to sit."
        "\r\nHold, then slide back up.",
        "cautions": "Stop if your knee hurts.",
        "hold_seconds": "10",
        "repetitions": "5",
        "times_per_day": "1",
        # What the form shows for the item's declaration (tests.factories).
        "areas": ["knee", "thigh"],
        "uses_pressure": "no",
        "weight_bearing": "yes",
    }
    assert "Stand with your back against a wall." in html
    assert '<input checked id="weight_bearing-0"' in html
    response = owner.post(f"{LIBRARY}{item_id}/edit", data=data)
    assert response.status_code == 302
    assert len(versions_of(app, item_id)) == 1
    assert "Nothing was changed" in " ".join(flashes(page(owner.get(location(response)))))


def test_a_plan_keeps_the_version_it_used(app, owner, clinic_world):
    a = clinic_world.a
    item_id = a.library_item_id
    owner.post(f"{LIBRARY}{item_id}/edit", data=library_item_data(title="Renamed", version="1"))
    with app.app_context():
        plan = db.session.get_one(HomeCarePlan, a.plan_id)
        own = next(i for i in plan.items if i.builtin_code is None)
        assert (own.title, own.item_version) == ("SecretAlpha wall sit", 1)
        version = db.session.get_one(LibraryItemVersion, own.library_version_id)
        assert (version.number, version.title) == (1, "SecretAlpha wall sit")
    html = page(owner.get(f"/clients/{a.client_id}/homecare/{a.plan_id}"))
    assert "SecretAlpha wall sit" in html
    assert "Renamed" not in html
    # A new plan offers the new version.
    builder = page(owner.get(f"/clients/{ready_client(app, clinic_world)}/homecare/new"))
    assert "Renamed" in row_html(builder, f"c_{item_id}")


def test_versions_and_plans_are_never_changed(app, clinic_world):
    with app.app_context():
        version = db.session.scalars(select(LibraryItemVersion)).first()
        assert version is not None
        version.title = "Changed in place"
        with pytest.raises(ImmutableRecordError):
            db.session.flush()
        db.session.rollback()
        plan_item = db.session.scalars(select(HomeCarePlanItem)).first()
        assert plan_item is not None
        db.session.delete(plan_item)
        with pytest.raises(ImmutableRecordError):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hold_seconds": "500"}, "hold_seconds", "Hold for 1 to 120 seconds."),
        ({"repetitions": "0"}, "repetitions", "Give 1 to 50 repetitions."),
        ({"repetitions": "99999999999999999999999"}, "repetitions", "Give 1 to 50 repetitions."),
        ({"repetitions": "ten"}, "repetitions", "Not a valid integer value."),
        ({"times_per_week": "2"}, "times_per_week", "Give times a day or times a week, not both."),
        (
            {"sets": "2", "repetitions": ""},
            "repetitions",
            "Give how many times to do it in each set.",
        ),
        ({"title": ""}, "title", "Give the item a title."),
        ({"kind": "cartwheel"}, "kind", "Not a valid choice."),
        ({"steps": ""}, "steps", "Write at least one step."),
        ({"steps": "\n".join(["Step."] * 21)}, "steps", "Keep it to 20 steps or fewer."),
        ({"steps": "x" * 401}, "steps", "Keep each line under 400 characters."),
        ({"excluded_by": ["no_such_code"]}, "excluded_by", "is not a valid choice"),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(
    app, owner, clinic_world, changes: dict[str, Any], field: str, message: str
):
    item_id = clinic_world.a.library_item_id
    before = count_rows(app, LibraryItemVersion)
    for url, version in ((f"{LIBRARY}new", "0"), (f"{LIBRARY}{item_id}/edit", "1")):
        response = owner.post(url, data=library_item_data(version=version, **changes))
        assert response.status_code == 200, url
        html = page(response)
        assert any(message in error for error in field_errors(html, field)), (url, html[-3000:])
        assert form_errors(html)
    assert count_rows(app, LibraryItemVersion) == before


def test_no_amount_at_all_is_refused(app, owner):
    data = library_item_data(hold_seconds="", repetitions="", times_per_day="")
    html = page(owner.post(f"{LIBRARY}new", data=data))
    assert "Give at least one amount: a hold, a count or a time." in form_errors(html)
    assert count_rows(app, LibraryItem) == 2


def test_a_stale_edit_answers_409_and_keeps_the_typing(app, owner, clinic_world):
    item_id = clinic_world.a.library_item_id
    url = f"{LIBRARY}{item_id}/edit"
    assert owner.post(url, data=library_item_data(title="Theirs", version="1")).status_code == 302
    response = owner.post(url, data=library_item_data(title="Mine", version="1"))
    assert response.status_code == 409
    html = page(response)
    assert 'value="Mine"' in html
    assert "Theirs" in html  # shown below the form
    assert input_value(html, "version") == "2"
    assert len(versions_of(app, item_id)) == 2
    # Saving again on purpose makes the owner's text the next version.
    assert owner.post(url, data=library_item_data(title="Mine", version="2")).status_code == 302
    assert [v.title for v in versions_of(app, item_id)][-1] == "Mine"


def test_a_save_that_loses_a_race_answers_409(app, owner, clinic_world, monkeypatch):
    item_id = clinic_world.a.library_item_id
    check_item = homecare_ops._check_item

    def another_save_lands_meanwhile(details: homecare_ops.ItemDetails) -> None:
        # Another owner's save is written after this one read the item, before it writes.
        check_item(details)
        items = LibraryItem.__table__
        db.session.execute(
            update(items).where(items.c.id == item_id).values(version=items.c.version + 1)
        )

    monkeypatch.setattr(homecare_ops, "_check_item", another_save_lands_meanwhile)
    before = entries(app)
    response = owner.post(
        f"{LIBRARY}{item_id}/edit", data=library_item_data(title="Mine", version="1")
    )
    assert response.status_code == 409
    html = page(response)
    assert 'value="Mine"' in html
    assert "Someone saved a newer version of this item" in " ".join(form_errors(html))
    assert len(versions_of(app, item_id)) == 1
    assert new_entries(app, before) == []


def test_a_retired_item_leaves_the_builder_and_can_come_back(app, owner, clinic_world):
    a = clinic_world.a
    item_id = a.library_item_id
    builder = f"/clients/{ready_client(app, clinic_world)}/homecare/new"
    assert f'id="item-c_{item_id}"' in page(owner.get(builder))
    assert owner.post(f"{LIBRARY}{item_id}/archive").status_code == 302
    assert f'id="item-c_{item_id}"' not in page(owner.get(builder))
    assert "Retired" in page(owner.get(LIBRARY))
    owner.post(f"{LIBRARY}{item_id}/restore")
    assert f'id="item-c_{item_id}"' in page(owner.get(builder))


def test_an_own_item_is_left_out_by_the_findings_the_owner_picked(app, owner, clinic_world):
    a = clinic_world.a
    item_id = factories.make_library_item(
        app, a.owner_id, title="Stair climb", excluded_by=frozenset({"osteoporosis"})
    )
    fragile = ready_client(app, clinic_world, osteoporosis=True)
    sturdy = ready_client(app, clinic_world)
    key = f"c_{item_id}"
    row = row_html(page(owner.get(f"/clients/{fragile}/homecare/new")), key)
    assert "Left out" in row
    assert "Left out: thin or weak bones" in row
    assert not has_tick_box(page(owner.get(f"/clients/{fragile}/homecare/new")), key)
    assert "Left out" not in row_html(page(owner.get(f"/clients/{sturdy}/homecare/new")), key)
    # Ticking it anyway (a crafted post) is refused beside the row, and nothing is saved.
    data = builder_data(**{f"{key}-include": "y", f"{key}-version": "1", f"{key}-repetitions": "5"})
    response = owner.post(f"/clients/{fragile}/homecare/new", data=data)
    assert response.status_code == 200
    assert "Not for this client" in row_html(page(response), key)
    assert count_rows(app, HomeCarePlan, HomeCarePlan.client_id == fragile) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("GET", "new"),
        ("POST", "new"),
        ("GET", "{item}"),
        ("GET", "{item}/edit"),
        ("POST", "{item}/edit"),
        ("POST", "{item}/archive"),
        ("POST", "{item}/restore"),
    ],
)
def test_therapists_get_403(app, logged_in, clinic_world, method, path):
    url = LIBRARY + path.format(item=clinic_world.a.library_item_id)
    if method == "POST":
        response = logged_in.post(url, data=library_item_data(version="1"))
    else:
        response = logged_in.get(url)
    assert response.status_code == 403
    assert count_rows(app, LibraryItemVersion) == 2
