"""Visit pages: start (behind the screening gate), edit a draft, sign, addenda, follow-ups."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from clinic import clock
from clinic.audit.declared import PRINT, VIEW, audited, current_actor
from clinic.auth.stash import restore_posted_form
from clinic.clients.operations import get_client_or_404
from clinic.clients.pages import render_client_page
from clinic.domain.catalogue import NO_PRESSURE_TECHNIQUES
from clinic.domain.errors import Conflict, RuleViolations
from clinic.domain.visits import AFTERCARE, ENTRY_FIELDS, visit_reminders
from clinic.forms import apply_violations
from clinic.models import Client, Visit
from clinic.pdf import render_pdf
from clinic.query_args import page_arg
from clinic.screening.operations import CurrentScreening
from clinic.transaction import release_read
from clinic.visits import bp
from clinic.visits import operations as ops
from clinic.visits.forms import AddendumForm, ConfirmForm, EntryForm, FollowUpForm, VisitForm
from clinic.visits.printing import (
    build_aftercare_slip,
    build_printed_note,
    limits_in_force,
    read_limits,
    referral_advice,
)


def _rows_changed_formdata() -> tuple[MultiDict[str, str] | None, bool]:
    """Return the posted data with a row added or removed, and whether that was the action.

    Adding and removing rows without JavaScript is a round trip that saves nothing.
    """
    if request.method != "POST":
        return None, False
    action = request.form.get("action", "save")
    data = MultiDict(request.form)
    if action == "add_row":
        return data, True
    if action.startswith("remove_row-"):
        try:
            removed = int(action.removeprefix("remove_row-"))
        except ValueError:
            return data, True
        kept: MultiDict[str, str] = MultiDict(
            (key, value) for key, value in data.items(multi=True) if not key.startswith("entries-")
        )
        indices = sorted(
            {
                int(key.split("-")[1])
                for key in data
                if key.startswith("entries-") and key.split("-")[1].isdigit()
            }
        )
        position = 0
        for index in indices:
            if index == removed:
                continue
            for name in ENTRY_FIELDS:
                for value in data.getlist(f"entries-{index}-{name}"):
                    kept.add(f"entries-{position}-{name}", value)
            position += 1
        return kept, True
    return data, False


def _add_row_if_asked(form: VisitForm) -> None:
    if request.method == "POST" and request.form.get("action") == "add_row":
        form.entries.append_entry()


def _render_form(
    client: Client,
    form: VisitForm,
    visit: Visit | None,
    status: int = 200,
    limits: CurrentScreening | None = None,
    **extra: Any,
) -> tuple[str, int]:
    """Render the visit form, with the limits of the visit's own day beside the entries."""
    if request.method == "GET":
        # One empty row to fill in (more come with "Add a technique"); a form shown again
        # after a refusal keeps exactly the rows that were sent.
        form.pad_rows()
    extra.setdefault("row_template", EntryForm(prefix="entries-__index__-"))
    if limits is None and visit is not None:
        limits = ops.load_visit_day_screening(visit, current_user.clinic)
    if limits is not None and visit is not None and visit.visit_on == clock.today():
        # Today's visit: the header's screening is the same one, so it is not loaded again.
        extra.setdefault("current", limits)
    page = render_client_page(
        "visits/form.html",
        client,
        form=form,
        visit=visit,
        limits=limits,
        reminders=visit_reminders(limits.result if limits is not None else None),
        today=clock.today(),
        no_pressure=" ".join(sorted(t.value for t in NO_PRESSURE_TECHNIQUES)),
        **extra,
    )
    return page, status


