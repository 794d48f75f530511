"""Fill an empty database with one busy clinic's made-up records, for the load test.

Run: .venv/bin/python bench/seed.py --database-url URL [--clients 10000] [--visits 100000]
     [--entries 500000] [--therapists N] [--seed 7] [--password PASSWORD] [--force]

It applies the migrations (as `flask db upgrade` does) to an empty database, then bulk-inserts
with SQLAlchemy Core: one clinic, an owner and N therapists, clients with varied names,
screenings scored by the real rules (clear, modify, avoid an area, refer), "no changes"
confirmations, visits over the last three years (signed, and recent drafts) with technique
entries the screening allows, home pain logs, KOOS JR and LEFS questionnaires scored by the
real tables, home-care plans built from the library, and issued handouts rendered by the real
PDF renderer. Denormalised columns (the client's screening tier, a visit's adverse flag) are
set as the app's operations set them. Without --database-url it uses the app's configured
database (DATABASE_URL, else instance/clinic.sqlite3). A database that already holds accounts
is refused unless --force, which drops every table first. Random choices are seeded, so the
same arguments give the same records (dated relative to today).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from itertools import product
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
import sqlalchemy as sa
from flask import Flask
from flask_login import login_user

from clinic import create_app
from clinic.auth.operations import hash_password
from clinic.domain.catalogue import Laterality, Pressure, Region, Side, Target, Technique
from clinic.domain.client_search import client_search_text
from clinic.domain.homecare import ITEMS, assess_item, safety_notes
from clinic.domain.intake import AffectedKnee, KneeDiagnosis, KneePainCause, phone_digits
from clinic.domain.outcomes import (
    KOOS_JR_ITEMS,
    LEFS_ITEMS,
    Measure,
    score_koos_jr,
    score_lefs,
)
from clinic.domain.screening import (
    QUESTIONNAIRE_VERSION,
    Answer,
    PlannedTechnique,
    ScreeningResult,
    Tier,
    blank_answers,
    check_technique,
    dump_answers,
    dump_result,
    evaluate_screening,
    load_result,
)
from clinic.domain.visits import AdverseResponse, Swelling, VisitStatus, is_adverse
from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.models import (
    Client,
    Clinic,
    HomeCarePlan,
    HomeCarePlanItem,
    IssuedHandout,
    OutcomeAssessment,
    PainLogEntry,
    Role,
    Screening,
    ScreeningConfirmation,
    TechniqueEntry,
    User,
    Visit,
)

DEFAULT_PASSWORD = "bench-password-2026"
CLINIC_NAME = "Bench Street Massage"
HISTORY_DAYS = 3 * 365
SCREENING_VALID_DAYS = 30
BATCH_ROWS = 20_000


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    """
Ada Adam Aisha Alan Alice Amara Amelia Ana Andre Angela Anna Anton Arjun Astrid Aurora Ben
Bianca Boris Bruno Camila Carla Carlos Carmen Chen Chloe Chris Clara Connor Dana Daniel Dara
David Diego Dmitri Elena Eli Elif Ella Emil Emma Eric Erin Eva Farah Felix Fatima Fiona Frank
Freya Gabriel Grace Greta Hana Hannah Hassan Helen Hugo Ian Ida Ines Ingrid Irene Isaac Ivan
Jack Jade James Jana Javier Jin Joan Jonas Jose Julia Kai Karen Karim Kate Kenji Kim Lara Laura
Leah Lena Leo Liam Lily Linh Lucas Lucia Luis Maya Mara Marco Maria Mark Marta Mateo Mei Mia
Miguel Mila Nadia Nina Noah Nora Olga Oliver Omar Oscar Paula Pedro Petra Priya Rafael Rosa Ruth
Sam Sara Sean Sofia Sonia Stefan Tara Teresa Theo Tom Uma Vera Victor Wei Yara Yusuf Zara Zoe
"""
)

LAST_NAMES = _words(
    """
