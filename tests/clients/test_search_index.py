"""Client search through its index: in step with every write, plain text, the migration.

Backend-neutral: on SQLite the FTS5 table answers first, on PostgreSQL the trigram index; the
results must be the same, so each test states them, never how they were found.
"""

from __future__ import annotations

import enum
import importlib.util
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_login import login_user
from flask_migrate import downgrade, upgrade

from clinic.clients import operations as ops
from clinic.domain.client_search import client_search_text
from clinic.domain.intake import phone_digits
from clinic.extensions import db
from clinic.models import Client, User
from clinic.settings import MIGRATIONS_DIR
from tests import factories

MIGRATION = "c5f8a2d71e94"
BEFORE_MIGRATION = "b7d3f2a8c615"


def search(app: Flask, user_id: int, query: str, *, archived: bool = False) -> list[int]:
    """Return the ids the client list shows for a search, in its order, as the user."""
    with app.test_request_context():
        login_user(db.session.get_one(User, user_id))
        found = ops.search_clients(query, include_archived=archived, page=1, per_page=100)
        return [client.id for client in found.pagination.items]


def listed(logged_in, query: str) -> str:
    response = logged_in.get("/clients/", query_string={"q": query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def make(app: Flask, side: factories.ClinicIds, first: str, last: str, **overrides) -> int:
    overrides.setdefault("email", "")
    return factories.make_client(
        app, side.clinic_id, side.therapist_id, first_name=first, last_name=last, **overrides
    )


def search_text_of(app: Flask, client_id: int) -> str:
    with app.app_context():
        return db.session.get_one(Client, client_id).search_text


# --- in step with the client's record ---------------------------------------------------


def test_a_new_client_is_found_at_once(app, logged_in, clinic_world):
    data = factories.intake_form_data(
        first_name="Wilhelmina", last_name="Quistgaard", email="wq@example.org"
    )
    assert logged_in.post("/clients/new", data=data).status_code == 302
    for query in ("quistg", "QUISTGAARD", "helmin", "wq@exa", "0100177", "qu", "w"):
        assert "Quistgaard, Wilhelmina" in listed(logged_in, query), query


def test_an_edited_client_is_found_by_the_new_name_only(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = make(app, a, "Ottoline", "Featherstone", phone="555 010 2233")
    assert search(app, a.therapist_id, "featherst") == [client_id]
    data = factories.intake_form_data(
        first_name="Ottoline", last_name="Brackenbury", phone="555 010 4455", version="1"
    )
    assert logged_in.post(f"/clients/{client_id}/edit", data=data).status_code == 302
    for old in ("featherst", "fe", "0102233"):
        assert search(app, a.therapist_id, old) == [], old
    for new in ("brackenb", "br", "0104455", "ottoline brack"):
        assert search(app, a.therapist_id, new) == [client_id], new
    assert search_text_of(app, client_id) == client_search_text(
        "Ottoline", "Brackenbury", "grace@example.com", "5550104455"
    )


def test_an_archived_client_is_found_only_with_the_archive(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = make(app, a, "Perpetua", "Winterbottom")
    response = logged_in.post(f"/clients/{client_id}/archive", data={"version": "1"})
    assert response.status_code == 302
    assert search(app, a.therapist_id, "winterb") == []
    assert search(app, a.therapist_id, "winterb", archived=True) == [client_id]
    assert search(app, a.therapist_id, "wi", archived=True) == [client_id]
    response = logged_in.post(f"/clients/{client_id}/unarchive", data={"version": "2"})
    assert response.status_code == 302
    assert search(app, a.therapist_id, "winterb") == [client_id]


def test_the_search_text_follows_every_change_of_the_row(app, clinic_world):
    a = clinic_world.a
    client_id = make(app, a, "Rowena", "Ashdown", email="ro@example.org", phone="555 010 9900")
    with app.app_context():
        client = db.session.get_one(Client, client_id)
        client.email = "rowena@example.net"
        db.session.commit()
    assert search(app, a.therapist_id, "example.net") == [client_id]
    assert search(app, a.therapist_id, "example.org") == []
    with app.app_context():
        client = db.session.get_one(Client, client_id)
        client.phone, client.phone_digits = "555 010 1234", "5550101234"
        db.session.commit()
    assert search(app, a.therapist_id, "0101234") == [client_id]
    assert search(app, a.therapist_id, "0109900") == []


# --- what a word matches -------------------------------------------------------------------


@pytest.fixture
def people(app: Flask, clinic_world: factories.World) -> dict[str, int]:
    a = clinic_world.a
    return {
        "mary": make(app, a, "Mary Ann", "Smith-Jones", email="mas@example.org"),
        "oscar": make(app, a, "Oscar", "O'Brien", email="oscar.obrien@example.org"),
        "annabel": make(app, a, "Annabel", "Jo", phone="(555) 010-7788"),
        "elodie": make(app, a, "Élodie", "Müller-Ångström", email="elodie@example.fr"),
        "zoe": make(app, a, "Zoë", "Ødegård"),
        "taro": make(app, a, "太郎", "山田"),
        "sandberg": make(app, a, "Ingrid", "Sandberg"),
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        # Three or more characters: anywhere in a name or the email, any case.
        ("smith", {"mary"}),
        ("MITH-JO", {"mary"}),
        ("ith", {"mary"}),
        ("brien", {"oscar"}),
        ("o'brien", {"oscar"}),
        ("annab", {"annabel"}),
        ("ann", {"mary", "annabel"}),
        ("ary ann", {"mary"}),
        ("example.org", {"mary", "oscar"}),
        ("mas@", {"mary"}),
        # Accents are letters of their own; upper and lower case of them are one.
        ("élo", {"elodie"}),
        ("ÉLODIE", {"elodie"}),
        ("MÜLLER", {"elodie"}),
        ("ångström", {"elodie"}),
        ("elodie@", {"elodie"}),
        ("elod", {"elodie"}),
        ("muller", set()),
        ("zoë", {"zoe"}),
        ("ØDEG", {"zoe"}),
        ("山田太", set()),
        # One or two characters: where a word of the names or the email starts.
        ("m", {"mary", "elodie"}),
        ("ma", {"mary"}),
        ("an", {"mary", "annabel"}),
        ("jo", {"mary", "annabel"}),
        ("br", {"oscar"}),
        ("o", {"oscar"}),
        ("mi", set()),
        ("ex", set()),
        ("ÅN", {"elodie"}),
        ("é", {"elodie"}),
        ("ø", {"zoe"}),
        ("山田", {"taro"}),
        ("田", set()),
        ("太", {"taro"}),
        # Every word must match.
        ("an sm", {"mary"}),
        ("an jo bel", {"annabel"}),
        ("an nobody", set()),
    ],
)
def test_what_a_word_matches(app, clinic_world, people, query, names):
    found = search(app, clinic_world.a.therapist_id, query)
    assert set(found) == {people[name] for name in names}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("0107788", True),
        ("010-7788", True),
        ("(555) 010-7788", True),
        ("555.010.7788", True),
        ("788", True),
        ("55501077", True),
        ("5550107788", True),
        ("0107789", False),
        # Two digits are too few for a phone number: a word start, like any short word.
        ("78", False),
    ],
)
def test_phone_digits(app, clinic_world, people, query, found):
    assert (people["annabel"] in search(app, clinic_world.a.therapist_id, query)) is found


def test_results_keep_the_list_order(app, clinic_world):
    a = clinic_world.a
    ids = [
        make(app, a, "Zed", "Quarrington"),
        make(app, a, "amy", "quarrington"),
        make(app, a, "Bea", "Quarrier"),
        make(app, a, "Amy", "Quarrington"),
    ]
    assert search(app, a.therapist_id, "quarr") == [ids[2], ids[1], ids[3], ids[0]]
    assert search(app, a.therapist_id, "qu") == [ids[2], ids[1], ids[3], ids[0]]


def test_a_search_matching_more_than_the_limit_says_more_than(
    app, logged_in, clinic_world, monkeypatch
):
    a = clinic_world.a
    monkeypatch.setattr(ops, "SEARCH_COUNT_LIMIT", 3)
    for first in ("Ann", "Anna", "Annika", "Annabel", "Joanne"):
        make(app, a, first, "Rowntree")
    many = listed(logged_in, "ann")
    assert "More than 3 matches for “ann”: type more of the name" in many
    # The page still lists the matches in the list's order, however many were counted.
    assert many.index("Rowntree, Ann<") < many.index("Rowntree, Joanne")
    assert search(app, a.therapist_id, "ann")[:5] == search(app, a.therapist_id, "rowntree")[:5]
    few = listed(logged_in, "annik")
    assert "1 match for “annik”." in few
    assert "More than" not in few


def search_page(app: Flask, user_id: int, query: str, page: int) -> ops.ClientSearch:
    with app.test_request_context():
        login_user(db.session.get_one(User, user_id))
        return ops.search_clients(query, include_archived=False, page=page, per_page=4)


def test_a_search_pages_through_its_matches_in_order(app, clinic_world, monkeypatch):
    a = clinic_world.a
    ids = [make(app, a, f"Pat{chr(ord('a') + n)}", "Ollerenshaw") for n in range(10)]
    make(app, a, "Pat", "Elsewhere")  # does not match
    pages = [search_page(app, a.therapist_id, "ollerens", page) for page in (1, 2, 3)]
    assert [[c.id for c in found.pagination.items] for found in pages] == [
        ids[0:4],
        ids[4:8],
        ids[8:10],
    ]
    assert {found.pagination.total for found in pages} == {10}
    assert pages[2].pagination.pages == 3 and not pages[2].more_than_total
    # A page past the last (a link kept from a longer list) shows the last one.
    past = search_page(app, a.therapist_id, "ollerens", 9)
    assert past.pagination.page == 3 and [c.id for c in past.pagination.items] == ids[8:10]
    # Past the counting limit the pages stop at the limit, and the list says "more than".
    monkeypatch.setattr(ops, "SEARCH_COUNT_LIMIT", 6)
    capped = search_page(app, a.therapist_id, "ollerens", 9)
    assert capped.more_than_total and capped.pagination.total == 6
    assert capped.pagination.page == 2 and [c.id for c in capped.pagination.items] == ids[4:8]
    # Nothing found: page one, empty, no error.
    none = search_page(app, a.therapist_id, "zzqx", 3)
    assert none.pagination.page == 1 and none.pagination.items == []
    assert none.pagination.total == 0


# --- plain text, never an error -----------------------------------------------------------


@pytest.fixture
def odd_names(app: Flask, clinic_world: factories.World) -> dict[str, int]:
    a = clinic_world.a
    return {
        "quote": make(app, a, "Dara", 'Mc"Quote'),
        "percent": make(app, a, "Dara", "100%Sure"),
        "underscore": make(app, a, "Dara", "Under_Score"),
        "star": make(app, a, "Dara", "Star*Bright"),
        "near": make(app, a, "Dara", "Near(by"),
        "colon": make(app, a, "Dara", "Col:on"),
        "apostrophe": make(app, a, "Dara", "D'Arcy"),
        "backslash": make(app, a, "Dara", "Back\\Slash"),
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ('"quo', {"quote"}),
        ('c"q', {"quote"}),
        ('"', set()),
        ('""', set()),
        ('"dara"', set()),
        ("0%s", {"percent"}),
        ("00%", {"percent"}),
        ("%", set()),
        ("%%%", set()),
        ("1%0", set()),
        ("r_s", {"underscore"}),
        ("r%s", set()),
        ("_", set()),
        ("___", set()),
        ("r*b", {"star"}),
        ("sta*", set()),
        ("*", set()),
        ("near(", {"near"}),
        ("NEAR(", {"near"}),
        ("NEAR(dara", set()),
        ("AND", {"sandberg"}),
        ("and or", set()),
        ("NOT", set()),
        ("col:on", {"colon"}),
        ("last_name:dara", set()),
        ("search_text:dara", set()),
        ("d'arc", {"apostrophe"}),
        ("'", set()),
        ("'; DROP TABLE clients; --", set()),
        ("k\\s", {"backslash"}),
        ("\\", set()),
        ("^dar", set()),
        ("{dara}", set()),
        ("-dara", set()),
        ("(", set()),
        (")", set()),
    ],
)
def test_special_characters_are_plain_text(app, clinic_world, odd_names, query, names):
    people = {**odd_names, "sandberg": make(app, clinic_world.a, "Ingrid", "Sandberg")}
    found = search(app, clinic_world.a.therapist_id, query)
    assert set(found) == {people[name] for name in names}


