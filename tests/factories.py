"""Test data as plain functions: make_clinic, make_user, make_client, make_world."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user

from clinic.audit.trail import Actor
from clinic.auth import operations as auth_ops
from clinic.clients import operations as client_ops
from clinic.clock import utcnow
from clinic.domain.catalogue import Laterality, Pressure, Region, Side, Target, Technique
from clinic.domain.homecare import Dose, ItemKind, safety_notes
from clinic.domain.intake import AffectedKnee, KneeDiagnosis, KneePainCause, phone_digits
from clinic.domain.screening import Answer, Finding, LiftedBy, Tier, blank_answers
from clinic.domain.visits import VisitStatus
from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.models import (
    Client,
    Clinic,
    HomeCarePlan,
    IssuedHandout,
    Role,
    Screening,
    TechniqueEntry,
    User,
    Visit,
)
from clinic.screening import operations as screening_ops

PASSWORD = "correct horse battery staple"
__all__ = ["PASSWORD", "Screening"]


def make_clinic(app: Flask, **overrides: Any) -> int:
    """Create a clinic and return its id.

    Unlike a real new clinic, it does not require two-step sign-in unless asked
    (require_two_factor=True), so tests can sign its therapists in with a password.
    """
    values: dict[str, Any] = {
        "name": "Riverside Massage",
        "address": "1 River Rd",
        "phone": "555 0100",
        "require_two_factor": False,
    }
    values.update(overrides)
    with app.app_context():
        clinic = Clinic(**values)
        db.session.add(clinic)
        db.session.commit()
        return clinic.id


def make_user(app: Flask, clinic_id: int, **overrides: Any) -> int:
    """Create an account and return its id.

    An owner gets what a real new owner gets: two-step sign-in due in TWO_STEP_GRACE_DAYS
    (a banner, nothing blocked); `two_step_due_at=` sets another moment (None: at once).
    """
    values: dict[str, Any] = {
        "full_name": "Tess Therapist",
        "email": f"user{clinic_id}-{_next()}@example.com",
        "role": Role.THERAPIST,
        "password": PASSWORD,
    }
    values.update(overrides)
    active = values.pop("active", True)
    due_at = values.pop("two_step_due_at", ...)
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_id)
        user = auth_ops.create_user(clinic, **values)
        user.active = active
        if due_at is not ...:
            user.two_step_due_at = due_at
        db.session.commit()
        return user.id


_counter = [0]


def _next() -> int:
    _counter[0] += 1
    return _counter[0]


def intake(**overrides: Any) -> client_ops.Intake:
    """Return a complete, valid intake."""
    values: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": date(1960, 5, 17),
        "gender": "",
        "phone": "555 010 0142",
        "email": "ada@example.com",
        "address": "",
        "emergency_contact_name": "Byron Lovelace",
        "emergency_contact_phone": "555 010 0199",
        "referring_clinician": "",
        "affected_knee": AffectedKnee.LEFT,
        "main_complaint": "Aching left knee on stairs.",
        "onset_date": date(2025, 1, 10),
        "cause": KneePainCause.ARTHRITIS,
        "diagnosis": KneeDiagnosis.OSTEOARTHRITIS,
        "diagnosis_detail": "",
        "medications": "",
        "allergies": "",
        "allergic_to_oils_or_nuts": False,
        "goals": "",
        "consent_to_treatment": True,
        "consent_date": date(2026, 1, 5),
        "consent_name": "Ada Lovelace",
        "consent_to_keep_records": True,
    }
    values.update(overrides)
    return client_ops.Intake(**values)


def make_client(app: Flask, clinic_id: int, author_id: int, **overrides: Any) -> int:
    """Create a client from a valid intake (with overrides) and return its id."""
    archived = overrides.pop("archived", False)
    with app.app_context():
        # Set-up data, not a therapist's work: written directly, with no audit entry.
        details = intake(**overrides)
        client = Client(
            clinic_id=clinic_id,
            created_by_id=author_id,
            updated_by_id=author_id,
            phone_digits=phone_digits(details.phone),
            archived_at=utcnow() if archived else None,
            **{name: getattr(details, name) for name in client_ops.INTAKE_FIELDS},
        )
        db.session.add(client)
        db.session.commit()
        return client.id


def intake_form_data(**overrides: Any) -> dict[str, Any]:
    """Return what the intake form posts for a complete, valid client."""
    data: dict[str, Any] = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "date_of_birth": "1956-12-09",
        "gender": "",
        "phone": "(555) 010-0177",
        "email": "grace@example.com",
        "address": "12 Harbour St",
        "emergency_contact_name": "Vincent Hopper",
        "emergency_contact_phone": "555 010 0188",
        "referring_clinician": "Dr. Chen",
        "affected_knee": "right",
        "main_complaint": "Stiff right knee after gardening.",
        "onset_date": "2026-06-01",
        "cause": "overuse",
        "diagnosis": "none_known",
        "diagnosis_detail": "",
        "medications": "",
        "allergies": "",
        "goals": "Kneel in the garden again.",
        "consent_to_treatment": "y",
        "consent_date": "2026-11-01",
        "consent_name": "Grace Hopper",
        "consent_to_keep_records": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def screening_answers(**yes: dict[str, Any] | bool) -> dict[str, Answer]:
    """Return a full set of answers: no to everything but the questions named.

    make an answer yes with `dvt_signs={"side": "left"}` or `anticoagulants=True`.
    """
    answers = blank_answers()
    for code, details in yes.items():
        extra = details if isinstance(details, dict) else {}
        answers[code] = Answer(
            yes=True,
            detail=str(extra.get("detail", "")),
            side=Laterality(extra["side"]) if "side" in extra else None,
            region=Region(extra["region"]) if "region" in extra else None,
            date=extra.get("date"),
        )
    return answers


def make_screening(
    app: Flask,
    client_id: int,
    user_id: int,
    *,
    taken_on: date | None = None,
    **yes: dict[str, Any] | bool,
) -> int:
    """Sign a screening for a client as a user; return its id."""
    today = date.today()
    with app.test_request_context():
        user = db.session.get_one(User, user_id)
        login_user(user)
        client = db.session.get_one(Client, client_id)
        screening = screening_ops.record_screening(
            Actor.of(user), client, screening_answers(**yes), taken_on or today, today
        )
        db.session.commit()
        return screening.id


def make_visit(
    app: Flask,
    client_id: int,
    therapist_id: int,
    *,
    signed: bool = False,
    entries: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> int:
    """Store a visit as it would be after saving (no gate, no checks); return its id."""
    values: dict[str, Any] = {
        "visit_on": date.today(),
        "start_time": time(9, 0),
        "length_minutes": 60,
        "knees": AffectedKnee.LEFT,
        "pain_before_left": 6,
        "pain_after_left": 3,
        "subjective": "Stairs still hard.",
        "assessment": "Less guarding after kneading.",
        "plan": "Home stretches daily.",
    }
    values.update(overrides)
    rows = entries if entries is not None else [
        {"technique": Technique.PETRISSAGE, "target": Target.QUADRICEPS, "side": Side.LEFT,
         "pressure": Pressure.MEDIUM, "minutes": Decimal("10")},
    ]  # fmt: skip
    with app.app_context():
        client = db.session.get_one(Client, client_id)
        visit = Visit(
            clinic_id=client.clinic_id,
            client_id=client_id,
            therapist_id=therapist_id,
            creation_token=f"factory-{_next()}",
            **values,
        )
        visit.entries = [
            TechniqueEntry(clinic_id=client.clinic_id, position=i, **row)
            for i, row in enumerate(rows)
        ]
        db.session.add(visit)
        db.session.flush()
        if signed:
            visit.status = VisitStatus.SIGNED
            visit.signed_at = utcnow()
        db.session.commit()
        return visit.id


def library_item_details(**overrides: Any) -> homecare_ops.ItemDetails:
    """Return a valid item of a clinic's own library."""
    values: dict[str, Any] = {
        "kind": ItemKind.STRENGTHEN,
        "title": "Wall sit",
        "purpose": "This makes the front of your thigh stronger.",
        "steps": (
            "Stand with your back against a wall.",
            "Slide down a little, as if to sit.",
            "Hold, then slide back up.",
        ),
        "cautions": ("Stop if your knee hurts.",),
        "dose": Dose(hold_seconds=10, repetitions=5, times_per_day=1),
        "excluded_by": frozenset(),
        # DOMAIN.md 8.4: what the item involves.
        "areas": frozenset({Region.THIGH, Region.KNEE}),
        "uses_pressure": False,
        "weight_bearing": True,
    }
    values.update(overrides)
    return homecare_ops.ItemDetails(**values)


