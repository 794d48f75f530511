"""The client page shows the latest visits and links to all of them, a page at a time."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from clinic import clock, create_app
from clinic.extensions import db
from clinic.models import AuditAction, TechniqueEntry, Visit, VisitFollowUp
from clinic.screening import operations as screening_ops
from clinic.visits.operations import RECENT_VISITS
from clinic.visits.views import VISITS_PER_PAGE
from tests import factories
from tests.audit import entries, new_entries
from tests.conftest import ClinicTestClient, empty_postgres_tables, make_test_config


@dataclass(frozen=True)
class History:
    """One world for the module: every test here only reads (and writes audit entries)."""

    app: Flask
    client: ClinicTestClient
    world: factories.World
    # Twelve visits, one a day back from today: today's and the oldest are unsigned drafts.
    twelve: int
    twelve_visits: list[int]  # newest first
    twelve_plan: int
    # Twenty-seven signed visits, one a day from yesterday back: two pages of the visits list.
    long: int
    long_visits: list[int]  # newest first


@pytest.fixture(scope="module")
def history(
    backend: str, database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    if backend == "sqlite":
        copy = tmp_path_factory.mktemp("visits") / "clinic.sqlite3"
        shutil.copyfile(database_template, copy)
        url = f"sqlite:///{copy}"
    else:
        url = database_template
        empty_postgres_tables(url)
    app: Flask = create_app(make_test_config(url))
    app.test_client_class = ClinicTestClient
    world = factories.make_world(app)
    a = world.a
    today = clock.today()

    twelve = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Twelve")
    factories.make_screening(app, twelve, a.therapist_id)
    twelve_visits = [
        factories.make_visit(
            app,
            twelve,
            a.therapist_id,
            signed=days_ago not in (0, 11),
            visit_on=today - timedelta(days=days_ago),
            subjective=f"Twelve day {days_ago}",
        )
        for days_ago in range(12)
    ]
    twelve_plan = factories.make_plan(app, twelve, a.therapist_id)

    long = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Long")
    long_visits = [
        factories.make_visit(
            app, long, a.therapist_id, signed=True, visit_on=today - timedelta(days=days_ago)
        )
        for days_ago in range(1, 28)
    ]

    client = app.test_client()
    factories.sign_in(app, client, a.therapist_id)
    yield History(app, client, world, twelve, twelve_visits, twelve_plan, long, long_visits)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def visit_links(page: str, client_id: int) -> list[int]:
    """Return the ids of the visit notes a page links to, in page order."""
    return [int(found) for found in re.findall(rf'href="/clients/{client_id}/visits/(\d+)"', page)]


def get_page(history: History, url: str) -> str:
    response = history.client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


# --- the client page ---------------------------------------------------------------------------


def test_the_client_page_shows_the_ten_newest_visits_and_links_to_all(history: History) -> None:
    page = get_page(history, f"/clients/{history.twelve}")
    shown = visit_links(page, history.twelve)
    # The ten newest, newest first; the eleventh is left for the visits list...
    assert shown[:RECENT_VISITS] == history.twelve_visits[:RECENT_VISITS]
    assert history.twelve_visits[10] not in shown
    assert f'href="/clients/{history.twelve}/visits/">All 12 visits</a>' in page


def test_unsigned_drafts_stay_on_the_client_page(history: History) -> None:
    page = get_page(history, f"/clients/{history.twelve}")
    today_draft, oldest_draft = history.twelve_visits[0], history.twelve_visits[11]
    shown = visit_links(page, history.twelve)
    # Today's draft is in its place at the top, with its tag, as before.
    assert shown[0] == today_draft
    first_row = page.split(f'/visits/{today_draft}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="tag tag--draft">Draft</span>' in first_row
    # A draft further back than the ten newest is not left out of sight: it follows them.
    assert shown == [*history.twelve_visits[:RECENT_VISITS], oldest_draft]
    assert "Earlier drafts, not signed yet" in page
    last_row = page.split(f'/visits/{oldest_draft}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="tag tag--draft">Draft</span>' in last_row


def test_a_short_history_has_no_link_to_more(history: History) -> None:
    a = history.world.a
    page = get_page(history, f"/clients/{a.client_id}")
    assert visit_links(page, a.client_id) == [a.visit_id]
    assert f'href="/clients/{a.client_id}/visits/"' not in page
    assert "Earlier drafts" not in page


@pytest.fixture
def loaded_rows(history: History) -> Iterator[dict[str, int]]:
    """Count the visit and technique entry rows the database hands back while it is in use,
    whether read as records or as plain values."""
    counts = {"visits": 0, "entries": 0}
    tables = {Visit.__tablename__: "visits", TechniqueEntry.__tablename__: "entries"}

    def count_rows(state: ORMExecuteState) -> Any:
        if not state.is_select:
            return None
        first = state.statement.selected_columns[0]
        kind = tables.get(getattr(getattr(first, "table", None), "name", ""))
        if kind is None:
            return None
        frozen = state.invoke_statement().freeze()
        counts[kind] += len(frozen().all())
        return frozen()

    event.listen(Session, "do_orm_execute", count_rows)
    yield counts
    event.remove(Session, "do_orm_execute", count_rows)


def test_the_client_page_reads_ten_visits_however_long_the_history(
    history: History, loaded_rows: dict[str, int]
) -> None:
    page = get_page(history, f"/clients/{history.long}")
    # The limit is in the query: the 17 older visits are never read, not read and dropped.
    assert loaded_rows == {"visits": RECENT_VISITS, "entries": RECENT_VISITS}
    assert visit_links(page, history.long) == history.long_visits[:RECENT_VISITS]
    assert "All 27 visits" in page


@pytest.fixture
def screening_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each time the screening in force is worked out for a client."""
    calls: list[int] = []
    real: Callable[..., Any] = screening_ops._in_force

    def counting(client: Any, day: Any) -> Any:
        calls.append(client.id)
        return real(client, day)

    monkeypatch.setattr(screening_ops, "_in_force", counting)
    return calls


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/visits/",
        "/visits/new",
        "/visits/{today_draft}/edit",
        "/visits/{today_draft}",
        "/progress",
        "/homecare/{plan}",
    ],
)
def test_each_client_page_loads_the_screening_once(
    history: History, screening_loads: list[int], path: str
) -> None:
    url = f"/clients/{history.twelve}" + path.format(
        today_draft=history.twelve_visits[0], plan=history.twelve_plan
    )
    get_page(history, url)
    assert screening_loads == [history.twelve]