@pytest.mark.parametrize(
    "query",
    ['"', '"*"', "NEAR(a b)", "q AND", "OR", "* * *", "x" * 100, "\x01\x01q", "q\x00z", "ä" * 3],
)
def test_odd_searches_answer_the_page(logged_in, query):
    assert "No client matches" in listed(logged_in, query)


# --- only the signed-in user's clinic -------------------------------------------------------


def test_another_clinics_client_is_never_found(app, clinic_world):
    a, b = clinic_world.a, clinic_world.b
    theirs = make(app, b, "Hortensia", "Vanderpool", phone="555 010 6161")
    ours = make(app, a, "Hortense", "Vanderbilt")
    for query in ("vander", "va", "v", "horten", "h", "0106161", "secretbeta", "clientb"):
        found = search(app, a.therapist_id, query, archived=True)
        assert theirs not in found and b.client_id not in found, query
    assert search(app, a.therapist_id, "vander") == [ours]
    assert search(app, b.therapist_id, "vander") == [theirs]


# --- the migration (on tests/conftest.py's migration_app: an empty database) ----------------


def insert_before_migration(app: Flask) -> tuple[int, int]:
    """Add a clinic and a client with the schema before the search index; return their ids."""
    now = datetime(2026, 11, 1, 9, 0)
    with app.app_context(), db.engine.begin() as connection:
        tables = sa.MetaData()
        tables.reflect(connection, only=["clinics", "clients"])
        clinic_id = connection.execute(
            tables.tables["clinics"]
            .insert()
            .values(
                name="Old Clinic",
                address="",
                phone="",
                is_demo=False,
                version=1,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        details = factories.intake(
            first_name="Cornelius",
            last_name="Oldfield",
            email="c.oldfield@example.org",
            phone="555 010 3141",
        )
        values = {
            name: value.value if isinstance(value, enum.Enum) else value
            for name, value in vars(details).items()
        }
        client_id = connection.execute(
            tables.tables["clients"]
            .insert()
            .values(
                clinic_id=clinic_id,
                phone_digits=phone_digits(details.phone),
                version=1,
                created_at=now,
                updated_at=now,
                **values,
            )
        ).inserted_primary_key[0]
    return int(clinic_id), int(client_id)


def test_the_migration_indexes_the_clients_already_there(migration_app: Flask):
    app = migration_app
    with app.app_context():
        upgrade(revision=BEFORE_MIGRATION)
    clinic_id, old_id = insert_before_migration(app)
    with app.app_context():
        upgrade()
    user_id = factories.make_user(app, clinic_id)
    assert search_text_of(app, old_id) == client_search_text(
        "Cornelius", "Oldfield", "c.oldfield@example.org", "5550103141"
    )
    for query in ("oldfie", "cornel", "ol", "c", "0103141", "oldfield@exa"):
        assert search(app, user_id, query) == [old_id], query

    # The migrated schema keeps the index in step with new and changed rows as well.
    new_id = factories.make_client(app, clinic_id, user_id, first_name="Nell", last_name="Oldroyd")
    assert search(app, user_id, "old") == [old_id, new_id]
    with app.app_context():
        db.session.get_one(Client, old_id).first_name = "Augustus"
        db.session.commit()
    assert search(app, user_id, "cornel") == []
    assert search(app, user_id, "august") == [old_id]

    # Down and up again: the index is made afresh from the rows.
    with app.app_context():
        downgrade(revision=BEFORE_MIGRATION)
        upgrade()
    assert search(app, user_id, "old") == [old_id, new_id]
    assert search(app, user_id, "au") == [old_id]
    assert search(app, user_id, "cornel") == []


def test_the_migration_makes_the_same_search_text_as_the_app():
    path = next((MIGRATIONS_DIR / "versions").glob(f"*_{MIGRATION}_*.py"))
    spec = importlib.util.spec_from_file_location("search_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    samples = [
        ("Mary Ann", "Smith-Jones", "mas@example.org", "5550100142"),
        ("Élodie", "Müller-Ångström", "", ""),
        ("Oscar", "O\u2019Brien", "OSCAR@EXAMPLE.ORG", "07700900123"),
        ("太郎", "山田", "t@example.jp", "0312345678"),
        ("", "", "", ""),
    ]
    for sample in samples:
        assert migration.client_search_text(*sample) == client_search_text(*sample)
