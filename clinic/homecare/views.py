"""Home-care pages: the owner's item library, the plan builder, plans and issued handouts."""

from __future__ import annotations

import secrets
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from clinic.clients.operations import get_client_or_404
from clinic.clients.pages import render_client_page
from clinic.database import utcnow
from clinic.domain.errors import RuleViolation
from clinic.domain.homecare import Dose, describe_dose, safety_notes
from clinic.domain.screening import FINDING_LABELS
from clinic.extensions import db
from clinic.forms import apply_violations
from clinic.homecare import bp, library_bp
from clinic.homecare import operations as ops
from clinic.homecare.forms import (
    ConfirmForm,
    LibraryItemForm,
    PlanFormBase,
    fill_dose,
    plan_form_class,
)
from clinic.models import Client, HomeCarePlan, IssuedHandout
from clinic.models.homecare import DoseColumns

MAX_TOKEN_LENGTH = 64  # HomeCarePlan.creation_token


@bp.app_template_filter("dose_text")
def dose_text(value: Dose | DoseColumns) -> str:
    """Describe a dose, or a row's dose columns, in the client's words."""
    return describe_dose(value if isinstance(value, Dose) else ops.dose_of(value))


@bp.app_template_filter("finding_label")
def finding_label(code: str) -> str:
    """Name a screening finding code as the screening pages do."""
    return FINDING_LABELS.get(code, code)


# --- The library (owner only: library_bp checks) ------------------------------------------------


@library_bp.get("/")
def index() -> str:
    """List the built-in items and the clinic's own."""
    return render_template(
        "homecare/library.html",
        builtin=[entry for entry in ops.list_library() if not entry.is_own],
        own=ops.list_own_items(),
    )


def _refuse_item(form: LibraryItemForm, refused: ops.ItemRefused) -> None:
    apply_violations(form, refused.violations)
    if not form.form_errors:
        form.form_errors.append("Nothing was saved yet: the fields marked below need another look.")


@library_bp.route("/new", methods=["GET", "POST"])
def new_item() -> str | Response:
    """Add an item of the clinic's own."""
    form = LibraryItemForm()
    if request.method == "GET":
        form.version.data = "0"
    elif form.validate_on_submit():
        try:
            item = ops.create_library_item(current_user, form.to_details())
            db.session.commit()
        except ops.ItemRefused as refused:
            db.session.rollback()
            _refuse_item(form, refused)
        else:
            flash("The item was added to the library as version 1.", "success")
            return redirect(url_for("homecare_library.item", item_id=item.id))
    return render_template("homecare/item_form.html", form=form, item=None)


@library_bp.get("/<int:item_id>")
def item(item_id: int) -> str:
    """Show an item's versions, newest first."""
    library_item = ops.get_library_item_or_404(item_id)
    return render_template(
        "homecare/item.html",
        item=library_item,
        versions=list(reversed(library_item.versions)),
        confirm=ConfirmForm(),
    )


@library_bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
def edit_item(item_id: int) -> str | Response | tuple[str, int]:
    """Edit an item: saving makes a new version; plans keep the version they used."""
    library_item = ops.get_library_item_or_404(item_id)
    form = LibraryItemForm()
    if request.method == "GET":
        form.fill(ops.details_of(library_item.current), library_item.current_number)
        return render_template("homecare/item_form.html", form=form, item=library_item)
    if form.validate_on_submit():
        try:
            version = ops.revise_library_item(
                library_item,
                current_user,
                form.to_details(),
                expected_number=form.expected_number(),
            )
            db.session.commit()
        except ops.ItemRefused as refused:
            db.session.rollback()
            _refuse_item(form, refused)
        except (ops.LibraryConflict, StaleDataError, IntegrityError):
            db.session.rollback()
            fresh = ops.get_library_item_or_404(item_id)
            form.version.data = str(fresh.current_number)
            form.form_errors.append(
                "Someone saved a newer version of this item while you were editing, so nothing"
                " of yours was saved. Theirs is shown below the form; yours is still in it."
                " Save again to make yours the next version."
            )
            return render_template(
                "homecare/item_form.html", form=form, item=fresh, theirs=fresh.current
            ), 409
        else:
            if version is None:
                flash("Nothing was changed, so no new version was made.", "info")
            else:
                flash(f"Saved as version {version.number}.", "success")
            return redirect(url_for("homecare_library.item", item_id=library_item.id))
    return render_template("homecare/item_form.html", form=form, item=library_item)


