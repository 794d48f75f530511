"""Access matrix: every URL rule x method x role x own or another clinic's ids, with its answer.

The cells are generated from the app's own URL map when the tests are collected, so a route
added later gets its cells the moment it exists. Every endpoint must be classified below
(public, signed-in staff or owner only): an endpoint that is not makes its cells fail with a
message saying where to add it, rather than being skipped.

Roles: the clinic's owner, a therapist, a deactivated user (signed in, then deactivated by the
owner: the old cookie must stop working) and an anonymous visitor. Expected answers:
anonymous and deactivated -> redirect to sign-in (public pages excepted); a therapist on an
owner-only page -> 403 whatever the ids; owner or therapist with another clinic's ids -> 404;
with their own clinic's ids -> a 2xx or 3xx answer (a form posted with unsuitable data may
come back with its errors, but is never refused).

One world per module (per backend) keeps the run fast: the owner and the therapist sign in
once and each cell starts a new browser with a copy of that cookie (signing out gets a sign-in
of its own). GETs only read; a POST with clinic A's ids may archive, sign, discard or
deactivate what they name, so it works on fresh rows of clinic A made for that cell, and no
cell depends on another's order.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.routing import Rule

from clinic import create_app
from clinic.extensions import db
from clinic.models import Role
from tests import factories
from tests.conftest import ClinicTestClient, empty_postgres_tables, make_test_config
from tests.test_isolation import (
    CLINIC_B_MARKERS,
    OTHER_CLINIC_IDS,
    OWN_CLINIC_IDS,
    build_url,
    urls_with_a_foreign_id,
)

ROLES = ("owner", "therapist", "deactivated", "anonymous")

# The answers a cell can expect.
SUCCESS = "2xx or 3xx"
SIGN_IN = "redirect to sign-in"
FORBIDDEN = "403"
NOT_FOUND = "404"

# ---------------------------------------------------------------------------------------------
# Classification: every endpoint of the app is in exactly one class.

# Open without signing in, with the answer every role gets.
PUBLIC_ENDPOINTS = {
    "auth.login": SUCCESS,
    # The first-run page is gone once an account exists, for everyone.
    "auth.setup": NOT_FOUND,
    # The second step of signing in (the code from the authenticator app).
    "auth.login_code": SUCCESS,
}
# Any signed-in member of the clinic, owner or therapist.
STAFF_BLUEPRINTS = {"clients", "screening", "visits", "homecare", "progress"}
STAFF_ENDPOINTS = {
    "home",
    "auth.change_password",
    "auth.logout",
    # Turning two-step sign-in on and off for one's own account.
    "auth.two_step",
    "auth.two_step_start",
    "auth.two_step_confirm",
    "auth.two_step_disable",
    "auth.two_step_recovery_codes",
    # "Confirm it is you": the password again before a sensitive change of one's own.
    "auth.confirm_identity",
}
# The owner only: a therapist gets 403 before any row is looked up. (admin includes the
# retention report; audit is the audit trail.)
OWNER_ONLY_BLUEPRINTS = {"admin", "homecare_library", "audit"}
OWNER_ONLY_ENDPOINTS: set[str] = set()

# Endpoints whose 3xx answer may lead to the sign-in page without that being a refusal.
SIGNS_OUT = {"auth.logout"}
# Endpoints that need a signed note rather than a draft (a draft answers 409 there).
NEEDS_SIGNED_VISIT = {"visits.note_pdf", "visits.add_addendum"}

HOW_TO_CLASSIFY = (
    "classify it in tests/test_access_matrix.py: add the endpoint to PUBLIC_ENDPOINTS (no "
    "sign-in), STAFF_ENDPOINTS (any signed-in user) or OWNER_ONLY_ENDPOINTS, or its blueprint "
    "to STAFF_BLUEPRINTS or OWNER_ONLY_BLUEPRINTS"
)


def blueprint_of(endpoint: str) -> str:
    return endpoint.rpartition(".")[0]


def classify(endpoint: str) -> str | None:
    """Return "public", "staff" or "owner" for an endpoint, or None when it is unclassified."""
    if endpoint in PUBLIC_ENDPOINTS:
        return "public"
    if endpoint in OWNER_ONLY_ENDPOINTS:
        return "owner"
    if endpoint in STAFF_ENDPOINTS:
        return "staff"
    if blueprint_of(endpoint) in OWNER_ONLY_BLUEPRINTS:
        return "owner"
    if blueprint_of(endpoint) in STAFF_BLUEPRINTS:
        return "staff"
    return None


def expected_answer(endpoint: str, role: str, clinic: str) -> str:
    """Return what a role gets from an endpoint with its own ids, another clinic's, or none."""
    kind = classify(endpoint)
    if kind is None:
        pytest.fail(f"{endpoint} is not classified: {HOW_TO_CLASSIFY}", pytrace=False)
    if kind == "public":
        return PUBLIC_ENDPOINTS[endpoint]
    if role in ("anonymous", "deactivated"):
        return SIGN_IN
    if kind == "owner" and role != "owner":
        return FORBIDDEN
    if clinic == "other":
        return NOT_FOUND
    return SUCCESS