def make_library_item(app: Flask, owner_id: int, **overrides: Any) -> int:
    """Add an item to the owner's clinic library (version 1); return the item's id."""
    with app.test_request_context():
        owner = db.session.get_one(User, owner_id)
        login_user(owner)
        item = homecare_ops.create_library_item(Actor.of(owner), library_item_details(**overrides))
        db.session.commit()
        return item.id


def make_plan(
    app: Flask,
    client_id: int,
    therapist_id: int,
    keys: tuple[str, ...] = ("b_cold_pack",),
    *,
    note: str = "",
    notes: dict[str, str] | None = None,
    checked: bool = True,
) -> int:
    """Save a plan of library items at their usual doses; return its id.

    keys name library items as the builder does: "b_<code>" or "c_<item id>". checked runs
    the builder's operation (screening gate and exclusions); checked=False stores the plan as
    it would be after saving, with no gate and no checks, against the latest screening.
    """
    with app.test_request_context():
        user = db.session.get_one(User, therapist_id)
        login_user(user)
        client = db.session.get_one(Client, client_id)
        library = {entry.key: entry for entry in homecare_ops.list_library()}
        if not checked:
            return _store_plan(client, user, [library[key] for key in keys], note=note)
        picks = [
            homecare_ops.PlanPick(
                key=key,
                version=library[key].item.version,
                dose=library[key].item.dose,
                note=(notes or {}).get(key, ""),
            )
            for key in keys
        ]
        plan = homecare_ops.build_plan(
            Actor.of(user),
            client,
            picks,
            note=note,
            creation_token=f"factory-plan-{_next()}",
            today=date.today(),
        )
        db.session.commit()
        return plan.id


