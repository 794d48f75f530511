"""Commands under `flask --app clinic clinic ...`.

Each command changes rows through operations and commits once at its end; a refusal commits
nothing (the session is discarded with the app context).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from clinic import backup, clock
from clinic.audit.trail import Actor
from clinic.auth import operations as auth_ops
from clinic.auth import two_factor
from clinic.clients import operations as client_ops
from clinic.domain.errors import RuleViolations
from clinic.domain.intake import AffectedKnee, KneeDiagnosis, KneePainCause
from clinic.extensions import db
from clinic.models import Client, Clinic, Role, User

group = AppGroup("clinic", help="Manage the clinic app.")

DEMO_CLINIC_NAME = "Demo Knee Clinic (fictional data)"
DEMO_OWNER_EMAIL = "demo.owner@example.com"
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 (a published demo login, not a secret)


@group.command("create-user")
@click.option("--email", required=True, help="Sign-in email address.")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.THERAPIST.value,
    show_default=True,
)
@click.option(
    "--clinic",
    "clinic_name",
    help="Clinic name; created if no clinic of that name exists. Required for the first user.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="CLINIC_NEW_USER_PASSWORD",
    help="Read from CLINIC_NEW_USER_PASSWORD or asked for when omitted.",
)
@click.option(
    "--one-time",
    is_flag=True,
    help="Make the user choose a new password at sign-in (within ONE_TIME_PASSWORD_HOURS).",
)
def create_user_command(
    email: str, full_name: str, role: str, clinic_name: str | None, password: str, one_time: bool
) -> None:
    """Create an account (and its clinic, if new) for scripted set-up."""
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="--email") from error
    clinic = _find_or_create_clinic(clinic_name)
    try:
        auth_ops.check_new_password(
            None,
            password,
            int(current_app.config["PASSWORD_MIN_LENGTH"]),
            min_score=int(current_app.config["PASSWORD_MIN_SCORE"]),
            user_inputs=(email, full_name, clinic.name),
        )
        user = auth_ops.create_user(
            clinic,
            full_name=full_name,
            email=email,
            role=Role(role),
            password=password,
            must_change_password=one_time,
        )
        if one_time:
            hours = int(current_app.config["ONE_TIME_PASSWORD_HOURS"])
            user.one_time_password_expires_at = auth_ops.one_time_password_expiry(hours)
    except RuleViolations as violations:
        raise click.ClickException(violations.message) from violations
    db.session.commit()
    click.echo(
        f"Created {user.role.value} {user.email} in clinic '{clinic.name}' (id {clinic.id})."
    )


@group.command("reset-two-step")
@click.argument("email")
def reset_two_step_command(email: str) -> None:
    """Turn off an account's two-step sign-in, for someone locked out without phone or codes."""
    user = db.session.scalars(
        select(User).where(User.email == auth_ops.normalise_email(email))
    ).first()
    if user is None:
        raise click.ClickException(f"No account has the email address {email}.")
    # The command line has no account: the entry says it came from the server.
    actor = Actor(clinic_id=int(user.clinic_id), user=None, remote_addr="")
    try:
        two_factor.reset_two_factor(actor, user)
    except RuleViolations as violations:
        raise click.ClickException(violations.message) from violations
    db.session.commit()
    click.echo(
        f"Two-step sign-in is off for {user.email}, and all their sign-ins ended. They sign in "
        "with their password and can set it up again (their clinic may require it)."
    )


def _find_or_create_clinic(clinic_name: str | None) -> Clinic:
    clinics = db.session.scalars(select(Clinic).order_by(Clinic.id)).all()
    if clinic_name:
        for clinic in clinics:
            if clinic.name == clinic_name:
                return clinic
        return auth_ops.open_clinic(clinic_name)
    real = [clinic for clinic in clinics if not clinic.is_demo]
    if len(real) == 1:
        return real[0]
    raise click.ClickException("Say which clinic with --clinic NAME.")


