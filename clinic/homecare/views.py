"""Home-care pages: the owner's item library, the plan builder, plans and issued handouts."""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic import clock
from clinic.audit.declared import PRINT, VIEW, audited, current_actor, not_audited
from clinic.clients.operations import get_client_or_404
from clinic.clients.pages import render_client_page
from clinic.clock import utcnow
from clinic.domain.catalogue import Region
from clinic.domain.errors import Conflict, RuleViolations
from clinic.domain.homecare import Dose, describe_dose, safety_notes
from clinic.domain.screening import FINDING_LABELS
from clinic.forms import apply_violations
from clinic.homecare import bp, library_bp
from clinic.homecare import operations as ops
from clinic.homecare.forms import ConfirmForm, LibraryItemForm, PlanForm
from clinic.models import Client, HomeCarePlan, IssuedHandout
from clinic.models.homecare import DoseColumns
from clinic.transaction import release_read

MAX_TOKEN_LENGTH = 64  # HomeCarePlan.creation_token
_NO_CLIENT = "no client's record: the clinic's own library"


@bp.app_template_filter("dose_text")
def dose_text(value: Dose | DoseColumns) -> str:
    """Describe a dose, or a row's dose columns, in the client's words."""
    return describe_dose(value if isinstance(value, Dose) else ops.dose_of(value))


@bp.app_template_filter("finding_label")
def finding_label(code: str) -> str:
    """Name a screening finding code as the screening pages do."""
    return FINDING_LABELS.get(code, code)


@bp.app_template_filter("region_label")
def region_label(value: str) -> str:
    """Name a stored leg region as the forms do."""
    return Region(value).label.lower() if value in {r.value for r in Region} else value


# --- The library (owner only: library_bp checks) ------------------------------------------------


@library_bp.get("/")
@not_audited(_NO_CLIENT)
def index() -> str:
    """List the built-in items and the clinic's own."""
    own = ops.list_own_items()
    return render_template(
        "homecare/library.html",
        builtin=[entry for entry in ops.list_library() if not entry.is_own],
        own=own,
        undeclared={item.id for item in own if ops.declaration_of(item.current) is None},
    )


def _refuse_item(form: LibraryItemForm, refused: RuleViolations) -> None:
    apply_violations(form, refused)
    if not form.form_errors:
        form.form_errors.append("Nothing was saved yet: the fields marked below need another look.")


@library_bp.route("/new", methods=["GET", "POST"])
@not_audited(f"{_NO_CLIENT} (the operation records the item it adds)")
def new_item() -> str | Response:
    """Add an item of the clinic's own."""
    form = LibraryItemForm()
    if request.method == "GET":
        form.version.data = "0"
    elif form.validate_on_submit():
        try:
            item = ops.create_library_item(current_actor(), form.to_details())
        except RuleViolations as refused:
            _refuse_item(form, refused)
        else:
            flash("The item was added to the library as version 1.", "success")
            return redirect(url_for("homecare_library.item", item_id=item.id))
    return render_template("homecare/item_form.html", form=form, item=None)


@library_bp.get("/<int:item_id>")
@not_audited(_NO_CLIENT)
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
@not_audited(f"{_NO_CLIENT} (the operation records each new version)")
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
                current_actor(),
                library_item,
                form.to_details(),
                expected_number=form.expected_number(),
            )
        except RuleViolations as refused:
            _refuse_item(form, refused)
        except Conflict as conflict:
            fresh = ops.get_library_item_or_404(item_id)
            form.version.data = str(fresh.current_number)
            form.form_errors.append(conflict.message)
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
        ops.set_library_item_archived(current_actor(), library_item, archived=archived)
        if archived:
            flash("The item was retired: it is no longer offered for new plans.", "success")
        else:
            flash("The item is offered for new plans again.", "success")
    return redirect(url_for("homecare_library.item", item_id=library_item.id))


@library_bp.post("/<int:item_id>/archive")
@not_audited(f"{_NO_CLIENT} (the operation records the change)")
def archive_item(item_id: int) -> Response:
    """Retire an item from the plan builder; plans that used it keep their copy."""
    return _set_archived(item_id, archived=True)


@library_bp.post("/<int:item_id>/restore")
@not_audited(f"{_NO_CLIENT} (the operation records the change)")
def restore_item(item_id: int) -> Response:
    """Offer a retired item for new plans again."""
    return _set_archived(item_id, archived=False)


# --- Plans ----------------------------------------------------------------------------------------