def _store_plan(
    client: Client, user: User, entries: list[homecare_ops.LibraryEntry], *, note: str
) -> int:
    screening = screening_ops.latest_screening(client)
    assert screening is not None, "store a plan for a screened client"
    plan = HomeCarePlan(
        clinic_id=client.clinic_id,
        client_id=client.id,
        screening_id=screening.id,
        created_by_id=user.id,
        creation_token=f"factory-plan-{_next()}",
        note=note,
        safety_notes=list(safety_notes(screening_ops.result_on(screening, date.today()))),
    )
    plan.items = [
        homecare_ops.snapshot_plan_item(
            entry,
            clinic_id=client.clinic_id,
            position=position,
            dose=entry.item.dose,
            note="",
            changes=(),
        )
        for position, entry in enumerate(entries)
    ]
    db.session.add(plan)
    db.session.commit()
    return plan.id


def make_handout(app: Flask, plan_id: int, user_id: int, *, render: bool = False) -> int:
    """Record a handout of a plan; return its id.

    Without render the stored PDF is a placeholder (rendering costs a noticeable fraction of a
    second, too much for every test world); with it, the real issue operation runs.
    """
    with app.test_request_context():
        user = db.session.get_one(User, user_id)
        login_user(user)
        plan = db.session.get_one(HomeCarePlan, plan_id)
        client = db.session.get_one(Client, plan.client_id)
        if render:
            today = date.today()
            document = homecare_ops.prepare_issue(
                plan, client, user.clinic, today=today, issued_at=utcnow().replace(microsecond=0)
            )
            handout = homecare_ops.issue_handout(
                Actor.of(user), plan, client, today=today, document=document, pdf=document.render()
            )
        else:
            pdf = f"%PDF-1.7 factory handout {_next()}".encode()
            handout = IssuedHandout(
                clinic_id=plan.clinic_id,
                client_id=plan.client_id,
                plan_id=plan.id,
                issued_by_id=user.id,
                page_size="A4",
                sha256=hashlib.sha256(pdf).hexdigest(),
                byte_size=len(pdf),
                pdf=pdf,
            )
            db.session.add(handout)
        db.session.commit()
        return handout.id