# ---------------------------------------------------------------------------------------------
# The cells, from a throwaway app's URL map


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def checked_rules(app: Flask) -> list[Rule]:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    return sorted(rules, key=lambda rule: (rule.rule, rule.endpoint))


def collect_cells() -> list[Any]:
    app = create_app({"SECRET_KEY": "collect", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    cells = []
    for rule in checked_rules(app):
        for method in methods_of(rule):
            for role in ROLES:
                for clinic in ("own", "other") if rule.arguments else ("none",):
                    cells.append(
                        pytest.param(
                            rule.endpoint,
                            rule.rule,
                            method,
                            role,
                            clinic,
                            id=f"{rule.endpoint}-{method}-{role}-{clinic}",
                        )
                    )
    return cells


CELLS = collect_cells()


# ---------------------------------------------------------------------------------------------
# One world per module


@dataclass(frozen=True)
class Matrix:
    """The app, two clinics, and the cookie of a user who was deactivated while signed in."""

    app: Flask
    world: factories.World
    # Clinic A's signed note (the world's own visit is a draft).
    signed_visit_id: int
    # The session cookie of each role, taken once.
    cookies: dict[str, str]


@pytest.fixture(scope="module")
def matrix_database_url(
    backend: str, database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database for this module alone, with an empty schema."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "clinic.sqlite3"
        shutil.copyfile(database_template, path)
        return f"sqlite:///{path}"
    empty_postgres_tables(database_template)
    return database_template


@pytest.fixture(scope="module")
def matrix(matrix_database_url: str) -> Iterator[Matrix]:
    """The app with clinics A and B, and a deactivated owner of clinic A."""
    app = create_app(make_test_config(matrix_database_url))
    app.test_client_class = ClinicTestClient
    world = factories.make_world(app)
    a = world.a
    leaver_id = factories.make_user(
        app, a.clinic_id, email="leaver-Alpha@example.com", role=Role.OWNER
    )
    leaver = new_client(app)
    factories.sign_in(app, leaver, leaver_id)
    assert leaver.get("/admin/users").status_code == 200, "the cookie must work before"
    owner = new_client(app)
    factories.sign_in(app, owner, a.owner_id)
    response = owner.post(f"/admin/users/{leaver_id}/deactivate", data={})
    assert response.status_code == 302
    assert leaver.get("/admin/users").status_code == 302, "deactivating must end the sign-in"
    signed_visit_id = factories.make_visit(app, a.client_id, a.therapist_id, signed=True)
    cookies = {
        "owner": signed_in_cookie(app, a.owner_id),
        "therapist": signed_in_cookie(app, a.therapist_id),
        "deactivated": session_cookie(app, leaver),
    }
    yield Matrix(app, world, signed_visit_id, cookies)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def new_client(app: Flask) -> ClinicTestClient:
    return app.test_client()  # type: ignore[return-value]


def session_cookie(app: Flask, client: ClinicTestClient) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def signed_in_cookie(app: Flask, user_id: int) -> str:
    client = new_client(app)
    factories.sign_in(app, client, user_id)
    return session_cookie(app, client)


def client_for(matrix: Matrix, role: str, endpoint: str = "") -> ClinicTestClient:
    """A new browser for the role, so nothing one cell does to its cookie reaches another."""
    client = new_client(matrix.app)
    a = matrix.world.a
    if endpoint in SIGNS_OUT and role in ("owner", "therapist"):
        # Signing out ends the sign-in on the server: use one of its own.
        factories.sign_in(matrix.app, client, a.owner_id if role == "owner" else a.therapist_id)
    elif role in matrix.cookies:
        client.set_cookie(matrix.app.config["SESSION_COOKIE_NAME"], matrix.cookies[role])
    return client


_fresh = [0]
# An area to avoid (something for a clearance or an override to be about), but no referral.
SKIN_BREAK = {"side": "right", "region": "shin"}


def fresh_rows(app: Flask, world: factories.World) -> tuple[factories.World, int]:
    """Return clinic A with new rows of every kind (and a signed visit's id) for one cell."""
    _fresh[0] += 1
    a = world.a
    tag = f"Fresh{_fresh[0]}"
    user_id = factories.make_user(app, a.clinic_id, email=f"{tag.lower()}@example.com")
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, first_name=tag)
    # No referral: with one, starting a visit or a plan answers 409 (the screening gate),
    # which is a clinical refusal, not an access answer.
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, skin_break=SKIN_BREAK, anticoagulants=True
    )
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    signed_visit_id = factories.make_visit(app, client_id, a.therapist_id, signed=True)
    item_id = factories.make_library_item(app, a.owner_id, title=f"{tag} wall sit")
    plan_id = factories.make_plan(app, client_id, a.therapist_id, ("b_cold_pack",), checked=False)
    handout_id = factories.make_handout(app, plan_id, a.therapist_id)
    fresh = replace(
        a,
        therapist_id=user_id,
        client_id=client_id,
        screening_id=screening_id,
        visit_id=visit_id,
        library_item_id=item_id,
        plan_id=plan_id,
        handout_id=handout_id,
    )
    return factories.World(a=fresh, b=world.b), signed_visit_id


def urls_for(matrix: Matrix, rule: Rule, method: str, role: str, clinic: str) -> list[str]:
    unknown = set(rule.arguments) - set(OWN_CLINIC_IDS) - set(OTHER_CLINIC_IDS)
    assert not unknown, (
        f"{rule.rule}: add {sorted(unknown)} to OWN_CLINIC_IDS and OTHER_CLINIC_IDS "
        "in tests/test_isolation.py"
    )
    if clinic == "none":
        return [rule.rule]
    if clinic == "other":
        return urls_with_a_foreign_id(rule, matrix.world)
    world, signed_visit_id = matrix.world, matrix.signed_visit_id
    if method != "GET" and role in ("owner", "therapist"):
        # The request may archive, sign, discard or deactivate what its ids name.
        world, signed_visit_id = fresh_rows(matrix.app, matrix.world)
    ids = {name: OWN_CLINIC_IDS[name](world) for name in rule.arguments}
    if rule.endpoint in NEEDS_SIGNED_VISIT:
        ids["visit_id"] = signed_visit_id
    return [build_url(rule, ids)]


def describe(response: Any) -> str:
    where = response.headers.get("Location")
    return f"{response.status_code}" + (f" -> {where}" if where else "")


def check(endpoint: str, expected: str, response: Any) -> str | None:
    """Return what is wrong with an answer, or None when it is the expected one."""
    status = response.status_code
    location = urlsplit(response.headers.get("Location", "")).path
    if expected == SIGN_IN:
        ok = status == 302 and location == "/login"
    elif expected == FORBIDDEN:
        ok = status == 403
    elif expected == NOT_FOUND:
        ok = status == 404
    else:
        ok = 200 <= status < 400
        signed_out = 300 <= status < 400 and location == "/login"
        if signed_out and endpoint not in SIGNS_OUT and endpoint not in PUBLIC_ENDPOINTS:
            ok = False
    return None if ok else f"expected {expected}, got {describe(response)}"


@pytest.mark.parametrize(("endpoint", "rule_text", "method", "role", "clinic"), CELLS)
def test_access(
    matrix: Matrix, endpoint: str, rule_text: str, method: str, role: str, clinic: str
) -> None:
    rule = next(
        (
            r
            for r in matrix.app.url_map.iter_rules()
            if (r.endpoint, r.rule) == (endpoint, rule_text)
        ),
        None,
    )
    assert rule is not None, f"{endpoint} {rule_text} is gone from the app"
    expected = expected_answer(endpoint, role, clinic)
    client = client_for(matrix, role, endpoint)
    problems = []
    for url in urls_for(matrix, rule, method, role, clinic):
        data = None
        if method == "POST":
            # An intake's fields: a route that ignored its ids would have something to save.
            data = factories.intake_form_data(version="1", csrf_token=client.csrf_token())
        response = client.open(url, method=method, data=data)
        # Read the whole body: a streamed answer (a CSV export) can still fail half-way.
        body = response.get_data().decode("utf-8", errors="replace")
        problem = check(endpoint, expected, response)
        if problem:
            problems.append(f"{method} {url} as {role}: {problem}")
        if clinic == "other":
            problems += [f"{method} {url} shows {m!r}" for m in CLINIC_B_MARKERS if m in body]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# The matrix itself is complete and honest


def test_every_endpoint_is_classified_once() -> None:
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    endpoints = {rule.endpoint for rule in checked_rules(app)}
    missing = sorted(endpoint for endpoint in endpoints if classify(endpoint) is None)
    assert not missing, f"not classified: {missing}; {HOW_TO_CLASSIFY}"
    listed = [set(PUBLIC_ENDPOINTS), STAFF_ENDPOINTS, OWNER_ONLY_ENDPOINTS]
    for position, first in enumerate(listed):
        for second in listed[position + 1 :]:
            assert not first & second, f"classified twice: {sorted(first & second)}"
    assert not STAFF_BLUEPRINTS & OWNER_ONLY_BLUEPRINTS


def test_public_views_are_exactly_the_listed_ones() -> None:
    """A view opened to visitors (@public) that the matrix does not list fails here."""
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    public = {
        rule.endpoint
        for rule in checked_rules(app)
        if getattr(app.view_functions[rule.endpoint], "is_public", False)
    }
    unlisted = public - set(PUBLIC_ENDPOINTS)
    assert not unlisted, f"public views missing from PUBLIC_ENDPOINTS: {sorted(unlisted)}"
    existing = {rule.endpoint for rule in checked_rules(app)}
    not_public = (set(PUBLIC_ENDPOINTS) & existing) - public
    assert not not_public, f"listed as public but not @public: {sorted(not_public)}"


def test_the_cells_cover_every_rule_method_role_and_clinic() -> None:
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    wanted = {
        (rule.endpoint, rule.rule, method, role, clinic)
        for rule in checked_rules(app)
        for method in methods_of(rule)
        for role in ROLES
        for clinic in (("own", "other") if rule.arguments else ("none",))
    }
    assert {tuple(cell.values) for cell in CELLS} == wanted
    assert len(wanted) > 300


def test_the_deactivated_cookie_is_refused_even_on_public_pages(matrix: Matrix) -> None:
    """The old cookie does not count as signed in: the sign-in form is shown, not skipped."""
    client = client_for(matrix, "deactivated")
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="password"' in response.get_data(as_text=True)


def test_a_signed_in_owner_passes_the_sign_in_page(matrix: Matrix) -> None:
    """The same request with a live cookie is let through: the cell above would notice."""
    response = client_for(matrix, "owner").get("/login")
    assert response.status_code == 302