@bp.route("/clients/<int:client_id>/visits/new", methods=["GET", "POST"])
@audited(VIEW, "visit", "New visit form")
def new(client_id: int) -> str | Response | tuple[str, int]:
    """Start a visit: only with a current screening and no uncleared referral."""
    client = get_client_or_404(client_id)
    today = clock.today()
    reasons, current = ops.check_visit_can_start(client, current_user.clinic, today)
    if reasons:
        status = 409 if request.method == "POST" else 200
        return render_client_page(
            "visits/gate.html", client, reasons=reasons, current=current
        ), status
    formdata, rows_changed = _rows_changed_formdata()
    restored = restore_posted_form() if request.method == "GET" else None
    form = VisitForm(formdata=formdata or restored)
    _add_row_if_asked(form)
    if request.method == "GET" and restored is None:
        _fill_new_form(form, client, today)
    elif not rows_changed and form.validate_on_submit():
        token = form.creation_token.data or ""
        existing = ops.find_visit_by_token(token) if token else None
        if existing is not None:
            # A second press of save: the visit exists, show it instead of making another.
            return redirect(url_for("visits.detail", client_id=client.id, visit_id=existing.id))
        try:
            visit = ops.start_visit(
                current_actor(),
                client,
                form.to_details(),
                form.to_entries(),
                creation_token=token or secrets.token_urlsafe(24),
                today=today,
            )
        except RuleViolations as refused:
            apply_violations(form, refused)
        except IntegrityError:
            # Two presses raced past the check above; the first one won (the savepoint of the
            # operation is undone, the request goes on).
            existing = ops.find_visit_by_token(token)
            if existing is None:
                raise
            return redirect(url_for("visits.detail", client_id=client.id, visit_id=existing.id))
        else:
            flash("The visit was saved as a draft. Sign it when the note is complete.", "success")
            return redirect(url_for("visits.detail", client_id=client.id, visit_id=visit.id))
    return _render_form(client, form, None, limits=current, current=current)


def _fill_new_form(form: VisitForm, client: Client, today: date) -> None:
    form.creation_token.data = secrets.token_urlsafe(24)
    form.visit_on.data = today
    now = clock.local_now()
    form.start_time.data = now.replace(
        minute=now.minute - now.minute % 5, second=0, microsecond=0
    ).time()
    form.length_minutes.data = 60
    form.knees.data = client.affected_knee.value
    if request.args.get("from_last") == "1":
        last = ops.last_visit(client)
        if last is not None:
            # A reason to work on an avoided area holds for one visit: it is not copied.
            form.load_entries(
                [entry.details() for entry in last.entries], with_override_reasons=False
            )
            flash(
                f"The entries of the visit on {last.visit_on:%d %b %Y} were copied. "
                "Check each one before saving.",
                "info",
            )


@bp.get("/clients/<int:client_id>/visits/<int:visit_id>")
@audited(VIEW, "visit", "Visit note", record="visit_id")
def detail(client_id: int, visit_id: int) -> str | tuple[str, int]:
    """Show a visit note, its addenda and follow-ups."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    return _render_detail(client, visit)


def _render_detail(
    client: Client,
    visit: Visit,
    *,
    addendum_form: AddendumForm | None = None,
    follow_up_form: FollowUpForm | None = None,
    refused: RuleViolations | Conflict | None = None,
    title: str = "Nothing was done",
    status: int = 200,
) -> tuple[str, int]:
    """Render the note page, with a refusal and a form that failed kept as it was typed."""
    if isinstance(refused, Conflict):
        problems = [refused.message]
    else:
        problems = [problem.message for problem in refused or ()]
    page = render_client_page(
        "visits/detail.html",
        client,
        visit=visit,
        addenda=ops.list_addenda(visit),
        follow_ups=ops.list_follow_ups(visit),
        confirm_form=ConfirmForm(formdata=None, version=visit.version),
        addendum_form=addendum_form or AddendumForm(formdata=None),
        follow_up_form=follow_up_form or FollowUpForm(formdata=None),
        problems=problems,
        problems_title=title,
        limits_in_force=limits_in_force(visit),
        referral=referral_advice(visit, client),
        aftercare=AFTERCARE,
    )
    return page, status


def _show_conflict(client: Client, visit_id: int, conflict: Conflict) -> tuple[str, int]:
    """Show the note as it is now (theirs), saying why nothing was done: 409."""
    fresh = ops.get_visit_or_404(client, visit_id)
    return _render_detail(client, fresh, refused=conflict, status=409)


def _form_from_visit(visit: Visit) -> VisitForm:
    form = VisitForm(formdata=None, obj=visit)
    form.swelling.data = visit.swelling.value if visit.swelling else ""
    form.knees.data = visit.knees.value
    form.adverse_response.data = visit.adverse_response.value
    form.version.data = str(visit.version)
    form.load_entries([entry.details() for entry in visit.entries], with_override_reasons=True)
    return form


@bp.route("/clients/<int:client_id>/visits/<int:visit_id>/edit", methods=["GET", "POST"])
@audited(VIEW, "visit", "Draft visit note form", record="visit_id")
def edit(client_id: int, visit_id: int) -> str | Response | tuple[str, int]:
    """Edit a draft; a signed note answers 409."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    if visit.is_signed:
        # The note as it is, saying why it cannot be edited and where a correction goes.
        return _render_detail(
            client, visit, refused=Conflict(ops.LOCKED), title="This note is signed", status=409
        )
    if request.method == "GET":
        restored = restore_posted_form()
        form = VisitForm(formdata=restored) if restored is not None else _form_from_visit(visit)
        return _render_form(client, form, visit)
    formdata, rows_changed = _rows_changed_formdata()
    form = VisitForm(formdata=formdata)
    _add_row_if_asked(form)
    if rows_changed or not form.validate_on_submit():
        return _render_form(client, form, visit)
    try:
        ops.update_visit(
            current_actor(),
            visit,
            form.to_details(),
            form.to_entries(),
            expected_version=form.expected_version(),
            today=clock.today(),
        )
    except Conflict as conflict:
        fresh = ops.get_visit_or_404(client, visit_id)
        if fresh.is_signed:
            return _render_detail(client, fresh, refused=conflict, status=409)
        form.version.data = str(fresh.version)
        form.form_errors.append(
            "Someone else saved this draft while you were editing, so nothing of yours was "
            "saved. Their version is below the form; yours is still in it. Save again to "
            "replace theirs with yours."
        )
        return _render_form(client, form, fresh, 409, theirs=fresh)
    except RuleViolations as refused:
        apply_violations(form, refused)
    else:
        flash("The draft was saved.", "success")
        return redirect(url_for("visits.detail", client_id=client.id, visit_id=visit.id))
    return _render_form(client, form, visit)


