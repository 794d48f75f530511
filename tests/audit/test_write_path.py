"""The write path: a change and its audit entry are kept or lost together, and only the one
commit point commits; every route declares what it shows, and every showing is on file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from clinic import create_app
from clinic.audit.declared import NotAudited, Shows, declaration_of
from clinic.domain.visits import VisitStatus
from clinic.extensions import db
from clinic.models import AuditAction, Client, Visit
from tests import factories
from tests.audit import entries, new_entries
from tests.test_isolation import OWN_CLINIC_IDS, build_url

ROOT = Path(__file__).resolve().parents[2]
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes(app: Flask) -> list[tuple[str, str, object]]:
    return [
        (rule.endpoint, method, rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted((rule.methods or set()) - IGNORED_METHODS)
    ]


# --- Declared, not inferred ---------------------------------------------------------------------


def test_every_route_declares_what_it_shows(app):
    undeclared = sorted(
        {endpoint for endpoint, _, _ in _routes(app) if declaration_of(app, endpoint) is None}
    )
    assert not undeclared, (
        "put @audited(...) (it shows a record) or @not_audited('why') on these views "
        f"(clinic/audit/declared.py): {undeclared}"
    )


def test_every_route_with_a_client_in_its_url_is_audited(app):
    for rule in app.url_map.iter_rules():
        if "client_id" in rule.arguments:
            assert isinstance(declaration_of(app, rule.endpoint), Shows), rule.endpoint


def test_declared_records_are_arguments_of_their_urls(app):
    arguments: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        arguments.setdefault(rule.endpoint, set()).update(rule.arguments)
    for endpoint, names in arguments.items():
        declared = declaration_of(app, endpoint)
        if isinstance(declared, Shows) and declared.record is not None:
            assert declared.record in names, endpoint
        if isinstance(declared, NotAudited):
            assert declared.reason.strip(), endpoint


# --- A failed form shown again with the record is on file ---------------------------------------

# Routes whose refusal shows the record again (a page, not a redirect); each must write a VIEW.
FORMS_THAT_SHOW_THE_RECORD = {
    "clients.edit",
    "screening.new",
    "screening.clearance",
    "screening.override",
    "visits.new",
    "visits.edit",
    "visits.add_addendum",
    "visits.follow_up",
    "progress.pain_log",
    "progress.new_koos_jr",
    "progress.new_lefs",
    "homecare.new",
}

# Invalid data for any form: out-of-list choices, out-of-range numbers, a stale version.
INVALID = {
    "version": "not-a-number",
    "score": "99",
    "taken_on": "3000-01-01",
    "visit_on": "not a date",
    "given_on": "3000-01-01",
    "finding_code": "no_such_finding",
    "reason": "",
    "text": "",
    "length_minutes": "99999",
    "entries-0-technique": "not_a_technique",
    "entries-0-pressure": "9",
    "entries-0-minutes": "-4",
}


def _client_post_rules(app: Flask) -> list[str]:
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if "client_id" in rule.arguments and "POST" in (rule.methods or set())
        }
    )


def test_the_list_of_forms_names_real_routes(app):
    assert set(_client_post_rules(app)) >= FORMS_THAT_SHOW_THE_RECORD


@pytest.fixture
def world_app(app: Flask) -> tuple[Flask, factories.World]:
    return app, factories.make_world(app)


def _every_client_post_route() -> list[str]:
    """Every POST route with a client in its URL, read off a throwaway app at collection."""
    return _client_post_rules(
        create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    )


def _rule_of(app: Flask, endpoint: str):
    return next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)


@pytest.mark.parametrize("endpoint", _every_client_post_route())
def test_invalid_data_posted_to_a_client_route_never_500_and_a_shown_record_is_on_file(
    world_app, client, endpoint
):
    app, world = world_app
    a = world.a
    factories.sign_in(app, client, a.therapist_id)
    rule = _rule_of(app, endpoint)
    ids = {name: OWN_CLINIC_IDS[name](world) for name in rule.arguments}
    before = entries(app)
    response = client.post(build_url(rule, ids), data=INVALID)
    assert response.status_code < 500, (endpoint, response.status_code)
    written = new_entries(app, before)
    if response.status_code in (200, 400, 409, 422):
        shown = [e for e in written if e.action is AuditAction.VIEW]
        assert shown, f"{endpoint} showed the record ({response.status_code}) with no entry"
        assert all(e.client_id == a.client_id and e.user_id == a.therapist_id for e in shown)
        assert all("(shown again, not saved)" in e.summary for e in shown)
    else:
        assert endpoint not in FORMS_THAT_SHOW_THE_RECORD, (endpoint, response.status_code)
    if endpoint in FORMS_THAT_SHOW_THE_RECORD:
        # Refused: no create, change or sign entry. (Buttons without fields, such as archive
        # or issue, may act whatever else is posted; their entries are tested beside them.)
        assert not [e for e in written if e.action is not AuditAction.VIEW], endpoint


# --- A change and its entry are one transaction -------------------------------------------------


def test_a_create_whose_entry_fails_is_rolled_back(app, logged_in, failing_audit):
    failing_audit(AuditAction.CREATE)
    before = entries(app)
    response = logged_in.post("/clients/new", data=factories.intake_form_data(last_name="Lost"))
    assert response.status_code == 500
    with app.app_context():
        assert db.session.scalars(select(Client).where(Client.last_name == "Lost")).all() == []
    assert new_entries(app, before) == []


def _draft_visit(app: Flask, world: factories.World) -> tuple[int, int, int]:
    a = world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Signer")
    factories.make_screening(app, client_id, a.therapist_id)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    with app.app_context():
        version = db.session.get_one(Visit, visit_id).version
    return client_id, visit_id, version


def test_a_signature_whose_entry_fails_is_rolled_back(app, logged_in, clinic_world, failing_audit):
    client_id, visit_id, version = _draft_visit(app, clinic_world)
    failing_audit(AuditAction.SIGN)
    before = entries(app)
    response = logged_in.post(
        f"/clients/{client_id}/visits/{visit_id}/sign", data={"version": str(version)}
    )
    assert response.status_code == 500
    with app.app_context():
        visit = db.session.get_one(Visit, visit_id)
        assert visit.status is VisitStatus.DRAFT
        assert visit.signed_at is None
    assert new_entries(app, before) == []


def test_a_print_whose_entry_fails_sends_no_file(app, logged_in, clinic_world, failing_audit):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Printer")
    visit_id = factories.make_visit(app, client_id, a.therapist_id, signed=True)
    failing_audit(AuditAction.PRINT)
    before = entries(app)
    response = logged_in.get(f"/clients/{client_id}/visits/{visit_id}/note.pdf")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert not response.data.startswith(b"%PDF")
    assert new_entries(app, before) == []


def test_a_page_whose_entry_fails_is_not_shown(app, logged_in, clinic_world, failing_audit):
    """Every look at a record is on file: a showing that cannot be recorded does not happen."""
    failing_audit(AuditAction.VIEW)
    response = logged_in.get(f"/clients/{clinic_world.a.client_id}")
    assert response.status_code == 500
    assert "SecretAlpha" not in response.get_data(as_text=True)


def test_the_same_actions_succeed_without_the_injected_failure(app, logged_in, clinic_world):
    """The control for the three tests above: the same requests, kept with their entries."""
    before = entries(app)
    response = logged_in.post("/clients/new", data=factories.intake_form_data(last_name="Kept"))
    assert response.status_code == 302
    client_id, visit_id, version = _draft_visit(app, clinic_world)
    response = logged_in.post(
        f"/clients/{client_id}/visits/{visit_id}/sign", data={"version": str(version)}
    )
    assert response.status_code == 302
    response = logged_in.get(f"/clients/{client_id}/visits/{visit_id}/note.pdf")
    assert response.data.startswith(b"%PDF")
    actions = [e.action for e in new_entries(app, before)]
    assert AuditAction.CREATE in actions
    assert AuditAction.SIGN in actions
    assert actions[-1] is AuditAction.PRINT


# --- One commit point ---------------------------------------------------------------------------

COMMIT_OR_ROLLBACK = re.compile(r"session\.(commit|rollback)\(")
# The commit point itself, and command-line commands (one commit per command).
ALLOWED = {"clinic/transaction.py", "clinic/cli.py"}


def test_only_the_commit_point_and_the_cli_commit_or_roll_back():
    offenders = []
    for path in sorted((ROOT / "clinic").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if COMMIT_OR_ROLLBACK.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_no_hook_reconstructs_entries_from_responses():
    assert not (ROOT / "clinic" / "audit" / "recording.py").exists()
    for path in (ROOT / "clinic").rglob("*.py"):
        assert "after_request(_record" not in path.read_text(), path


def test_a_head_request_for_a_record_is_on_file(app, logged_in, clinic_world):
    a = clinic_world.a
    before = entries(app)
    assert logged_in.head(f"/clients/{a.client_id}").status_code == 200
    [entry] = new_entries(app, before)
    assert (entry.action, entry.client_id, entry.record_type) == (
        AuditAction.VIEW,
        a.client_id,
        "client",
    )
