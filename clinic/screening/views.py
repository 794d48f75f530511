"""Screening pages: take one, read one, confirm no changes, record clearances and overrides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from clinic.auth.stash import restore_posted_form
from clinic.clients.operations import get_client_or_404
from clinic.clients.pages import render_client_page
from clinic.domain.errors import RuleViolation
from clinic.domain.screening import (
    QUESTIONS,
    Finding,
    LiftedBy,
    Question,
    ScreeningResult,
    Section,
    Tier,
    load_answers,
    load_result,
)
from clinic.extensions import db
from clinic.forms import apply_violations
from clinic.screening import bp
from clinic.screening import operations as ops
from clinic.screening.forms import (
    ClearanceForm,
    ConfirmNoChangesForm,
    OverrideForm,
    ScreeningForm,
    answer_field,
)


def _sections() -> list[tuple[Section, list[Question]]]:
    grouped: dict[Section, list[Question]] = {}
    for question in QUESTIONS:
        grouped.setdefault(question.section, []).append(question)
    return list(grouped.items())


@bp.route("/new", methods=["GET", "POST"])
def new(client_id: int) -> str | Response:
    """Take a new screening; a correction is a new screening too."""
    client = get_client_or_404(client_id)
    restored = restore_posted_form() if request.method == "GET" else None
    form = ScreeningForm(formdata=restored) if restored is not None else ScreeningForm()
    if request.method == "GET" and restored is None:
        form.taken_on.data = date.today()
    if form.validate_on_submit():
        try:
            ops.record_screening(
                client, current_user, form.answers(), form.taken_on.data, date.today()
            )
        except RuleViolation as error:
            db.session.rollback()
            violations = getattr(error, "violations", (error,))
            for violation in violations:
                if violation.field in {q.code for q in QUESTIONS}:
                    violation.field = answer_field(violation.field)
            apply_violations(form, violations)
        else:
            db.session.commit()
            flash("The screening was signed and saved.", "success")
            return redirect(url_for("clients.detail", client_id=client.id))
    return render_client_page("screening/new.html", client, form=form, sections=_sections())


@bp.get("/<int:screening_id>")
def detail(client_id: int, screening_id: int) -> str:
    """Show one screening exactly as it was signed."""
    client = get_client_or_404(client_id)
    screening = ops.get_screening_or_404(client, screening_id)
    return render_client_page(
        "screening/detail.html",
        client,
        screening=screening,
        answers=load_answers(screening.answers),
        result=load_result(screening.result),
        sections=_sections(),
        clearances=ops.list_clearances(screening),
        overrides=ops.list_overrides(screening),
    )


@bp.get("/history")
def history(client_id: int) -> str:
    """List every screening and confirmation of a client."""
    client = get_client_or_404(client_id)
    return render_client_page(
        "screening/history.html",
        client,
        screenings=ops.list_screenings(client),
        confirmations=ops.list_confirmations(client),
    )


@bp.post("/confirm")
def confirm(client_id: int) -> Response:
    """Record "no changes, clot signs asked today" in one click."""
    client = get_client_or_404(client_id)
    if ConfirmNoChangesForm().validate_on_submit():
        try:
            ops.confirm_no_changes(
                client, current_user, date.today(), current_user.clinic.screening_valid_days
            )
        except RuleViolation as violation:
            db.session.rollback()
            flash(violation.message, "error")
        else:
            db.session.commit()
            flash("Recorded: no changes since the screening, and no clot signs today.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))


def _findings_choices(
    result: ScreeningResult, wanted: Callable[[Finding], bool]
) -> list[SelectChoice]:
    choices = [SelectChoice("", "Choose…")]
    for finding in result.active_findings:
        if not wanted(finding):
            continue
        choices.append(SelectChoice(finding.code, f"{finding.label} ({finding.area_phrase})"))
    return choices


@bp.route("/<int:screening_id>/clearance", methods=["GET", "POST"])
def clearance(client_id: int, screening_id: int) -> str | Response:
    """Record a medical clearance for a finding that a clearance lifts."""
    client = get_client_or_404(client_id)
    screening = ops.get_screening_or_404(client, screening_id)
    form = ClearanceForm()
    form.finding_code.choices = _findings_choices(
        ops.result_on(screening, date.today()),
        lambda finding: finding.lifted_by is LiftedBy.MEDICAL_CLEARANCE,
    )
    if request.method == "GET":
        form.finding_code.data = request.args.get("finding", "")
        form.given_on.data = date.today()
        earlier = ops.previous_clearance(client, form.finding_code.data, screening)
        if earlier is not None:
            form.given_by.data = earlier.given_by
            form.note.data = earlier.note
    if form.validate_on_submit():
        try:
            ops.record_clearance(
                client,
                screening,
                current_user,
                finding_code=form.finding_code.data,
                given_by=form.given_by.data,
                given_on=form.given_on.data,
                note=form.note.data or "",
                expires_on=form.expires_on.data,
                today=date.today(),
            )
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(form, violation)
        else:
            db.session.commit()
            flash("The clearance was recorded. The finding now shows as cleared.", "success")
            return redirect(url_for("clients.detail", client_id=client.id))
    return render_client_page("screening/clearance.html", client, screening=screening, form=form)


@bp.route("/<int:screening_id>/override", methods=["GET", "POST"])
def override(client_id: int, screening_id: int) -> str | Response:
    """Allow work on an avoided area for today's visit, with a written reason."""
    client = get_client_or_404(client_id)
    screening = ops.get_screening_or_404(client, screening_id)
    form = OverrideForm()
    form.finding_code.choices = _findings_choices(
        ops.result_on(screening, date.today()), lambda finding: finding.tier is Tier.AVOID_LOCAL
    )
    if request.method == "GET":
        form.finding_code.data = request.args.get("finding", "")
    if form.validate_on_submit():
        try:
            ops.record_override(
                client,
                screening,
                current_user,
                finding_code=form.finding_code.data,
                reason=form.reason.data,
                visit_on=date.today(),
            )
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(form, violation)
        else:
            db.session.commit()
            flash("The override for today's visit was recorded with your reason.", "success")
            return redirect(url_for("clients.detail", client_id=client.id))
    return render_client_page("screening/override.html", client, screening=screening, form=form)