def _set_archived(item_id: int, *, archived: bool) -> Response:
    library_item = ops.get_library_item_or_404(item_id)
    if ConfirmForm().validate_on_submit():
        ops.set_library_item_archived(library_item, archived=archived)
        db.session.commit()
        if archived:
            flash("The item was retired: it is no longer offered for new plans.", "success")
        else:
            flash("The item is offered for new plans again.", "success")
    return redirect(url_for("homecare_library.item", item_id=library_item.id))


@library_bp.post("/<int:item_id>/archive")
def archive_item(item_id: int) -> Response:
    """Retire an item from the plan builder; plans that used it keep their copy."""
    return _set_archived(item_id, archived=True)


@library_bp.post("/<int:item_id>/restore")
def restore_item(item_id: int) -> Response:
    """Offer a retired item for new plans again."""
    return _set_archived(item_id, archived=False)


# --- Plans ----------------------------------------------------------------------------------------


def _apply_refusal(form: PlanFormBase, refused: ops.PlanRefused) -> None:
    for problem in refused.problems:
        if problem.key is None or problem.key not in form.row_keys:
            form.form_errors.append(problem.message)
            continue
        row = form.row(problem.key)
        target = row._fields.get(problem.field) if problem.field else None
        if target is None or problem.field == "include":
            row.form_errors.append(problem.message)
        elif problem.message not in target.errors:
            target.errors = [*target.errors, problem.message]
    if not form.form_errors:
        form.form_errors.append(
            "Nothing was saved: some items cannot go in the plan as they are. The reasons are"
            " beside them."
        )


@bp.route("/clients/<int:client_id>/homecare/new", methods=["GET", "POST"])
def new(client_id: int) -> str | Response | tuple[str, int]:
    """Build a plan from the library, checked against the client's current screening."""
    client = get_client_or_404(client_id)
    today = date.today()
    reasons, current = ops.check_plan_can_start(client, current_user.clinic, today)
    if reasons or current.result is None:
        status = 409 if request.method == "POST" else 200
        return render_client_page(
            "homecare/gate.html", client, reasons=reasons, current=current
        ), status
    rows = ops.builder_rows(current.result)
    form = plan_form_class([row.entry.key for row in rows])()
    if request.method == "GET":
        form.creation_token.data = secrets.token_urlsafe(24)
        for row in rows:
            fill_dose(form.row(row.entry.key), row.entry.item.dose)
    elif form.validate_on_submit():
        token = form.creation_token.data or ""
        if not 0 < len(token) <= MAX_TOKEN_LENGTH:
            token = secrets.token_urlsafe(24)
        existing = ops.find_plan_by_token(token)
        if existing is not None:
            # A second press of save: the plan exists, show it instead of making another.
            return redirect(url_for("homecare.detail", client_id=client.id, plan_id=existing.id))
        try:
            plan = ops.build_plan(
                client,
                current_user,
                form.to_picks(),
                note=form.note.data or "",
                creation_token=token,
                today=today,
            )
            db.session.commit()
        except ops.PlanRefused as refused:
            db.session.rollback()
            _apply_refusal(form, refused)
        except RuleViolation as violation:
            db.session.rollback()
            form.form_errors.append(violation.message)
        except IntegrityError:
            # Two presses raced past the check above; the first one won.
            db.session.rollback()
            existing = ops.find_plan_by_token(token)
            if existing is None:
                raise
            return redirect(url_for("homecare.detail", client_id=client.id, plan_id=existing.id))
        else:
            flash("The plan was saved. Issue the handout to print it for the client.", "success")
            return redirect(url_for("homecare.detail", client_id=client.id, plan_id=plan.id))
    for row in rows:
        # The version on the page is the one the therapist now reads.
        form.row(row.entry.key).version.data = str(row.entry.item.version)
    return render_client_page(
        "homecare/builder.html",
        client,
        form=form,
        rows=rows,
        current=current,
        safety_notes=safety_notes(current.result),
    )