@bp.get("/clients/<int:client_id>/visits/<int:visit_id>/sign")
@audited(VIEW, "visit", "Visit note, before signing", record="visit_id")
def confirm_sign(client_id: int, visit_id: int) -> str | Response:
    """Show the draft as signing would lock it, with the limits it would keep and anything
    that stops it, before the therapist signs."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    if visit.is_signed:
        flash(ops.LOCKED, "info")
        return redirect(url_for("visits.detail", client_id=client.id, visit_id=visit.id))
    check = ops.check_signing(current_user, visit, clock.today())
    return render_client_page(
        "visits/sign.html",
        client,
        visit=visit,
        problems=[problem.message for problem in check.problems],
        limits_in_force=read_limits(check.limits_in_force),
        limits_title="Limits in force, kept with the note when it is signed",
        confirm_form=ConfirmForm(formdata=None, version=visit.version),
    )


@bp.post("/clients/<int:client_id>/visits/<int:visit_id>/sign")
@audited(VIEW, "visit", "Visit note", record="visit_id")
def sign(client_id: int, visit_id: int) -> Response | tuple[str, int]:
    """Sign the note (as last seen) if it still passes every check: it is locked from then on."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    form = ConfirmForm()
    form.validate_on_submit()
    try:
        ops.sign_visit(
            current_actor(), visit, expected_version=form.expected_version(), today=clock.today()
        )
    except Conflict as conflict:
        return _show_conflict(client, visit_id, conflict)
    except RuleViolations as refused:
        # Shown again, like any refused form; 409 is kept for a note that changed or is locked.
        return _render_detail(client, visit, refused=refused, title="The note was not signed")
    flash("The note is signed and locked. Corrections go in an addendum.", "success")
    return redirect(url_for("visits.detail", client_id=client.id, visit_id=visit.id))


@bp.post("/clients/<int:client_id>/visits/<int:visit_id>/discard")
@audited(VIEW, "visit", "Visit note", record="visit_id")
def discard(client_id: int, visit_id: int) -> Response | tuple[str, int]:
    """Discard a draft (its author only, as last seen); signed notes cannot be discarded."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    form = ConfirmForm()
    form.validate_on_submit()
    try:
        ops.discard_draft(current_actor(), visit, expected_version=form.expected_version())
    except Conflict as conflict:
        return _show_conflict(client, visit_id, conflict)
    except RuleViolations as refused:
        return _render_detail(client, visit, refused=refused, title="The draft was not discarded")
    flash("The draft was discarded.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))


@bp.post("/clients/<int:client_id>/visits/<int:visit_id>/addenda")
@audited(VIEW, "visit", "Visit note", record="visit_id")
def add_addendum(client_id: int, visit_id: int) -> Response | tuple[str, int]:
    """Add an addendum (with its reason) under a signed note."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    form = AddendumForm()
    if form.validate_on_submit():
        try:
            ops.add_addendum(current_actor(), visit, reason=form.reason.data, text=form.text.data)
        except Conflict as conflict:
            return _show_conflict(client, visit_id, conflict)
        except RuleViolations as refused:
            apply_violations(form, refused)
        else:
            flash("The addendum was added under the note.", "success")
            return redirect(url_for("visits.detail", client_id=client.id, visit_id=visit.id))
    elif not visit.is_signed:
        # Said before any field error: a draft takes no addendum at all.
        return _render_detail(
            client,
            visit,
            refused=Conflict("A draft can still be edited; addenda are for signed notes."),
            status=409,
        )
    return _render_detail(client, visit, addendum_form=form)