@bp.route("/clients/<int:client_id>/homecare/new", methods=["GET", "POST"])
@audited(VIEW, "plan", "Home-care plan builder")
def new(client_id: int) -> str | Response | tuple[str, int]:
    """Build a plan from the library, checked against the client's current screening."""
    client = get_client_or_404(client_id)
    today = clock.today()
    reasons, current = ops.check_plan_can_start(client, current_user.clinic, today)
    if reasons or current.result is None:
        status = 409 if request.method == "POST" else 200
        return render_client_page(
            "homecare/gate.html", client, reasons=reasons, current=current
        ), status
    rows = ops.builder_rows(current.result)
    form = PlanForm()
    if request.method == "GET":
        form.creation_token.data = secrets.token_urlsafe(24)
    form.offer([(row.entry.key, row.entry.item.version, row.entry.item.dose) for row in rows])
    if form.validate_on_submit():
        token = form.creation_token.data or ""
        if not 0 < len(token) <= MAX_TOKEN_LENGTH:
            token = secrets.token_urlsafe(24)
        existing = ops.find_plan_by_token(token)
        if existing is not None:
            # A second press of save: the plan exists, show it instead of making another.
            return redirect(url_for("homecare.detail", client_id=client.id, plan_id=existing.id))
        try:
            plan = ops.build_plan(
                current_actor(),
                client,
                form.to_picks(),
                note=form.note.data or "",
                creation_token=token,
                today=today,
            )
        except RuleViolations as refused:
            apply_violations(form, refused)
            if not form.form_errors:
                form.form_errors.append(
                    "Nothing was saved: some items cannot go in the plan as they are. The"
                    " reasons are beside them."
                )
        except Conflict as conflict:
            # Two presses raced past the look-up above; the first one's plan stands.
            existing = ops.find_plan_by_token(token)
            if existing is None:
                form.form_errors.append(conflict.message)
            else:
                return redirect(
                    url_for("homecare.detail", client_id=client.id, plan_id=existing.id)
                )
        else:
            flash("The plan was saved. Issue the handout to print it for the client.", "success")
            return redirect(url_for("homecare.detail", client_id=client.id, plan_id=plan.id))
    builder = [(row, form.row_for(row.entry.key)) for row in rows]
    for row, typed in builder:
        # The version on the page is the one the therapist now reads.
        typed.version.data = str(row.entry.item.version)
    return render_client_page(
        "homecare/builder.html",
        client,
        form=form,
        rows=builder,
        current=current,
        safety_notes=safety_notes(current.result),
    )


def _render_plan(client: Client, plan: HomeCarePlan, status: int = 200) -> tuple[str, int]:
    _, current = ops.check_plan_can_start(client, current_user.clinic, clock.today())
    blockers = ops.print_blockers(client, current) or ops.plan_out_of_date(plan, current)
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
@audited(VIEW, "plan", "Home-care plan", record="plan_id")
def detail(client_id: int, plan_id: int) -> tuple[str, int]:
    """Show a plan as saved, and the handouts issued from it."""
    client = get_client_or_404(client_id)
    return _render_plan(client, ops.get_plan_or_404(client, plan_id))


@bp.get("/clients/<int:client_id>/homecare/<int:plan_id>/preview.pdf")
@audited(PRINT, "plan", "Handout preview PDF", record="plan_id")
def preview(client_id: int, plan_id: int) -> Response | tuple[str, int]:
    """Render the handout to look at, marked as a preview; no handout is kept.

    Refused without a current screening with the clot signs asked today; a plan that no
    longer matches the screening says so on every page.
    """
    client = get_client_or_404(client_id)
    plan = ops.get_plan_or_404(client, plan_id)
    try:
        document = ops.prepare_preview(plan, client, current_user.clinic, today=clock.today())
    except ops.PrintRefused as refused:
        flash(refused.message, "error")
        return _render_plan(client, plan, 409)
    filename = f"home-care-preview-{plan.id}.pdf"
    # Everything is read: no lock is held while the PDF is laid out.
    release_read()
    return _pdf_response(document.render(), filename)


@bp.post("/clients/<int:client_id>/homecare/<int:plan_id>/issue")
@audited(VIEW, "plan", "Home-care plan", record="plan_id")
def issue(client_id: int, plan_id: int) -> Response | tuple[str, int]:
    """Issue the handout: render it once and keep the PDF in the client's record."""
    client = get_client_or_404(client_id)
    plan = ops.get_plan_or_404(client, plan_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("homecare.detail", client_id=client.id, plan_id=plan.id))
    today = clock.today()
    try:
        document = ops.prepare_issue(
            plan,
            client,
            current_user.clinic,
            today=today,
            issued_at=utcnow().replace(microsecond=0),
        )
        # Rendering takes a few hundred milliseconds: it runs outside any transaction, and the
        # operation reads and checks everything again before it keeps the handout.
        release_read()
        pdf = document.render()
        handout = ops.issue_handout(
            current_actor(), plan, client, today=today, document=document, pdf=pdf
        )
    except (RuleViolations, Conflict) as refused:
        flash(refused.message, "error")
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
@audited(PRINT, "handout", "Issued handout PDF", record="handout_id")
def handout(client_id: int, handout_id: int) -> Response:
    """Download an issued handout: the same bytes every time."""
    client = get_client_or_404(client_id)
    issued: IssuedHandout = ops.get_handout_or_404(client, handout_id)
    pdf, sha256 = ops.handout_pdf(issued), issued.sha256
    filename = f"home-care-{issued.issued_at:%Y-%m-%d}-{issued.id}.pdf"
    release_read()
    response = _pdf_response(pdf, filename)
    response.set_etag(sha256)
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
