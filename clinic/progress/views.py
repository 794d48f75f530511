"""Progress pages: a client's charts and tables, recording scores, CSV, and the overview."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from clinic import clock
from clinic.audit.declared import EXPORT, VIEW, audited, current_actor, not_audited
from clinic.clients.operations import get_client_or_404
from clinic.clients.pages import render_client_page
from clinic.domain.catalogue import Side
from clinic.domain.errors import RuleViolations
from clinic.domain.outcomes import (
    KOOS_JR_PROMPT,
    LEFS_MAX,
    LEFS_PROMPT,
    Measure,
    format_score,
)
from clinic.forms import apply_violations
from clinic.models import Client
from clinic.progress import bp
from clinic.progress import operations as ops
from clinic.progress.charts import BLUE, GREY, ORANGE, Axis, Point, Series, render_line_chart
from clinic.progress.forms import KoosJrForm, LefsForm, PainLogForm, QuestionnaireBase
from clinic.templating import url_for_each


@not_audited("the overview shows counts only, no client's name or record")
def overview() -> str:
    """Show the clinic at a glance; each figure links to the matching list."""
    return render_template(
        "progress/overview.html", overview=ops.load_overview(current_user, clock.today())
    )


# The tables under the charts show this many of the latest scores unless all are asked for, so
# the page costs the same for a long history as for a short one; the charts show every score.
LATEST_ROWS = 10


def _charts(progress: ops.Progress) -> dict[str, object]:
    charts: dict[str, object] = {}
    pain_axis = Axis(0, 10, 2, "Pain (0-10)")
    for knee in progress.knees:
        before = [Point(v.on, v.before) for v in knee.visits if v.before is not None]
        after = [Point(v.on, v.after) for v in knee.visits if v.after is not None]
        home = [Point(e.logged_on, e.score) for e in knee.home_log]
        charts[f"pain_{knee.knee.value}"] = render_line_chart(
            f"{knee.knee.label} knee: pain before and after each visit",
            [
                Series("Before the visit", before, BLUE, "circle"),
                Series("After the visit", after, ORANGE, "diamond", dashed=True),
                Series("Home log", home, GREY, "square", joined=False),
            ],
            pain_axis,
            description="Lower is better. The same scores are in the table below.",
            key=f"pain-{knee.knee.value}",
        )
    if progress.koos_jr:
        series = [
            Series(
                f"{knee.label} knee",
                [
                    Point(a.taken_on, a.score, format_score(Measure.KOOS_JR, a.score))
                    for a in progress.koos_jr
                    if a.knee is knee
                ],
                BLUE if knee is Side.LEFT else ORANGE,
                "circle" if knee is Side.LEFT else "diamond",
            )
            for knee in Side
            if any(a.knee is knee for a in progress.koos_jr)
        ]
        charts["koos_jr"] = render_line_chart(
            "KOOS JR knee score over time",
            series,
            Axis(0, 100, 20, "KOOS JR (100 = best)"),
            description="Higher is better. The same scores are in the table below.",
            key="koos-jr",
        )
    if progress.lefs:
        charts["lefs"] = render_line_chart(
            "Lower limb function (LEFS) over time",
            [Series("LEFS", [Point(a.taken_on, a.raw_score) for a in progress.lefs], BLUE)],
            Axis(0, LEFS_MAX, 10, "LEFS (80 = best)"),
            description="Higher is better. The same scores are in the table below.",
            key="lefs",
        )
    return charts


@bp.get("/clients/<int:client_id>/progress")
@audited(VIEW, "progress", "Progress charts and tables")
def detail(client_id: int) -> str:
    """Show a client's pain and function over time, charts and tables, with summaries."""
    client = get_client_or_404(client_id)
    progress = ops.load_progress(client)
    return render_client_page(
        "progress/detail.html",
        client,
        progress=progress,
        charts=_charts(progress),
        format_score=format_score,
        visit_url=url_for_each("visits.detail", "visit_id", client_id=client.id),
        show_all=request.args.get("all") == "1",
        latest_rows=LATEST_ROWS,
    )


@bp.get("/clients/<int:client_id>/progress.csv")
@audited(EXPORT, "progress", "Progress data (CSV)")
def export_csv(client_id: int) -> Response:
    """Download the client's pain and questionnaire data as CSV."""
    client = get_client_or_404(client_id)
    body = ops.export_progress_csv(ops.load_progress(client))
    filename = f"progress-client-{client.id}-{clock.today().isoformat()}.csv"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/clients/<int:client_id>/progress/pain-log", methods=["GET", "POST"])
@audited(VIEW, "pain_log", "Home pain log form")
def pain_log(client_id: int) -> str | BaseResponse:
    """Type in a score from the client's home pain log."""
    client = get_client_or_404(client_id)
    form = PainLogForm()
    if not form.is_submitted():
        form.logged_on.data = clock.today()
        form.knee.data = _starting_knee(client)
    if form.validate_on_submit():
        try:
            ops.record_pain_log(
                current_actor(),
                client,
                logged_on=form.logged_on.data,
                knee=Side(form.knee.data),
                score=form.score.data,
                note=form.note.data or "",
                today=clock.today(),
            )
        except RuleViolations as refused:
            apply_violations(form, refused)
        else:
            flash("The home log score was added.", "success")
            return redirect(url_for("progress.pain_log", client_id=client.id))
    return render_client_page("progress/pain_log.html", client, form=form)


def _starting_knee(client: Client) -> str | None:
    """The knee choice a form starts on: the client's, when the intake names one."""
    side = client.affected_knee.side
    return side.value if side is not None else None


def _questionnaire(client_id: int, measure: Measure, form: QuestionnaireBase) -> str | BaseResponse:
    client = get_client_or_404(client_id)
    if not form.is_submitted():
        form.taken_on.data = clock.today()
        knee_field = form._fields.get("knee")
        if knee_field is not None:
            knee_field.data = _starting_knee(client)
    if form.validate_on_submit():
        knee_field = form._fields.get("knee")
        try:
            ops.record_assessment(
                current_actor(),
                client,
                measure=measure,
                taken_on=form.taken_on.data,
                knee=Side(knee_field.data) if knee_field is not None else None,
                answers=form.answers(),
                today=clock.today(),
            )
        except RuleViolations as refused:
            apply_violations(form, form.on_fields(refused))
        else:
            flash(f"The {measure.label} was scored and saved.", "success")
            return redirect(url_for("progress.detail", client_id=client.id))
    prompt = KOOS_JR_PROMPT if measure is Measure.KOOS_JR else LEFS_PROMPT
    return render_client_page(
        "progress/questionnaire.html", client, form=form, measure=measure, prompt=prompt
    )


@bp.route("/clients/<int:client_id>/progress/koos-jr/new", methods=["GET", "POST"])
@audited(VIEW, "assessment", "KOOS JR form")
def new_koos_jr(client_id: int) -> str | BaseResponse:
    """Record a KOOS JR questionnaire (7 items, all required)."""
    return _questionnaire(client_id, Measure.KOOS_JR, KoosJrForm())


@bp.route("/clients/<int:client_id>/progress/lefs/new", methods=["GET", "POST"])
@audited(VIEW, "assessment", "LEFS form")
def new_lefs(client_id: int) -> str | BaseResponse:
    """Record a LEFS questionnaire (20 items, all required)."""
    return _questionnaire(client_id, Measure.LEFS, LefsForm())
