"""Progress pages: scores in, charts, tables and summaries out; CSV; the clinic overview."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from clinic.domain.intake import AffectedKnee
from clinic.domain.outcomes import KOOS_JR_ITEMS, LEFS_ITEMS, Measure
from clinic.extensions import db
from clinic.models import Client, OutcomeAssessment, PainLogEntry
from tests import factories

TODAY = date.today()


def client_with_visits(app, world, befores_afters, *, last_name="Progress"):
    a = world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name=last_name)
    for weeks_ago, (before, after) in zip(
        range(len(befores_afters), 0, -1), befores_afters, strict=True
    ):
        factories.make_visit(
            app, client_id, a.therapist_id, signed=True,
            visit_on=TODAY - timedelta(weeks=weeks_ago), pain_before_left=before, pain_after_left=after,
        )  # fmt: skip
    return client_id


def svgs(page: str) -> list[ET.Element]:
    found = []
    rest = page
    while "<svg" in rest:
        start = rest.index("<svg")
        end = rest.index("</svg>", start) + len("</svg>")
        found.append(ET.fromstring(rest[start:end]))
        rest = rest[end:]
    return found


def count_points(svg: ET.Element, series: str) -> int:
    return sum(1 for el in svg.iter() if el.get("data-series") == series)


def test_progress_page_shows_chart_table_and_summary(app, logged_in, clinic_world):
    client_id = client_with_visits(app, clinic_world, [(8, 6), (7, 5), (5, 3), (4, 2)])
    logged_in.post(
        f"/clients/{client_id}/progress/pain-log",
        data={
            "logged_on": (TODAY - timedelta(days=2)).isoformat(),
            "knee": "left",
            "score": "3",
            "note": "Walked 2 km",
        },
    )
    page = logged_in.get(f"/clients/{client_id}/progress").get_data(as_text=True)
    (chart,) = svgs(page)
    assert count_points(chart, "Before the visit") == 4
    assert count_points(chart, "After the visit") == 4
    assert count_points(chart, "Home log") == 1
    table = page.split('data-table="pain-left"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 4 + 1
    assert "Walked 2 km" in table
    assert "8 on" in page and "4 on" in page
    assert "Clinically important improvement" in page
    assert "Average change within a visit: -2" in page


def pain_table_dates(page: str) -> list[str]:
    table = page.split('data-table="pain-left"', 1)[1].split("</table>", 1)[0]
    return [row.split("<td>", 1)[1].split("</td>", 1)[0] for row in table.split("<tr>")[2:]]


def test_a_long_history_tables_the_latest_scores_and_charts_them_all(app, logged_in, clinic_world):
    scores = [(8 - i % 5, 5 - i % 4) for i in range(13)]
    client_id = client_with_visits(app, clinic_world, scores)
    page = logged_in.get(f"/clients/{client_id}/progress").get_data(as_text=True)
    (chart,) = svgs(page)
    assert count_points(chart, "Before the visit") == 13
    shown = pain_table_dates(page)
    assert len(shown) == 10
    full = logged_in.get(f"/clients/{client_id}/progress?all=1").get_data(as_text=True)
    every = pain_table_dates(full)
    assert len(every) == 13
    assert shown == every[3:]  # the latest ten, still oldest first
    assert "The latest 10 of 13 scores." in page
    assert f'href="/clients/{client_id}/progress?all=1#pain-left-title">Show all 13</a>' in page
    assert "All 13 scores." in full and "Show the latest 10 only" in full
    # The summary still runs from the first visit, which the short table no longer shows.
    assert "Small but noticeable improvement" in page  # 8 -> 6


def test_a_short_history_has_no_note_about_the_table(app, logged_in, clinic_world):
    client_id = client_with_visits(app, clinic_world, [(6, 4)] * 10)
    page = logged_in.get(f"/clients/{client_id}/progress").get_data(as_text=True)
    assert len(pain_table_dates(page)) == 10
    assert "table-note" not in page


@pytest.mark.parametrize(
    ("befores", "label"),
    [
        ([10, 8], "Small but noticeable improvement"),  # 2 points but only 20 %
        ([10, 7], "Clinically important improvement"),
        ([7, 6], "No meaningful change"),
        ([3, 5], "Pain is higher than at the start"),
    ],
)
def test_summary_names_the_change_by_the_published_thresholds(
    app, logged_in, clinic_world, befores, label
):
    client_id = client_with_visits(app, clinic_world, [(b, b) for b in befores])
    page = logged_in.get(f"/clients/{client_id}/progress").get_data(as_text=True)
    assert label.lower() in page.lower()


def test_koos_jr_is_scored_by_the_table(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    data = {"taken_on": TODAY.isoformat(), "knee": "left"}
    data.update({f"item-{item.value}": "2" for item in KOOS_JR_ITEMS})
    response = logged_in.post(f"/clients/{client_id}/progress/koos-jr/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        assessment = db.session.scalars(select(OutcomeAssessment)).one()
        assert assessment.measure is Measure.KOOS_JR
        assert assessment.raw_score == 14
        assert assessment.score == Decimal("52.465")
    page = logged_in.get(f"/clients/{client_id}/progress").get_data(as_text=True)
    assert "<td>52.5</td>" in page
    assert any(count_points(svg, "Left knee") == 1 for svg in svgs(page))


def post_koos_jr(client, client_id, answers, taken_on=TODAY, knee="left"):
    data = {"taken_on": taken_on.isoformat(), "knee": knee}
    data.update(
        {
            f"item-{item.value}": str(answer)
            for item, answer in zip(KOOS_JR_ITEMS, answers, strict=True)
        }
    )
    response = client.post(f"/clients/{client_id}/progress/koos-jr/new", data=data)
    assert response.status_code == 302


def koos_table_scores(page: str) -> list[str]:
    table = page.split('data-table="koos_jr"', 1)[1].split("</table>", 1)[0]
    return [row.split("<td>")[4].split("</td>")[0] for row in table.split("<tr>")[2:]]


def tooltips(page: str, series: str) -> list[str]:
    return [
        title.text or ""
        for svg in svgs(page)
        for element in svg.iter()
        if element.get("data-series") == series
        for title in element
    ]


@pytest.mark.parametrize(
    ("answers", "raw", "stored", "shown"),
    [
        ((3, 3, 3, 3, 3, 0, 0), 15, "50.012", "50.0"),
        ((2, 2, 2, 2, 2, 2, 2), 14, "52.465", "52.5"),
        ((1, 0, 0, 0, 0, 0, 0), 1, "91.975", "92.0"),
        ((0, 0, 0, 0, 0, 0, 0), 0, "100.000", "100.0"),
        ((4, 4, 4, 4, 4, 4, 4), 28, "0.000", "0.0"),
    ],
)
def test_a_koos_jr_score_shows_to_one_decimal_and_is_stored_exact(
    app, logged_in, clinic_world, answers, raw, stored, shown
):
    client_id = clinic_world.a.client_id
    post_koos_jr(logged_in, client_id, answers)
    with app.app_context():
        assessment = db.session.scalars(select(OutcomeAssessment)).one()
        assert (assessment.raw_score, assessment.score) == (raw, Decimal(stored))
    page = logged_in.get(f"/clients/{client_id}/progress").get_data(as_text=True)
    assert koos_table_scores(page) == [shown]
    summary = page.split('id="summary-title"', 1)[1].split("</ul>", 1)[0]
    assert f"{shown} on" in summary
    assert [tip.split(": ", 1)[1].split(" on ", 1)[0] for tip in tooltips(page, "Left knee")] == [
        shown
    ]
    assert stored not in page, "the screen shows the rounded score only"
    rows = list(
        csv.reader(io.StringIO(logged_in.get(f"/clients/{client_id}/progress.csv").data.decode()))
    )
    (koos,) = [row for row in rows if row[1] == "koos_jr"]
    assert Decimal(koos[3]) == Decimal(stored), "the export keeps the exact score"
    assert koos[4] == str(raw)


def test_a_koos_jr_change_reads_rounded(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    post_koos_jr(logged_in, client_id, (3, 3, 3, 3, 3, 0, 0), taken_on=TODAY - timedelta(weeks=4))
    post_koos_jr(logged_in, client_id, (2, 2, 2, 2, 2, 0, 0))
    page = logged_in.get(f"/clients/{client_id}/progress").get_data(as_text=True)
    summary = page.split('id="summary-title"', 1)[1].split("</ul>", 1)[0]
    assert "50.0 on" in summary
    assert "61.6 on" in summary
    assert "(change +11.6)" in summary
    for exact in ("50.012", "61.583", "11.571"):
        assert exact not in page
    assert koos_table_scores(page) == ["50.0", "61.6"]


def test_a_missing_questionnaire_item_is_refused_beside_it(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    data = {"taken_on": TODAY.isoformat()}
    data.update({f"item-{item.value}": "3" for item in LEFS_ITEMS[:-1]})
    response = logged_in.post(f"/clients/{client_id}/progress/lefs/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    missing = LEFS_ITEMS[-1].value
    assert "Every question needs an answer." in page.split(f'id="item-{missing}-error"', 1)[1][:200]
    assert page.count("checked") == len(LEFS_ITEMS) - 1, "the answers given are kept"
    with app.app_context():
        assert db.session.scalar(select(func.count(OutcomeAssessment.id))) == 0


@pytest.mark.parametrize(("answer", "total"), [("0", 0), ("4", 80), ("2", 40)])
def test_lefs_bounds(app, logged_in, clinic_world, answer, total):
    data = {"taken_on": TODAY.isoformat()}
    data.update({f"item-{item.value}": answer for item in LEFS_ITEMS})
    assert (
        logged_in.post(
            f"/clients/{clinic_world.a.client_id}/progress/lefs/new", data=data
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.scalars(select(OutcomeAssessment)).one().raw_score == total


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("item-pain_stairs", "5", "Not a valid choice"), ("item-pain_stairs", "-1", "Not a valid choice"),
     ("knee", "", "Choose the knee."), ("taken_on", (TODAY + timedelta(days=1)).isoformat(), "cannot be in the future"),
     ("taken_on", "2026-02-30", "Not a valid date")],
)  # fmt: skip
def test_bad_questionnaire_input(app, logged_in, clinic_world, field, value, message):
    data = {"taken_on": TODAY.isoformat(), "knee": "right"}
    data.update({f"item-{item.value}": "1" for item in KOOS_JR_ITEMS})
    data[field] = value
    response = logged_in.post(
        f"/clients/{clinic_world.a.client_id}/progress/koos-jr/new", data=data
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True).split(f'id="{field}-error"', 1)[1][:200]
    with app.app_context():
        assert db.session.scalar(select(func.count(OutcomeAssessment.id))) == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [({"score": "11"}, "score", "0 to 10"), ({"score": "x"}, "score", "Not a valid integer"),
     ({"knee": ""}, "knee", "Choose the knee."), ({"logged_on": (TODAY + timedelta(days=3)).isoformat()}, "logged_on", "future"),
     ({"logged_on": "1800-01-01"}, "logged_on", "before the client was born")],
)  # fmt: skip
def test_bad_home_log_input(app, logged_in, clinic_world, data, field, message):
    payload = {"logged_on": TODAY.isoformat(), "knee": "left", "score": "4", "note": "kept note"}
    payload.update(data)
    response = logged_in.post(
        f"/clients/{clinic_world.a.client_id}/progress/pain-log", data=payload
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page.split(f'id="{field}-error"', 1)[1][:200]
    assert "kept note" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(PainLogEntry.id))) == 0


def test_csv_export(app, logged_in, clinic_world):
    client_id = client_with_visits(app, clinic_world, [(6, 4), (5, 3)])
    logged_in.post(
        f"/clients/{client_id}/progress/pain-log",
        data={
            "logged_on": TODAY.isoformat(),
            "knee": "left",
            "score": "2",
            "note": '=HYPERLINK("x") ünïcode',
        },
    )
    data = {"taken_on": TODAY.isoformat()}
    data.update({f"item-{item.value}": "3" for item in LEFS_ITEMS})
    logged_in.post(f"/clients/{client_id}/progress/lefs/new", data=data)
    response = logged_in.get(f"/clients/{client_id}/progress.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8"))))
    assert rows[0] == ["date", "measure", "knee", "value", "raw_score", "source", "note"]
    body = rows[1:]
    assert len(body) == 2 * 2 + 1 + 1
    for row in body:
        date.fromisoformat(row[0])
    assert [r[3] for r in body if r[5] == "visit before"] == ["6", "5"]
    (log,) = [r for r in body if r[5] == "home log"]
    assert log[6] == '\'=HYPERLINK("x") ünïcode'
    (lefs,) = [r for r in body if r[1] == "lefs"]
    assert lefs[3] == "60"


def overview_card(page: str, link: str) -> str:
    """Return the text of the overview card that links to a list."""
    cards = page.split('<div class="cards">', 1)[1]
    return cards.split(f'href="{link}"', 1)[1].split("</a>", 1)[0]


def card_number(page: str, link: str) -> str:
    return overview_card(page, link).split('card__number">', 1)[1].split("<", 1)[0]


def test_overview_counts_and_links(app, client, clinic_world):
    a = clinic_world.a
    factories.sign_in(app, client, a.therapist_id)
    before = client.get("/").get_data(as_text=True)
    links = ("/clients/", "/visits/this-month", "/visits/unsigned", "/clients/?screening=refer")
    start = {link: int(card_number(before, link)) for link in links}

    client_with_visits(app, clinic_world, [(8, 6), (4, 3)], last_name="Better")
    client_with_visits(app, clinic_world, [(5, 5), (5, 4)], last_name="Same")
    factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Gone", archived=True)
    refer_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Referred")
    factories.make_screening(app, refer_id, a.therapist_id, fever_infection=True)
    factories.make_visit(
        app, refer_id, a.therapist_id, visit_on=TODAY.replace(day=1) - timedelta(days=1)
    )
    page = client.get("/").get_data(as_text=True)

    assert int(card_number(page, "/clients/")) == start["/clients/"] + 3  # not the archived one
    # Two of each new client's visits were 1 and 2 weeks ago; the other was last month.
    in_month = 2 * sum(1 for w in (1, 2) if (TODAY - timedelta(weeks=w)).month == TODAY.month)
    assert int(card_number(page, "/visits/this-month")) == start["/visits/this-month"] + in_month
    assert int(card_number(page, "/visits/unsigned")) == start["/visits/unsigned"] + 1
    assert (
        int(card_number(page, "/clients/?screening=refer"))
        == start["/clients/?screening=refer"] + 1
    )
    improved = overview_card(page, "/clients/?progress=improved")
    assert "1 of 2 clients" in improved  # Better improved, Same did not
    assert "50 %" in improved
    listing = client.get("/clients/?progress=improved").get_data(as_text=True)
    assert "Better," in listing
    assert "Same," not in listing
    month = client.get("/visits/this-month").get_data(as_text=True)
    shown = month.count("tag--signed") + month.count("tag--draft")
    assert shown == int(card_number(page, "/visits/this-month"))


def test_overview_for_the_owner_counts_every_draft(app, client, clinic_world):
    a = clinic_world.a
    other = factories.make_user(app, a.clinic_id, full_name="Olga Other")
    factories.make_visit(app, a.client_id, other)
    factories.sign_in(app, client, a.owner_id)
    page = client.get("/").get_data(as_text=True)
    assert ">2</span>" in overview_card(page, "/visits/unsigned")


def test_progress_needs_sign_in_and_stays_in_the_clinic(client, clinic_world):
    response = client.get(f"/clients/{clinic_world.a.client_id}/progress")
    assert response.status_code == 302


def test_the_improvement_card_follows_archiving_and_bringing_back(app, client, clinic_world):
    a = clinic_world.a
    factories.sign_in(app, client, a.therapist_id)
    better = client_with_visits(app, clinic_world, [(8, 6), (4, 3)], last_name="Better")
    assert "1 of 1 client" in overview_card(client.get("/").get_data(as_text=True),
                                            "/clients/?progress=improved")  # fmt: skip
    with app.app_context():
        version = db.session.get_one(Client, better).version
    client.post(f"/clients/{better}/archive", data={"version": str(version)})
    page = client.get("/").get_data(as_text=True)
    assert "1 of 1 client" not in page
    with app.app_context():
        version = db.session.get_one(Client, better).version
    client.post(f"/clients/{better}/unarchive", data={"version": str(version)})
    page = client.get("/").get_data(as_text=True)
    assert "1 of 1 client" in overview_card(page, "/clients/?progress=improved")


@pytest.mark.parametrize(
    ("affected", "checked"), [("left", "left"), ("right", "right"), ("both", None)]
)
def test_the_questionnaire_and_the_home_log_start_on_the_clients_knee(
    app, logged_in, clinic_world, affected, checked
):
    a = clinic_world.a
    client_id = factories.make_client(
        app, a.clinic_id, a.therapist_id, last_name="Kneeside", affected_knee=AffectedKnee(affected)
    )
    for path in ("progress/koos-jr/new", "progress/pain-log"):
        page = logged_in.get(f"/clients/{client_id}/{path}").get_data(as_text=True)
        ticked = re.findall(r'<input[^>]*name="knee"[^>]*>', page)
        assert len(ticked) == 2, path
        chosen = [tag for tag in ticked if " checked" in tag]
        if checked is None:
            assert chosen == [], path
        else:
            assert len(chosen) == 1 and f'value="{checked}"' in chosen[0], path