DEMO_CLIENTS = [
    {
        "first_name": "Margaret",
        "last_name": "Okafor",
        "date_of_birth": date(1954, 3, 12),
        "phone": "555 010 0142",
        "email": "margaret.okafor@example.com",
        "affected_knee": AffectedKnee.BOTH,
        "main_complaint": "Stiff, aching knees in the morning; stairs are the hardest part.",
        "cause": KneePainCause.ARTHRITIS,
        "diagnosis": KneeDiagnosis.OSTEOARTHRITIS,
        "medications": "Paracetamol as needed.",
        "goals": "Walk to the market and back without stopping.",
    },
    {
        "first_name": "Daniel",
        "last_name": "Reyes",
        "date_of_birth": date(1991, 8, 30),
        "phone": "555 010 0178",
        "email": "daniel.reyes@example.com",
        "affected_knee": AffectedKnee.RIGHT,
        "main_complaint": "Sharp pain on the outside of the right knee after 5 km of running.",
        "cause": KneePainCause.OVERUSE,
        "diagnosis": KneeDiagnosis.ITB_SYNDROME,
        "goals": "Run a half marathon in the spring.",
    },
    {
        "first_name": "Aiko",
        "last_name": "Tanaka",
        "date_of_birth": date(1978, 1, 5),
        "phone": "555 010 0123",
        "email": "",
        "affected_knee": AffectedKnee.LEFT,
        "main_complaint": "Ache at the front of the left knee when sitting for long or kneeling.",
        "cause": KneePainCause.UNKNOWN,
        "diagnosis": KneeDiagnosis.PATELLOFEMORAL_PAIN,
        "allergic_to_oils_or_nuts": True,
        "allergies": "Almond oil: itchy rash.",
        "goals": "Garden without pain.",
    },
    {
        "first_name": "Robert",
        "last_name": "Lindqvist",
        "date_of_birth": date(1949, 11, 21),
        "phone": "555 010 0166",
        "email": "r.lindqvist@example.com",
        "affected_knee": AffectedKnee.RIGHT,
        "main_complaint": "Tightness around the right knee since a replacement last year.",
        "cause": KneePainCause.AFTER_SURGERY,
        "diagnosis": KneeDiagnosis.KNEE_REPLACEMENT,
        "medications": "Warfarin (blood thinner).",
        "goals": "Kneel in church again.",
    },
]


@group.command("seed-demo")
def seed_demo_command() -> None:
    """Add a demo clinic with made-up clients (running it again changes nothing)."""
    clinic = db.session.scalars(select(Clinic).where(Clinic.is_demo.is_(True))).first()
    if clinic is None:
        clinic = auth_ops.open_clinic(
            DEMO_CLINIC_NAME,
            address="1 Example Street, Demo Town",
            phone="555 010 0100",
            is_demo=True,
        )
    owner = db.session.scalars(select(User).where(User.email == DEMO_OWNER_EMAIL)).first()
    if owner is None:
        owner = auth_ops.create_user(
            clinic,
            full_name="Demo Owner",
            email=DEMO_OWNER_EMAIL,
            role=Role.OWNER,
            password=DEMO_PASSWORD,
        )
    db.session.flush()
    added = 0
    for details in DEMO_CLIENTS:
        exists = db.session.scalar(
            select(Client.id).where(
                Client.clinic_id == clinic.id,
                Client.first_name == details["first_name"],
                Client.last_name == details["last_name"],
            )
        )
        if exists is None:
            client_ops.create_client(Actor.of(owner), _demo_intake(details))
            added += 1
    db.session.commit()
    click.echo(
        f"Demo clinic '{clinic.name}': {added} client(s) added. "
        f"Sign in as {DEMO_OWNER_EMAIL} with the password {DEMO_PASSWORD}."
    )


def _demo_intake(details: dict[str, object]) -> client_ops.Intake:
    defaults: dict[str, object] = {
        "gender": "",
        "address": "",
        "emergency_contact_name": "Demo Contact",
        "emergency_contact_phone": "555 010 0199",
        "referring_clinician": "",
        "onset_date": None,
        "diagnosis_detail": "",
        "medications": "",
        "allergies": "",
        "allergic_to_oils_or_nuts": False,
        "goals": "",
        "consent_to_treatment": True,
        "consent_date": clock.today(),
        "consent_to_keep_records": True,
    }
    merged = {**defaults, **details}
    merged["consent_name"] = f"{merged['first_name']} {merged['last_name']}"
    return client_ops.Intake(**merged)  # type: ignore[arg-type]


def _database_url() -> str:
    return str(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _size(size: int) -> str:
    value, unit = float(size), "bytes"
    for larger in ("KB", "MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


@group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
def backup_command(path: Path, force: bool) -> None:
    """Copy the database to PATH, safely while the app is running."""
    try:
        summary = backup.backup_database(_database_url(), path, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Backed up {backup.describe_database(_database_url())} to {summary.path} "
        f"({_size(summary.size)}, database revision {summary.revision}): "
        f"{summary.clients} client(s), {summary.visits} visit(s)."
    )


@group.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace every record in the database with the backup in PATH (stop the app first)."""
    database_url = _database_url()
    where = backup.describe_database(database_url)
    try:
        check = backup.check_backup(database_url, path)
        if not yes:
            click.confirm(
                f"Every record in {where} will be replaced by the backup {path} "
                f"(database revision {check.revision}); anything saved since it was made is "
                "lost. Stop the app before restoring. Restore now?",
                abort=True,
            )
        # No pooled connection of this process may hold the database during the restore.
        db.session.remove()
        db.engine.dispose()
        backup.restore_database(database_url, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {path} into {where} (database revision {check.revision}).")
    if check.state is backup.RevisionState.OLDER:
        click.echo(
            "The backup is from an older version of clinic: run "
            "`flask --app clinic db upgrade` before starting the app (`make run` does it)."
        )


def register_commands(app: Flask) -> None:
    """Add the `clinic` command group to the app's CLI."""
    app.cli.add_command(group)