@bp.post("/clients/<int:client_id>/visits/<int:visit_id>/follow-up")
@audited(VIEW, "visit", "Visit note", record="visit_id")
def follow_up(client_id: int, visit_id: int) -> Response | tuple[str, int]:
    """Record the follow-up of a flagged visit."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            ops.record_follow_up(current_actor(), visit, text=form.text.data)
        except RuleViolations as refused:
            apply_violations(form, refused)
        else:
            flash("The follow-up was recorded.", "success")
            return redirect(url_for("visits.detail", client_id=client.id, visit_id=visit.id))
    return _render_detail(client, visit, follow_up_form=form)


@bp.get("/clients/<int:client_id>/visits/<int:visit_id>/note.pdf")
@audited(PRINT, "visit", "Visit note PDF", record="visit_id")
def note_pdf(client_id: int, visit_id: int) -> Response:
    """Print a signed note, with its addenda, as a PDF."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    if not visit.is_signed:
        abort(409, description="Sign the note before printing it.")
    note = build_printed_note(visit, client, current_user.clinic, ops.list_addenda(visit))
    title = f"Visit note: {client.full_name}, {visit.visit_on.isoformat()}"
    author = visit.therapist.full_name
    filename = f"visit-{visit.visit_on.isoformat()}-{client.id}.pdf"
    # Everything is loaded as plain values: hold no lock during the slow layout.
    release_read()
    pdf = render_pdf("pdf/visit_note.html", title=title, author=author, page_size="A4", note=note)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@bp.get("/clients/<int:client_id>/visits/<int:visit_id>/aftercare.pdf")
@audited(PRINT, "visit", "Aftercare slip PDF", record="visit_id")
def aftercare_pdf(client_id: int, visit_id: int) -> Response:
    """Print the aftercare advice of a visit as a short slip the client takes home."""
    client = get_client_or_404(client_id)
    visit = ops.get_visit_or_404(client, visit_id)
    slip = build_aftercare_slip(visit, client, current_user.clinic)
    filename = f"aftercare-{visit.visit_on.isoformat()}-{client.id}.pdf"
    release_read()
    pdf = render_pdf(
        "visits/aftercare_slip.html",
        title=f"After your massage: {client.full_name}",
        author=current_user.clinic.name,
        page_size="A4",
        slip=slip,
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


VISITS_PER_PAGE = 25


def _page_details() -> str:
    page = page_arg()
    return f"page {page}" if page > 1 else ""


@bp.get("/clients/<int:client_id>/visits/")
@audited(VIEW, "visit_list", "Client's visits list", details=_page_details)
def index(client_id: int) -> str:
    """List all of a client's visits, newest first, a page at a time."""
    client = get_client_or_404(client_id)
    return render_client_page(
        "visits/client_visits.html",
        client,
        pagination=ops.page_client_visits(client, page=page_arg(), per_page=VISITS_PER_PAGE),
    )


@bp.get("/visits/unsigned")
@audited(VIEW, "visit_list", "Unsigned notes list", details=_page_details)
def unsigned() -> str:
    """List the unsigned notes, a page at a time: your own, or the whole clinic's for the owner."""
    return render_template(
        "visits/list.html",
        title="Unsigned notes",
        intro=(
            "Every therapist's drafts in the clinic, oldest first."
            if current_user.is_owner
            else "Your drafts, oldest first. Sign each one once the note is complete."
        ),
        pagination=ops.page_unsigned(current_user, page=page_arg(), per_page=VISITS_PER_PAGE),
        endpoint="visits.unsigned",
        counted=("unsigned note", "unsigned notes"),
        empty="No unsigned notes.",
    )


@bp.get("/visits/this-month")
@audited(VIEW, "visit_list", "This month's visits list", details=_page_details)
def this_month() -> str:
    """List the clinic's visits this month, a page at a time."""
    today = clock.today()
    return render_template(
        "visits/list.html",
        title=f"Visits in {today:%B %Y}",
        intro="Every visit recorded this month, drafts included, in order.",
        pagination=ops.page_visits_in_month(today, page=page_arg(), per_page=VISITS_PER_PAGE),
        endpoint="visits.this_month",
        counted=("visit", "visits"),
        empty="No visits yet this month.",
    )