def _render_plan(client: Client, plan: HomeCarePlan, status: int = 200) -> tuple[str, int]:
    _, current = ops.check_plan_can_start(client, current_user.clinic, date.today())
    blockers = ops.plan_blockers(client, current) or ops.plan_out_of_date(plan, current)
    handouts = [h for h in ops.list_handouts(client) if h.plan_id == plan.id]
    return render_client_page(
        "homecare/plan.html",
        client,
        plan=plan,
        handouts=handouts,
        blockers=blockers,
        current=current,
        confirm=ConfirmForm(),
    ), status


@bp.get("/clients/<int:client_id>/homecare/<int:plan_id>")
def detail(client_id: int, plan_id: int) -> tuple[str, int]:
    """Show a plan as saved, and the handouts issued from it."""
    client = get_client_or_404(client_id)
    return _render_plan(client, ops.get_plan_or_404(client, plan_id))


@bp.get("/clients/<int:client_id>/homecare/<int:plan_id>/preview.pdf")
def preview(client_id: int, plan_id: int) -> Response:
    """Render the handout to look at, marked as a preview; nothing is recorded."""
    client = get_client_or_404(client_id)
    plan = ops.get_plan_or_404(client, plan_id)
    document = ops.prepare_handout(
        plan, client, current_user.clinic, start_on=date.today(), preview=True
    )
    filename = f"home-care-preview-{plan.id}.pdf"
    db.session.commit()  # nothing was written: release the database before the slow render
    return _pdf_response(document.render(), filename)


@bp.post("/clients/<int:client_id>/homecare/<int:plan_id>/issue")
def issue(client_id: int, plan_id: int) -> Response | tuple[str, int]:
    """Issue the handout: render it once and keep the PDF in the client's record."""
    client = get_client_or_404(client_id)
    plan = ops.get_plan_or_404(client, plan_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("homecare.detail", client_id=client.id, plan_id=plan.id))
    today = date.today()
    try:
        document = ops.prepare_issue(
            plan, client, current_user, today=today, issued_at=utcnow().replace(microsecond=0)
        )
        # Rendering takes a few hundred milliseconds and reads nothing: end the transaction
        # first, or SQLite's write lock would make every other page wait for it.
        db.session.commit()
        pdf = document.render()
        handout = ops.record_issued_handout(
            plan, client, current_user, today=today, document=document, pdf=pdf
        )
        db.session.commit()
    except RuleViolation as violation:
        db.session.rollback()
        flash(violation.message, "error")
        return _render_plan(client, plan, 409)
    flash(
        "The handout was issued and kept in the client's record. Download it below to print.",
        "success",
    )
    return redirect(
        url_for(
            "homecare.detail", client_id=client.id, plan_id=plan.id, _anchor=f"handout-{handout.id}"
        )
    )


@bp.get("/clients/<int:client_id>/homecare/handouts/<int:handout_id>.pdf")
def handout(client_id: int, handout_id: int) -> Response:
    """Download an issued handout: the same bytes every time."""
    client = get_client_or_404(client_id)
    issued: IssuedHandout = ops.get_handout_or_404(client, handout_id)
    response = _pdf_response(
        ops.handout_pdf(issued), f"home-care-{issued.issued_at:%Y-%m-%d}-{issued.id}.pdf"
    )
    response.set_etag(issued.sha256)
    return response


def _pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            # Client records: not for shared caches or the browser's disk cache.
            "Cache-Control": "no-store",
        },
    )
