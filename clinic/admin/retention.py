"""The retention report: clients whose records are past the clinic's retention period."""

from __future__ import annotations

from flask import Response, current_app, render_template
from flask_login import current_user

from clinic import clock
from clinic.admin import bp
from clinic.admin import operations as ops
from clinic.audit.declared import EXPORT, VIEW, audited
from clinic.query_args import page_arg


@bp.get("/clinic/retention")
@audited(VIEW, "client_list", "Clients past the retention period")
def retention() -> str:
    """List the clients past the retention period, oldest first; nothing is deleted."""
    clinic = current_user.clinic
    report = ops.list_past_retention(
        clinic.id,
        clinic.retention_years,
        clock.today(),
        page=page_arg(),
        per_page=int(current_app.config["CLIENTS_PER_PAGE"]),
    )
    return render_template("admin/retention.html", report=report)


@bp.get("/clinic/retention.csv")
@audited(EXPORT, "client_list", "Clients past the retention period (CSV)")
def retention_csv() -> Response:
    """Download the whole retention report as CSV; sent only once its entry is committed."""
    clinic = current_user.clinic
    today = clock.today()
    body = ops.export_past_retention_csv(clinic.id, clinic.retention_years, today)
    filename = f"retention-report-{today.isoformat()}.csv"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