# --- the visits list ---------------------------------------------------------------------------


def test_the_visits_list_pages_newest_first_oldest_last(history: History) -> None:
    base = f"/clients/{history.long}/visits/"
    first = get_page(history, base)
    second = get_page(history, f"{base}?page=2")
    assert visit_links(first, history.long) == history.long_visits[:VISITS_PER_PAGE]
    assert visit_links(second, history.long) == history.long_visits[VISITS_PER_PAGE:]
    assert visit_links(second, history.long)[-1] == history.long_visits[-1]
    assert "Page 1 of 2" in first
    assert f'href="{base}?page=2" rel="next">Older</a>' in first
    assert "Page 2 of 2" in second
    assert f'href="{base}?page=1" rel="prev">Newer</a>' in second
    assert "27 visits, newest first" in first
    # A page past the end shows the last one.
    assert visit_links(get_page(history, f"{base}?page=9"), history.long) == visit_links(
        second, history.long
    )


def test_the_visits_list_shows_drafts_like_the_client_page(history: History) -> None:
    page = get_page(history, f"/clients/{history.twelve}/visits/")
    assert visit_links(page, history.twelve) == history.twelve_visits
    assert page.count('class="tag tag--draft">Draft</span>') == 2
    assert "Pain before → after" in page
    assert "Earlier drafts" not in page


def test_the_visits_list_of_another_clinics_client_is_not_found(history: History) -> None:
    before = entries(history.app)
    other = history.world.b.client_id
    assert history.client.get(f"/clients/{other}/visits/").status_code == 404
    assert history.client.get(f"/clients/{other}/visits/?page=2").status_code == 404
    # Only the refusals are on file: nothing was shown.
    written = new_entries(history.app, before)
    assert [e.action for e in written] == [AuditAction.ACCESS_REFUSED] * 2


def test_the_visits_list_needs_signing_in(history: History) -> None:
    anonymous = history.app.test_client()
    response = anonymous.get(f"/clients/{history.long}/visits/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert "27 visits" not in response.get_data(as_text=True)


def test_viewing_the_visits_list_is_on_file(history: History) -> None:
    before = entries(history.app)
    get_page(history, f"/clients/{history.long}/visits/")
    get_page(history, f"/clients/{history.long}/visits/?page=2")
    written = [
        (e.action, e.record_type, e.client_id, e.user_id, e.summary)
        for e in new_entries(history.app, before)
    ]
    therapist = history.world.a.therapist_id
    assert written == [
        (AuditAction.VIEW, "visit_list", history.long, therapist, "Client's visits list"),
        (AuditAction.VIEW, "visit_list", history.long, therapist, "Client's visits list: page 2"),
    ]


def test_open_flags_however_far_back_are_in_sight_and_followed_ones_are_not(
    app: Flask, client: ClinicTestClient, clinic_world: factories.World
) -> None:
    a = clinic_world.a
    today = clock.today()
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Flagged")
    factories.make_screening(app, client_id, a.therapist_id)
    flagged = {0: "bruising", 10: "dizziness", 11: "bruising"}
    visits = {
        days_ago: factories.make_visit(
            app,
            client_id,
            a.therapist_id,
            signed=True,
            visit_on=today - timedelta(days=days_ago),
            adverse_flag=days_ago in flagged,
            adverse_response=flagged.get(days_ago, "none"),
        )
        for days_ago in range(12)
    }
    with app.app_context():
        # Day 10's flag has its follow-up; today's and day 11's have none.
        db.session.add(
            VisitFollowUp(
                clinic_id=a.clinic_id, visit_id=visits[10], author_id=a.therapist_id, text="Fine"
            )
        )
        db.session.commit()
    factories.sign_in(app, client, a.therapist_id)
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    banners = page.split('id="visits"', 1)[1].split('<div class="actions">', 1)[0]
    assert banners.count("Follow-up needed.") == 2
    assert f'/visits/{visits[0]}"' in banners and f'/visits/{visits[11]}"' in banners
    assert f'/visits/{visits[10]}"' not in banners
    # The table: the latest ten, today's flag open; day 11 (signed, older) is not a row.
    table = page.split('id="visits"', 1)[1]
    assert visit_links(table.split('<div class="actions">', 1)[1], client_id) == [
        visits[days_ago] for days_ago in range(10)
    ]
    assert "Earlier drafts" not in page
    first_row = table.split(f'/visits/{visits[0]}"', 2)[2].split("</tr>", 1)[0]
    assert 'tag--refer">flagged' in first_row