@dataclass(frozen=True)
class ClinicIds:
    """The ids of one clinic's rows in a two-clinic world."""

    clinic_id: int
    owner_id: int
    therapist_id: int
    client_id: int
    owner_email: str
    therapist_email: str
    screening_id: int
    visit_id: int
    # Home care: an item of the clinic's own, and a plan (stored unchecked: the client has
    # warning signs) with a handout.
    library_item_id: int
    plan_id: int
    handout_id: int


@dataclass(frozen=True)
class World:
    """Two clinics side by side, for isolation tests."""

    a: ClinicIds
    b: ClinicIds


def _make_side(app: Flask, name: str, tag: str) -> ClinicIds:
    clinic_id = make_clinic(app, name=name)
    owner_email = f"owner-{tag}@example.com"
    therapist_email = f"therapist-{tag}@example.com"
    owner_id = make_user(
        app, clinic_id, email=owner_email, full_name=f"Owen Owner {tag}", role=Role.OWNER
    )
    therapist_id = make_user(
        app, clinic_id, email=therapist_email, full_name=f"Tess Therapist {tag}"
    )
    client_id = make_client(
        app,
        clinic_id,
        therapist_id,
        first_name=f"Secret{tag}",
        last_name=f"Client{tag}",
        email=f"client-{tag}@example.com",
    )
    screening_id = make_screening(
        app,
        client_id,
        therapist_id,
        dvt_signs={"side": "left", "detail": f"Secret{tag} calf"},
        skin_break={"side": "right", "region": "shin"},
        anticoagulants=True,
    )
    visit_id = make_visit(app, client_id, therapist_id, subjective=f"Secret{tag} visit note")
    library_item_id = make_library_item(app, owner_id, title=f"Secret{tag} wall sit")
    plan_id = make_plan(
        app,
        client_id,
        therapist_id,
        ("b_cold_pack", f"c_{library_item_id}"),
        note=f"Secret{tag} plan note",
        checked=False,
    )
    handout_id = make_handout(app, plan_id, therapist_id)
    return ClinicIds(
        clinic_id,
        owner_id,
        therapist_id,
        client_id,
        owner_email,
        therapist_email,
        screening_id,
        visit_id,
        library_item_id=library_item_id,
        plan_id=plan_id,
        handout_id=handout_id,
    )


def make_world(app: Flask) -> World:
    """Create clinic A and clinic B, each with an owner, a therapist and a client."""
    return World(
        a=_make_side(app, "Clinic Alpha", "Alpha"), b=_make_side(app, "Clinic Beta", "Beta")
    )


def sign_in(app: Flask, client: FlaskClient, user_id: int) -> None:
    """Sign a test client in as a user without going through the login form."""
    with app.app_context():
        user = db.session.get_one(User, user_id)
        token = auth_ops.start_login_session(user, remote_addr="127.0.0.1", user_agent="pytest")
        db.session.commit()
    with client.session_transaction() as session:
        session["sid"] = token
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session.permanent = True


def make_finding(
    code: str,
    tier: Tier,
    *,
    side: Laterality | None = Laterality.LEFT,
    region: Region | None = None,
    cap: Pressure | None = None,
    cleared: bool = False,
) -> Finding:
    """Build a finding as the screening reports it (for rules read by code, new questions too)."""
    return Finding(
        code=code,
        tier=tier,
        reason="",
        lifted_by=LiftedBy.MEDICAL_CLEARANCE,
        side=side,
        region=region,
        max_pressure=cap,
        cleared=cleared,
    )
