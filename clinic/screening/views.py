"""Screening pages: take one, read one, confirm no changes, record clearances and overrides."""

from __future__ import annotations

from collections.abc import Iterable

from flask import flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from clinic import clock
from clinic.audit.declared import VIEW, audited, current_actor
from clinic.auth.stash import restore_posted_form
from clinic.clients.operations import get_client_or_404
from clinic.clients.pages import render_client_page
from clinic.domain.errors import RuleViolations
from clinic.domain.screening import (
    Finding,
    get_questionnaire,
    load_answers,
    load_result,
)
from clinic.forms import apply_violations
from clinic.screening import bp
from clinic.screening import operations as ops
from clinic.screening.forms import (
    ClearanceForm,
    ConfirmNoChangesForm,
    OverrideForm,
    new_screening_form,
)


@bp.route("/new", methods=["GET", "POST"])
@audited(VIEW, "screening", "New screening form")
def new(client_id: int) -> str | Response:
    """Take a new screening; a correction is a new screening too."""
    client = get_client_or_404(client_id)
    restored = restore_posted_form() if request.method == "GET" else None
    form = new_screening_form(formdata=restored) if restored is not None else new_screening_form()
    from_intake: list[str] = []
    if request.method == "GET" and restored is None:
        form.taken_on.data = clock.today()
        from_intake = form.prefill_from_intake(client.allergic_to_oils_or_nuts, client.allergies)
    if form.validate_on_submit():
        try:
            ops.record_screening(
                current_actor(), client, form.answers(), form.taken_on.data, clock.today()
            )
        except RuleViolations as refused:
            apply_violations(form, refused)
        else:
            flash("The screening was signed and saved.", "success")
            return redirect(url_for("clients.detail", client_id=client.id))
    return render_client_page(
        "screening/new.html",
        client,
        form=form,
        sections=form.questionnaire.sections,
        from_intake=from_intake,
    )


@bp.get("/<int:screening_id>")
@audited(VIEW, "screening", "Screening", record="screening_id")
def detail(client_id: int, screening_id: int) -> str:
    """Show one screening exactly as it was signed, with the questions as they were asked."""
    client = get_client_or_404(client_id)
    screening = ops.get_screening_or_404(client, screening_id)
    questionnaire = get_questionnaire(screening.questionnaire_version)
    return render_client_page(
        "screening/detail.html",
        client,
        screening=screening,
        answers=load_answers(screening.answers, screening.questionnaire_version),
        result=load_result(screening.result),
        sections=questionnaire.sections,
        clearances=ops.list_clearances(screening),
        overrides=ops.list_overrides(screening),
    )


@bp.get("/history")
@audited(VIEW, "screening", "Screening history")
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
@audited(VIEW, "screening", "Screening history")
def confirm(client_id: int) -> Response:
    """Record "no changes, clot signs asked today" in one click."""
    client = get_client_or_404(client_id)
    if ConfirmNoChangesForm().validate_on_submit():
        try:
            ops.confirm_no_changes(
                current_actor(), client, clock.today(), current_user.clinic.screening_valid_days
            )
        except RuleViolations as refused:
            flash(refused.message, "error")
        else:
            flash("Recorded: no changes since the screening, and no clot signs today.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))


def _findings_choices(findings: Iterable[Finding]) -> list[SelectChoice]:
    choices = [SelectChoice("", "Choose…")]
    for finding in findings:
        choices.append(SelectChoice(finding.code, f"{finding.label} ({finding.area_phrase})"))
    return choices


@bp.route("/<int:screening_id>/clearance", methods=["GET", "POST"])
@audited(VIEW, "screening", "Medical clearance form", record="screening_id")
def clearance(client_id: int, screening_id: int) -> str | Response:
    """Record a medical clearance for a finding that a clearance lifts."""
    client = get_client_or_404(client_id)
    screening = ops.get_screening_or_404(client, screening_id)
    form = ClearanceForm()
    form.finding_code.choices = _findings_choices(
        ops.clearable_findings(client, screening, clock.today())
    )
    if request.method == "GET":
        form.finding_code.data = request.args.get("finding", "")
        form.given_on.data = clock.today()
        earlier = ops.previous_clearance(client, form.finding_code.data, screening)
        if earlier is not None:
            form.given_by.data = earlier.given_by
            form.note.data = earlier.note
    if form.validate_on_submit():
        try:
            ops.record_clearance(
                current_actor(),
                client,
                screening,
                finding_code=form.finding_code.data,
                given_by=form.given_by.data,
                given_on=form.given_on.data,
                note=form.note.data or "",
                expires_on=form.expires_on.data,
                today=clock.today(),
            )
        except RuleViolations as refused:
            apply_violations(form, refused)
        else:
            flash("The clearance was recorded. The finding now shows as cleared.", "success")
            return redirect(url_for("clients.detail", client_id=client.id))
    return render_client_page("screening/clearance.html", client, screening=screening, form=form)


@bp.route("/<int:screening_id>/override", methods=["GET", "POST"])
@audited(VIEW, "screening", "Override form", record="screening_id")
def override(client_id: int, screening_id: int) -> str | Response:
    """Allow work on an avoided area for today's visit, with a written reason."""
    client = get_client_or_404(client_id)
    screening = ops.get_screening_or_404(client, screening_id)
    form = OverrideForm()
    form.finding_code.choices = _findings_choices(
        f for f in ops.result_on(screening, clock.today()).active_findings if f.overridable
    )
    if request.method == "GET":
        form.finding_code.data = request.args.get("finding", "")
    if form.validate_on_submit():
        try:
            ops.record_override(
                current_actor(),
                client,
                screening,
                finding_code=form.finding_code.data,
                reason=form.reason.data,
                visit_on=clock.today(),
            )
        except RuleViolations as refused:
            apply_violations(form, refused)
        else:
            flash("The override for today's visit was recorded with your reason.", "success")
            return redirect(url_for("clients.detail", client_id=client.id))
    return render_client_page("screening/override.html", client, screening=screening, form=form)
