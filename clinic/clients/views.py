"""Client list, intake, client page, edit and archive."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic import clock
from clinic.audit.declared import VIEW, audited, current_actor, not_audited
from clinic.auth.stash import restore_posted_form
from clinic.clients import bp
from clinic.clients import operations as ops
from clinic.clients.forms import ArchiveForm, IntakeForm, SearchForm
from clinic.clients.pages import render_client_page
from clinic.domain.errors import Conflict
from clinic.homecare.operations import summarise_client_homecare
from clinic.models import Client
from clinic.progress.operations import improved_client_ids
from clinic.query_args import page_arg
from clinic.screening.forms import ConfirmNoChangesForm
from clinic.screening.operations import refresh_due_clients
from clinic.visits.operations import (
    check_visit_can_start,
    count_client_visits,
    list_recent_visits,
)


def _search_details() -> str:
    # What the list showed: the search text and filters, so "who looked for whom" is answered.
    parts = []
    if request.args.get("q"):
        parts.append(f"search “{request.args['q'][:80]}”")
    for name in ("screening", "progress"):
        if request.args.get(name):
            parts.append(f"{name} {request.args[name][:20]}")
    if request.args.get("archived") == "1":
        parts.append("archived included")
    return ", ".join(parts)


@bp.get("/")
@audited(VIEW, "client_list", "Client list", details=_search_details)
def index() -> str:
    """List and search the clinic's clients."""
    form = SearchForm(request.args)
    form.validate()
    query = "" if form.q.errors else (form.q.data or "")
    include_archived = request.args.get("archived") == "1"
    screening = _screening_filter(request.args.get("screening", ""))
    improved_only = request.args.get("progress") == "improved"
    today = clock.today()
    # Clearances that ran out since the last write would leave a stale tier in the list.
    refresh_due_clients(today)
    valid_days = current_user.clinic.screening_valid_days
    found = ops.search_clients(
        query,
        include_archived=include_archived,
        page=page_arg(),
        per_page=int(current_app.config["CLIENTS_PER_PAGE"]),
        screening=screening,
        valid_days=valid_days,
        only_ids=improved_client_ids() if improved_only else None,
    )
    pagination = found.pagination
    return render_template(
        "clients/index.html",
        form=form,
        query=query,
        include_archived=include_archived,
        screening=screening,
        improved_only=improved_only,
        screening_filters=list(ops.ScreeningFilter),
        pagination=pagination,
        more_than_total=found.more_than_total,
        last_visits=ops.last_visit_dates([client.id for client in pagination.items]),
        today=today,
        oldest_current=today - timedelta(days=valid_days),
        archived_count=ops.count_archived_clients() if not include_archived else 0,
    )


def _screening_filter(value: str) -> ops.ScreeningFilter | None:
    try:
        return ops.ScreeningFilter(value)
    except ValueError:
        return None


@bp.route("/new", methods=["GET", "POST"])
@not_audited("an empty intake form; the new client's entry is written by create_client")
def new() -> str | Response:
    """Take a new client's intake."""
    restored = restore_posted_form() if request.method == "GET" else None
    form = IntakeForm(formdata=restored) if restored is not None else IntakeForm()
    if request.method == "GET" and restored is None:
        form.consent_date.data = clock.today()
    if form.validate_on_submit():
        client = ops.create_client(current_actor(), form.to_intake())
        flash(f"{client.full_name} was added.", "success")
        return redirect(url_for("clients.detail", client_id=client.id))
    return render_template("clients/form.html", form=form, client=None)


@bp.get("/<int:client_id>")
@audited(VIEW, "client", "Client page", record="client_id")
def detail(client_id: int) -> str:
    """Show a client's record, with the latest visits (the rest are a link away)."""
    client = ops.get_client_or_404(client_id)
    # Loaded once, for the gate, the header, the screening panel and home care alike.
    blockers, current = check_visit_can_start(client, current_user.clinic, clock.today())
    recent = list_recent_visits(client)
    return render_client_page(
        "clients/detail.html",
        client,
        current=current,
        confirm_form=ConfirmNoChangesForm(),
        visits=recent.latest,
        older_drafts=recent.older_drafts,
        visit_count=count_client_visits(client),
        open_flags=recent.open_flags,
        visit_blockers=blockers,
        homecare=summarise_client_homecare(client, current),
        archive_form=ArchiveForm(formdata=None, version=str(client.version)),
    )


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@audited(VIEW, "client", "Intake form", record="client_id")
def edit(client_id: int) -> str | Response | tuple[str, int]:
    """Change a client's intake, without overwriting someone else's change."""
    client = ops.get_client_or_404(client_id)
    restored = restore_posted_form() if request.method == "GET" else None
    form = (
        IntakeForm(formdata=restored, obj=client)
        if restored is not None
        else IntakeForm(obj=client)
    )
    if request.method == "GET" and restored is None:
        form.version.data = str(client.version)
    if form.validate_on_submit():
        try:
            ops.update_client(current_actor(), client, form.to_intake(), form.expected_version())
        except Conflict as conflict:
            saved = conflict.record if isinstance(conflict.record, Client) else client
            return _render_conflict(form, saved)
        flash("The intake was saved.", "success")
        return redirect(url_for("clients.detail", client_id=client.id))
    return render_client_page("clients/form.html", client, form=form)


def _render_conflict(form: IntakeForm, saved: Client) -> tuple[str, int]:
    differences = ops.compare_intakes(ops.intake_of(saved), form.to_intake())
    # Saving again from this page is a deliberate choice to replace the newer version.
    form.version.data = str(saved.version)
    return (
        render_client_page("clients/form.html", saved, form=form, conflict=differences),
        409,
    )


@bp.post("/<int:client_id>/archive")
@audited(VIEW, "client", "Client page", record="client_id")
def archive(client_id: int) -> Response:
    """Archive a client: hidden from the list, never deleted."""
    client = ops.get_client_or_404(client_id)
    try:
        ops.archive_client(current_actor(), client, ArchiveForm().expected_version())
    except Conflict as conflict:
        flash(conflict.message, "error")
    else:
        flash(f"{client.full_name} was archived. Nothing was deleted.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))


@bp.post("/<int:client_id>/unarchive")
@audited(VIEW, "client", "Client page", record="client_id")
def unarchive(client_id: int) -> Response:
    """Bring an archived client back to the list."""
    client = ops.get_client_or_404(client_id)
    try:
        ops.unarchive_client(current_actor(), client, ArchiveForm().expected_version())
    except Conflict as conflict:
        flash(conflict.message, "error")
    else:
        flash(f"{client.full_name} is back on the client list.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))