Abbott Adams Ahmed Alvarez Andersen Arnold Bailey Baker Banerjee Barnes Becker Bell Bennett
Berg Bishop Brooks Brown Bui Burke Campbell Carter Castro Chan Chavez Clark Cohen Cole Collins
Cooper Costa Cruz Davies Dias Diaz Dixon Doyle Duarte Dubois Edwards Ellis Evans Farouk Ferrari
Fischer Fisher Fleming Flores Foster Fox Garcia Gibson Gomez Gonzalez Graham Grant Gray Greene
Gupta Hall Hansen Harris Hayes Hernandez Hill Hoffman Holm Hughes Hunt Ibrahim Ito Jackson
Jansen Jensen Johansson Johnson Jones Kaur Keller Kelly Khan Kim King Klein Koch Kowalski Kumar
Lambert Larsen Laurent Lee Lewis Lindqvist Lopez Lund Marsh Martin Martinez Mason Meyer Miller
Mitchell Moreau Morgan Morris Muller Murphy Murray Nakamura Nelson Nguyen Nielsen Novak Nowak
OBrien Olsen Ortiz Owens Park Parker Patel Perez Perry Peters Petrov Phillips Popescu Price
Quinn Ramirez Reed Reyes Richter Rivera Roberts Robinson Rossi Russo Ryan Sanchez Santos
Schmidt Schneider Scott Shah Silva Simmons Singh Smith Sousa Stewart Sullivan Suzuki Tanaka
Taylor Thomas Thompson Torres Tran Turner Walker Wallace Walsh Wang Ward Watson Weber Wells
White Williams Wilson Wong Wood Wright Yamamoto Young Zhang Zimmermann
"""
)

SUBJECTIVE = (
    "Stairs still hard in the morning.",
    "Slept better this week; kneeling is sore.",
    "Walked the dog twice without stopping.",
    "Knee stiff after the long drive on Sunday.",
    "Did the stretches most days.",
    "Pain after gardening, settled by the evening.",
)
ASSESSMENT = (
    "Less guarding after kneading.",
    "Quadriceps tone eased; bend improved a little.",
    "Tender along the iliotibial band, less than last time.",
    "Calf tight; responded well to stretching.",
)
PLAN = (
    "Home stretches daily; review in two weeks.",
    "Keep up the straight leg raises.",
    "Cold pack after activity; next visit as booked.",
    "Continue the plan; add the calf stretch.",
)


@dataclass(frozen=True)
class Template:
    """A set of screening answers, evaluated once by the real rules."""

    name: str
    answers: dict[str, Any]
    result: dict[str, Any]
    tier: Tier
    effective_tier: Tier
    combos: tuple[tuple[Technique, Target, Side, Pressure], ...]
    domain_result: ScreeningResult


def _answers(**yes: dict[str, str] | bool) -> dict[str, Answer]:
    answers = blank_answers()
    for code, details in yes.items():
        extra = details if isinstance(details, dict) else {}
        answers[code] = Answer(
            yes=True,
            side=Laterality(extra["side"]) if "side" in extra else None,
            region=Region(extra["region"]) if "region" in extra else None,
        )
    return answers


# (name, answers, weight among ordinary screenings); refer templates are used separately.
ANSWER_TEMPLATES: dict[str, tuple[dict[str, Answer], int]] = {
    "clear": (_answers(), 50),
    "anticoagulants": (_answers(anticoagulants=True), 8),
    "neuropathy": (_answers(neuropathy=True), 7),
    "osteoporosis": (_answers(osteoporosis=True, product_allergy=True), 5),
    "previous_dvt": (_answers(previous_dvt={"side": "left"}), 5),
    "replacement": (_answers(post_replacement_cleared={"side": "right"}), 5),
    "varicose": (_answers(varicose_veins={"side": "right", "region": "calf"}), 8),
    "bruise": (_answers(bruise={"side": "left", "region": "thigh"}, anticoagulants=True), 6),
    "skin": (_answers(skin_break={"side": "both", "region": "shin"}), 6),
}
REFER_TEMPLATES: dict[str, dict[str, Answer]] = {
    "dvt_signs": _answers(dvt_signs={"side": "left"}),
    "blood_pressure": _answers(hypertension_uncontrolled=True),
}


def build_template(name: str, answers: dict[str, Answer]) -> Template:
    """Evaluate one set of answers and list the technique entries its result allows."""
    result = evaluate_screening(answers, age=60)
    stored = dump_result(result)
    loaded = load_result(stored)
    combos = tuple(
        (technique, target, side, pressure)
        for technique, target, side, pressure in product(Technique, Target, Side, Pressure)
        if technique.allows(target)
        and not check_technique(loaded, PlannedTechnique(technique, target, side, pressure))
    )
    return Template(
        name, dump_answers(answers), stored, result.tier, loaded.effective_tier, combos, loaded
    )


class Writer:
    """Rows buffered per table and inserted in foreign-key order, in batches."""

    def __init__(self, engine: sa.Engine, tables: Sequence[sa.Table]) -> None:
        self.engine = engine
        self.tables = list(tables)
        self.rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in self.tables}
        self.counts: Counter[str] = Counter()
        self.next_ids: Counter[str] = Counter()

    def new_id(self, table: sa.Table) -> int:
        self.next_ids[table.name] += 1
        return self.next_ids[table.name]

    def add(self, table: sa.Table, row: dict[str, Any]) -> None:
        self.rows[table.name].append(row)

    def maybe_flush(self) -> None:
        """Insert the buffered rows once there are enough; call between whole clients."""
        if sum(len(rows) for rows in self.rows.values()) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        with self.engine.begin() as connection:
            for table in self.tables:
                rows = self.rows[table.name]
                if rows:
                    insert_rows(connection, table, rows)
                    self.counts[table.name] += len(rows)
                    self.rows[table.name] = []


def insert_rows(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows as the driver's bulk path takes them: COPY on PostgreSQL.

    SQLAlchemy's executemany spends most of its time building each row's parameters; here
    each column's type conversion (enums, UTC times) is looked up once and applied in a
    plain loop, and the rows go to sqlite3's executemany or PostgreSQL's COPY.
    """
    dialect = connection.dialect
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for names, group in groups.items():
        processors = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        ]
        converted = [(i, convert) for i, convert in enumerate(processors) if convert is not None]
        values: list[Sequence[Any]] = []
        for row in group:
            value = [row[name] for name in names]
            for i, convert in converted:
                value[i] = convert(value[i])
            values.append(value)
        raw = connection.connection.driver_connection
        if dialect.name == "postgresql":
            # Table and column names come from the models' metadata, never from input.
            columns = ", ".join(f'"{name}"' for name in names)
            copy_rows = f'COPY "{table.name}" ({columns}) FROM STDIN'
            with raw.cursor() as cursor, cursor.copy(copy_rows) as copy:  # type: ignore[union-attr]
                for value in values:
                    copy.write_row(value)
        else:
            columns = ", ".join(f'"{name}"' for name in names)
            marks = ", ".join("?" for _ in names)
            raw.executemany(  # type: ignore[union-attr]
                f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})',  # noqa: S608
                values,
            )


@dataclass
class Options:
    clients: int
    visits: int
    entries: int
    therapists: int
    plans: int
    handouts: int
    password: str
    seed: int


@dataclass
class Seeded:
    """What later steps need: ids and the plans whose handouts to render."""

    clinic_id: int = 0
    owner_id: int = 0
    therapist_ids: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    plans_to_issue: list[tuple[int, int, int]] = field(default_factory=list)


def _at(day: date, clock: dtime) -> datetime:
    return datetime.combine(day, clock, tzinfo=UTC)


def _spread(rng: random.Random, total: int, buckets: int, weights: Sequence[float]) -> list[int]:
    counts = [0] * buckets
    for index in rng.choices(range(buckets), weights=weights, k=total):
        counts[index] += 1
    return counts


def _entry_counts(rng: random.Random, visits: int, entries: int) -> list[int]:
    if visits == 0:
        return []
    base = max(1, min(2, entries // visits))
    counts = [base] * visits
    left = max(0, entries - base * visits)
    cap = 12
    while left:
        index = rng.randrange(visits)
        if counts[index] < cap:
            counts[index] += 1
            left -= 1
    return counts


def _visit_days(rng: random.Random, count: int, today: date, active: bool) -> list[date]:
    """Visit dates 5-21 days apart, ending recently for active clients."""
    if count == 0:
        return []
    gaps = [rng.randint(5, 21) for _ in range(count - 1)]
    span = sum(gaps)
    if span > HISTORY_DAYS - 5:
        gaps = [max(1, gap * (HISTORY_DAYS - 5) // span) for gap in gaps]
        span = sum(gaps)
    room = HISTORY_DAYS - span
    # Active clients were seen in the last three weeks; the others stopped coming earlier.
    back = rng.randint(0, min(20, room)) if active else rng.randint(min(21, room), room)
    days = [today - timedelta(days=back + span)]
    for gap in gaps:
        days.append(days[-1] + timedelta(days=gap))
    return days


def seed(app: Flask, options: Options) -> Seeded:
    """Insert every row; return the ids later steps need."""
    rng = random.Random(options.seed)
    today = date.today()
    engine = db.engine
    names_in_order = [
        Clinic.__tablename__,
        User.__tablename__,
        Client.__tablename__,
        Screening.__tablename__,
        ScreeningConfirmation.__tablename__,
        Visit.__tablename__,
        TechniqueEntry.__tablename__,
        PainLogEntry.__tablename__,
        OutcomeAssessment.__tablename__,
        HomeCarePlan.__tablename__,
        HomeCarePlanItem.__tablename__,
    ]
    tables = [db.metadata.tables[name] for name in names_in_order]
    (t_clinic, t_user, t_client, t_screening, t_confirm, t_visit, t_entry, t_pain, t_outcome,
     t_plan, t_plan_item) = tables  # fmt: skip
    out = Writer(engine, tables)
    seeded = Seeded()
    now = datetime.now(UTC)

    ordinary = {name: build_template(name, a) for name, (a, _) in ANSWER_TEMPLATES.items()}
    weights = [w for _, w in ANSWER_TEMPLATES.values()]
    names = list(ordinary)
    refer = {name: build_template(name, a) for name, a in REFER_TEMPLATES.items()}

    seeded.clinic_id = out.new_id(t_clinic)
    out.add(
        t_clinic,
        {
            "id": seeded.clinic_id, "name": CLINIC_NAME, "address": "12 Bench Street",
            "phone": "555 0100", "is_demo": True, "screening_valid_days": SCREENING_VALID_DAYS,
            "paper_size": "A4", "require_two_factor": False, "retention_years": 10,
            "version": 1, "created_at": now, "updated_at": now,
        },
    )  # fmt: skip
    password_hash = hash_password(options.password)
    people = [("Olive Owner", "owner@bench.example.com", Role.OWNER)] + [
        (f"{FIRST_NAMES[i * 7 % len(FIRST_NAMES)]} Therapist{i + 1}",
         f"therapist{i + 1}@bench.example.com", Role.THERAPIST)
        for i in range(options.therapists)
    ]  # fmt: skip
    for full_name, email, role in people:
        user_id = out.new_id(t_user)
        out.add(
            t_user,
            {
                "id": user_id, "clinic_id": seeded.clinic_id, "email": email,
                "full_name": full_name, "role": role, "password_hash": password_hash,
                "active": True, "must_change_password": False, "last_login_at": None,
                "totp_secret": None, "totp_enabled_at": None, "totp_last_step": None,
                "version": 1, "created_at": now, "updated_at": now,
            },
        )  # fmt: skip
        seeded.emails.append(email)
        if role is Role.OWNER:
            seeded.owner_id = user_id
        else:
            seeded.therapist_ids.append(user_id)
    therapists = seeded.therapist_ids or [seeded.owner_id]

    engagement = [rng.expovariate(1.0) + 0.15 for _ in range(options.clients)]
    visit_counts = _spread(rng, options.visits, options.clients, engagement)
    entry_counts = iter(_entry_counts(rng, options.visits, options.entries))
    plan_share = options.plans / max(1, options.clients)

    for number in range(options.clients):
        client_id = out.new_id(t_client)
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        if rng.random() < 0.08:
            last = f"{last}-{rng.choice(LAST_NAMES)}"
        knee = rng.choices(list(AffectedKnee), weights=[40, 40, 20])[0]
        sides = [Side.LEFT, Side.RIGHT] if knee is AffectedKnee.BOTH else [Side(knee.value)]
        therapist = rng.choice(therapists)
        active = rng.random() < 0.25
        days = _visit_days(rng, visit_counts[number], today, active)
        if days:
            first_day = days[0] - timedelta(days=rng.randint(0, 7))
        else:
            first_day = today - timedelta(days=rng.randint(0, HISTORY_DAYS))
        first_day = max(first_day, today - timedelta(days=HISTORY_DAYS + 7))
        birth = date(rng.randint(1938, 2004), rng.randint(1, 12), rng.randint(1, 28))
        phone = f"555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        allergies = rng.random() < 0.07
        template = ordinary[rng.choices(names, weights=weights)[0]]

        # Screenings and confirmations: a visit needs one taken within the valid days and the
        # clot question asked that day, so a visit either brings a new screening or a
        # "no changes" confirmation.
        screenings: list[tuple[int, date, Template]] = []
        person = (client_id, birth, therapist)

        def screen(
            day: date,
            chosen: Template,
            person: tuple[int, date, int] = person,
            screenings: list[tuple[int, date, Template]] = screenings,
        ) -> int:
            screening_id = _add_screening(out, t_screening, seeded.clinic_id, person, day, chosen)
            screenings.append((screening_id, day, chosen))
            return screening_id

        if days or rng.random() < 0.85:
            screen(days[0] if days else first_day, template)
        progress = rng.uniform(0.0, 0.6)
        baseline = {side: rng.randint(4, 9) for side in sides}
        visit_ids: list[tuple[int, date]] = []
        for index, day in enumerate(days):
            screening_id, taken_on, current = screenings[-1]
            if (day - taken_on).days > SCREENING_VALID_DAYS:
                if rng.random() < 0.15:
                    template = ordinary[rng.choices(names, weights=weights)[0]]
                screening_id = screen(day, template)
                current = template
            elif day != taken_on:
                out.add(
                    t_confirm,
                    {
                        "id": out.new_id(t_confirm), "clinic_id": seeded.clinic_id,
                        "client_id": client_id, "screening_id": screening_id,
                        "confirmed_on": day, "confirmed_by_id": therapist,
                        "confirmed_at": _at(day, dtime(9, 0)),
                    },
                )  # fmt: skip
            visit_id = out.new_id(t_visit)
            visit_ids.append((visit_id, day))
            by = therapist if rng.random() < 0.85 else rng.choice(therapists)
            start = dtime(rng.randint(8, 17), rng.choice((0, 30)))
            length = rng.choice((45, 60, 60, 75, 90))
            fraction = index / max(1, len(days) - 1)
            pain: dict[str, int | None] = {}
            for side in (Side.LEFT, Side.RIGHT):
                if side in sides:
                    before = round(baseline[side] * (1 - progress * fraction)) + rng.randint(-1, 1)
                    before = min(10, max(0, before))
                    after = min(10, max(0, before - rng.randint(0, 3)))
                    pain[f"pain_before_{side.value}"] = before
                    pain[f"pain_after_{side.value}"] = after
                else:
                    pain[f"pain_before_{side.value}"] = None
                    pain[f"pain_after_{side.value}"] = None
            response = AdverseResponse.NONE
            if rng.random() < 0.01:
                response = AdverseResponse.MORE_PAIN
                worse = sides[0].value
                pain[f"pain_after_{worse}"] = min(10, (pain[f"pain_before_{worse}"] or 0) + 2)
            pairs = [(pain[f"pain_before_{s.value}"], pain[f"pain_after_{s.value}"]) for s in sides]
            draft = (today - day).days <= 2 and rng.random() < 0.4
            # Nothing is recorded later than now (a visit today may not have happened yet).
            visited_at = min(_at(day, start), now - timedelta(minutes=5))
            out.add(
                t_visit,
                {
                    "id": visit_id, "clinic_id": seeded.clinic_id, "client_id": client_id,
                    "therapist_id": by, "screening_id": screening_id,
                    "creation_token": f"seed-{visit_id}", "visit_on": day, "start_time": start,
                    "length_minutes": length, "knees": knee, **pain,
                    "subjective": rng.choice(SUBJECTIVE),
                    "swelling": rng.choice((None, Swelling.NONE, Swelling.MILD)),
                    "flexion_left_degrees": None, "flexion_right_degrees": None,
                    "palpation": "", "assessment": rng.choice(ASSESSMENT),
                    "plan": rng.choice(PLAN),
                    "next_visit_on": days[index + 1] if index + 1 < len(days) else None,
                    "adverse_response": response,
                    "adverse_note": "Sore for a day." if response is not AdverseResponse.NONE
                    else "",
                    "adverse_flag": is_adverse(pairs, response),
                    "status": VisitStatus.DRAFT if draft else VisitStatus.SIGNED,
                    "signed_at": None if draft else min(visited_at + timedelta(hours=1), now),
                    "discarded_at": None, "version": 1 if draft else 2,
                    "created_at": visited_at, "updated_at": visited_at,
                },
            )  # fmt: skip
            count = next(entry_counts)
            allowed = [c for c in current.combos if c[2] in sides]
            budget = max(1, length // count)
            for position in range(count):
                technique, target, side, pressure = rng.choice(allowed)
                minutes = min(budget, rng.choice((2, 3, 4, 5, 6, 8, 10)))
                out.add(
                    t_entry,
                    {
                        "id": out.new_id(t_entry), "clinic_id": seeded.clinic_id,
                        "visit_id": visit_id, "position": position, "technique": technique,
                        "target": target, "side": side,
                        "pressure": pressure if technique.has_pressure else None,
                        "minutes": Decimal(minutes), "repetitions": None,
                        "hold_seconds": 30 if technique is Technique.PASSIVE_STRETCH else None,
                        "note": "", "override_reason": "",
                    },
                )  # fmt: skip

        # A few clients were last screened with warning signs: referred, not treated since.
        if rng.random() < 0.04 and (not days or (today - days[-1]).days > 3):
            last_seen = days[-1] if days else first_day
            referred_on = min(today, last_seen + timedelta(days=rng.randint(1, 40)))
            screen(referred_on, refer[rng.choice(list(refer))])

        if days and rng.random() < 0.3:
            for _ in range(rng.randint(3, 12)):
                day = rng.choice(days) + timedelta(days=rng.randint(1, 4))
                if day > today:
                    continue
                out.add(
                    t_pain,
                    {
                        "id": out.new_id(t_pain), "clinic_id": seeded.clinic_id,
                        "client_id": client_id, "logged_on": day, "knee": rng.choice(sides),
                        "score": rng.randint(1, 8), "note": "", "recorded_by_id": therapist,
                        "recorded_at": _at(day, dtime(18, 0)),
                    },
                )  # fmt: skip
        if len(days) >= 3 and rng.random() < 0.6:
            measure = Measure.KOOS_JR if rng.random() < 0.6 else Measure.LEFS
            for day in days[:: rng.randint(5, 8)]:
                _add_outcome(out, t_outcome, rng, seeded.clinic_id, client_id, therapist,
                             measure, day, sides[0])  # fmt: skip

        latest = screenings[-1] if screenings else None
        if latest is not None and latest[2].effective_tier is not Tier.REFER:
            plan_day = max(latest[1], days[-1] if days else latest[1])
            if rng.random() < plan_share:
                plan_id = _add_plan(out, t_plan, t_plan_item, rng, seeded.clinic_id,
                                    client_id, therapist, latest, plan_day)  # fmt: skip
                seeded.plans_to_issue.append((plan_id, client_id, therapist))

        email = f"{first}.{last}{number}@example.com".lower()
        digits = phone_digits(phone)
        out.add(
            t_client,
            {
                "id": client_id, "clinic_id": seeded.clinic_id, "first_name": first,
                "last_name": last, "date_of_birth": birth, "gender": "", "phone": phone,
                "phone_digits": digits, "email": email,
                # As the app's before_insert event sets it (clinic.models.client).
                "search_text": client_search_text(first, last, email, digits),
                "address": f"{rng.randint(1, 250)} {rng.choice(LAST_NAMES)} Road",
                "emergency_contact_name": f"{rng.choice(FIRST_NAMES)} {last}",
                "emergency_contact_phone": f"555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "referring_clinician": "", "affected_knee": knee,
                "main_complaint": "Knee pain on stairs and after sitting.",
                "onset_date": first_day - timedelta(days=rng.randint(30, 700)),
                "cause": rng.choice(list(KneePainCause)),
                "diagnosis": rng.choice(list(KneeDiagnosis)),
                "diagnosis_detail": "", "medications": "",
                "allergies": "Almond oil" if allergies else "",
                "allergic_to_oils_or_nuts": allergies, "goals": "Walk without pain.",
                "consent_to_treatment": True, "consent_date": first_day,
                "consent_name": f"{first} {last}", "consent_to_keep_records": True,
                "screening_tier": latest[2].effective_tier if latest else None,
                "screened_on": latest[1] if latest else None,
                "screening_recheck_on": None,
                "archived_at": _at(today, dtime(8, 0)) if not active and rng.random() < 0.03
                else None,
                "created_by_id": therapist, "updated_by_id": therapist, "version": 1,
                "created_at": _at(first_day, dtime(8, 0)),
                "updated_at": _at(first_day, dtime(8, 0)),
            },
        )  # fmt: skip
        out.maybe_flush()
        if (number + 1) % 1000 == 0:
            print(f"  {number + 1} clients generated", flush=True)
    out.flush()
    print("  rows:", ", ".join(f"{name} {out.counts[name]}" for name in out.rows), flush=True)
    return seeded


def _add_screening(
    out: Writer,
    table: sa.Table,
    clinic_id: int,
    person: tuple[int, date, int],
    day: date,
    chosen: Template,
) -> int:
    client_id, birth, therapist = person
    screening_id = out.new_id(table)
    out.add(
        table,
        {
            "id": screening_id, "clinic_id": clinic_id, "client_id": client_id,
            "taken_on": day, "questionnaire_version": QUESTIONNAIRE_VERSION,
            "answers": chosen.answers, "result": chosen.result, "tier": chosen.tier,
            "client_age": (day - birth).days // 365, "signed_by_id": therapist,
            "signed_at": _at(day, dtime(9, 0)),
        },
    )  # fmt: skip
    return screening_id


def _add_outcome(
    out: Writer,
    table: sa.Table,
    rng: random.Random,
    clinic_id: int,
    client_id: int,
    therapist: int,
    measure: Measure,
    day: date,
    knee: Side,
) -> None:
    if measure is Measure.KOOS_JR:
        answers = {item.value: rng.randint(0, 3) for item in KOOS_JR_ITEMS}
        koos = score_koos_jr(answers)
        raw, score, on_knee = koos.raw_sum, koos.interval_score, knee
    else:
        answers = {item.value: rng.randint(1, 4) for item in LEFS_ITEMS}
        raw = score_lefs(answers)
        score, on_knee = Decimal(raw), None
    out.add(
        table,
        {
            "id": out.new_id(table), "clinic_id": clinic_id, "client_id": client_id,
            "measure": measure, "taken_on": day, "knee": on_knee, "answers": answers,
            "raw_score": raw, "score": score, "recorded_by_id": therapist,
            "recorded_at": _at(day, dtime(10, 0)),
        },
    )  # fmt: skip


def _add_plan(
    out: Writer,
    t_plan: sa.Table,
    t_item: sa.Table,
    rng: random.Random,
    clinic_id: int,
    client_id: int,
    therapist: int,
    latest: tuple[int, date, Template],
    day: date,
) -> int:
    screening_id, _, template = latest
    result = template.domain_result
    allowed = [(item, assess_item(item, result)) for item in ITEMS]
    allowed = [(item, a) for item, a in allowed if not a.excluded]
    picked = rng.sample(allowed, k=min(len(allowed), rng.randint(2, 4)))
    plan_id = out.new_id(t_plan)
    out.add(
        t_plan,
        {
            "id": plan_id, "clinic_id": clinic_id, "client_id": client_id,
            "screening_id": screening_id, "created_by_id": therapist,
            "created_at": _at(day, dtime(12, 0)), "creation_token": f"seed-plan-{plan_id}",
            "note": "", "safety_notes": list(safety_notes(result)),
        },
    )  # fmt: skip
    columns = [column.key for column in t_item.columns if column.key != "id"]
    for position, (item, assessment) in enumerate(picked):
        entry = homecare_ops.LibraryEntry(key=f"b_{item.code}", item=item)
        row = homecare_ops.snapshot_plan_item(
            entry, clinic_id=clinic_id, position=position, dose=item.dose, note="",
            changes=assessment.changes,
        )  # fmt: skip
        values = {name: getattr(row, name) for name in columns}
        values.update(id=out.new_id(t_item), plan_id=plan_id)
        out.add(t_item, values)
    return plan_id


def issue_handouts(app: Flask, seeded: Seeded, count: int, rng: random.Random) -> int:
    """Render real handout PDFs for some plans and keep them as issued handouts."""
    chosen = rng.sample(seeded.plans_to_issue, k=min(count, len(seeded.plans_to_issue)))
    issued = 0
    for plan_id, client_id, therapist_id in sorted(chosen):
        with app.test_request_context():
            user = db.session.get_one(User, therapist_id)
            login_user(user)
            plan = db.session.get_one(HomeCarePlan, plan_id)
            client = db.session.get_one(Client, client_id)
            issued_at = plan.created_at.replace(microsecond=0)
            pdf = homecare_ops.render_handout(
                plan, client, user.clinic, start_on=issued_at.date(), created=issued_at
            )
            db.session.add(
                IssuedHandout(
                    clinic_id=plan.clinic_id, client_id=client.id, plan_id=plan.id,
                    issued_by_id=user.id, issued_at=issued_at, page_size="A4",
                    sha256=hashlib.sha256(pdf).hexdigest(), byte_size=len(pdf), pdf=pdf,
                )
            )  # fmt: skip
            db.session.commit()
            issued += 1
        if issued % 50 == 0:
            print(f"  {issued} handouts rendered", flush=True)
    return issued


def prepare_schema(app: Flask, force: bool) -> None:
    """Refuse a database with accounts (unless forced, which empties it), then migrate it."""
    engine = db.engine
    inspector = sa.inspect(engine)
    existing = inspector.get_table_names()
    if "users" in existing:
        with engine.connect() as connection:
            accounts = connection.scalar(sa.text("SELECT count(*) FROM users")) or 0
        if accounts and not force:
            raise SystemExit(
                f"{engine.url.render_as_string(hide_password=True)} already holds {accounts} "
                "accounts. Seed an empty database, or pass --force to drop every table first."
            )
    if force and existing:
        print("  --force: dropping every table", flush=True)
        reflected = sa.MetaData()
        reflected.reflect(engine)
        with engine.begin() as connection:
            reflected.drop_all(connection)
    if force and engine.dialect.name == "postgresql":
        # Trigger functions outlive their tables; the migrations make them again.
        with engine.begin() as connection:
            for function in (
                "audit_entries_refuse_change",
                "clients_keep_tally",
                "visits_keep_tally",
            ):
                connection.execute(sa.text(f"DROP FUNCTION IF EXISTS {function}()"))
    flask_migrate.upgrade()


def reset_sequences(engine: sa.Engine, tables: Iterable[str]) -> None:
    """Move PostgreSQL's id sequences past the ids given explicitly."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for name in tables:
            # Table names come from the models' metadata, never from input.
            statement = (
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
            )
            connection.execute(sa.text(statement))


def analyse(engine: sa.Engine) -> None:
    """Give PostgreSQL's planner statistics, as autovacuum soon would.

    SQLite is left without statistics, as the app's own database file is: nothing in the app
    runs ANALYZE, and the plans must be good without it.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            sa.text("VACUUM ANALYZE")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: DATABASE_URL or instance/clinic.sqlite3")
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument(
        "--therapists",
        type=int,
        default=None,
        help="default: 8, and one per 1,250 clients beyond 10,000 (each sees about 11 visits a "
        "day, at every size: a therapist's drafts do not grow with the clinic)",
    )
    parser.add_argument("--plans", type=int, default=None, help="default: a tenth of the clients")
    parser.add_argument("--handouts", type=int, default=20, help="real PDFs rendered")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="for every seeded account")
    parser.add_argument("--force", action="store_true", help="drop every table of a used database")
    args = parser.parse_args()
    if args.therapists is None:
        args.therapists = max(8, args.clients // 1250)
    if min(args.clients, args.visits, args.entries, args.therapists) < 0 or args.clients < 1:
        parser.error("the sizes must be positive")
    if args.entries < args.visits:
        parser.error("--entries must be at least --visits (every visit has an entry)")
    if len(args.password) < 12:
        parser.error("--password must have at least 12 characters, as the app requires")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    options = Options(
        clients=args.clients,
        visits=args.visits,
        entries=args.entries,
        therapists=args.therapists,
        plans=args.plans if args.plans is not None else args.clients // 10,
        handouts=args.handouts,
        password=args.password,
        seed=args.seed,
    )
    app = create_app()
    started = time.perf_counter()
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=True)
        print(f"Seeding {url}", flush=True)
        prepare_schema(app, args.force)
        migrated = time.perf_counter()
        print(f"  schema migrated in {migrated - started:.1f} s", flush=True)
        seeded = seed(app, options)
        reset_sequences(db.engine, [t.name for t in db.metadata.sorted_tables if "id" in t.c])
        inserted = time.perf_counter()
        print(f"  rows inserted in {inserted - migrated:.1f} s", flush=True)
        issued = issue_handouts(app, seeded, options.handouts, random.Random(options.seed + 1))
        reset_sequences(db.engine, ["issued_handouts"])
        rendered = time.perf_counter()
        print(f"  {issued} handouts rendered in {rendered - inserted:.1f} s", flush=True)
        analyse(db.engine)
    total = time.perf_counter() - started
    print(
        f"Done in {total:.1f} s: {options.clients} clients, {options.visits} visits, "
        f"{options.entries} technique entries, {options.therapists} therapists.\n"
        f"Sign in with any of these accounts, password {options.password!r}:"
    )
    for email in seeded.emails[:9]:
        print(f"  {email}")
    if len(seeded.emails) > 9:
        print(
            f"  ... and {len(seeded.emails) - 9} more, therapist9@ to therapist{options.therapists}@"
        )


if __name__ == "__main__":
    main()
