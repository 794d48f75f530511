"""Clinic details and account management, for the owner."""

from __future__ import annotations

import base64

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from clinic import clock
from clinic.access import current_clinic_id, get_user_or_404
from clinic.admin import bp
from clinic.admin import operations as ops
from clinic.admin.forms import ClinicSettingsForm, ConfirmForm, LogoForm, NewUserForm
from clinic.audit.declared import current_actor, not_audited
from clinic.auth import operations as auth_ops
from clinic.auth import two_factor
from clinic.auth.reauth import ask_to_confirm, recently_confirmed, requires_recent_sign_in
from clinic.auth.stash import take_stashed_form
from clinic.domain.errors import Conflict, RuleViolations
from clinic.forms import apply_violations
from clinic.homecare.logo import MAX_LOGO_BYTES
from clinic.models import Clinic, Role
from clinic.query_args import version_of

# Why these pages are not page views of a record (clinic/audit/declared.py).
_CLINIC = "the clinic's own details, no client's record; changes record themselves"
_ACCOUNTS = "the clinic's accounts, no client's record; changes record themselves"


@bp.route("/clinic", methods=["GET", "POST"])
@not_audited(_CLINIC)
def clinic_settings() -> str | Response | tuple[str, int]:
    """Edit the clinic's name, address and phone."""
    clinic = current_user.clinic
    form = ClinicSettingsForm(obj=clinic)
    if not form.is_submitted():
        form.version.data = str(clinic.version)
    elif form.validate_on_submit():
        settings = ops.ClinicSettings(
            name=form.name.data,
            address=form.address.data or "",
            phone=form.phone.data or "",
            screening_valid_days=form.screening_valid_days.data,
            retention_years=form.retention_years.data,
            require_two_factor=bool(form.require_two_factor.data),
            paper_size=form.paper_size.data or "",
        )
        try:
            ops.update_clinic_settings(current_actor(), settings, version_of(form.version.data))
        except Conflict as conflict:
            # Keep the owner's typing; saving again replaces the newer values on purpose.
            form.form_errors.append(conflict.message)
            form.version.data = str(clinic.version)
            return _render_clinic_settings(form, status=409)
        except RuleViolations as violations:
            apply_violations(form, violations)
            return _render_clinic_settings(form)
        flash("The clinic's details were saved.", "success")
        # Owners must use two-step sign-in whatever this setting says; the banner counts
        # down an owner's remaining days, so saving leads nowhere else.
        return redirect(url_for("admin.clinic_settings"))
    return _render_clinic_settings(form)


def _render_clinic_settings(
    form: ClinicSettingsForm, logo_form: LogoForm | None = None, status: int = 200
) -> tuple[str, int]:
    clinic = current_user.clinic
    logo_form = logo_form or LogoForm(formdata=None)
    return render_template(
        "admin/clinic.html", form=form, logo_form=logo_form, logo=_logo_data_url(clinic)
    ), status


def _logo_data_url(clinic: Clinic) -> str:
    # Shown only to the owner's own browser; the PDF renderer gets the bytes, never this URL.
    if clinic.logo is None or clinic.logo_media_type is None:
        return ""
    return f"data:{clinic.logo_media_type};base64,{base64.b64encode(clinic.logo).decode()}"


@bp.post("/clinic/logo")
@not_audited(_CLINIC)
def upload_logo() -> Response | tuple[str, int]:
    """Check an uploaded image and make it the logo on handouts."""
    logo_form = LogoForm()
    if logo_form.validate_on_submit():
        upload = logo_form.logo.data
        # One byte over the limit is enough to refuse; the rest is never read.
        data = upload.read(MAX_LOGO_BYTES + 1) if isinstance(upload, FileStorage) else b""
        try:
            ops.upload_logo(current_actor(), data)
        except RuleViolations as violations:
            apply_violations(logo_form, violations)
        else:
            flash("The logo was saved. It prints on handouts issued from now on.", "success")
            return redirect(url_for("admin.clinic_settings"))
    form = ClinicSettingsForm(formdata=None, obj=current_user.clinic)
    form.version.data = str(current_user.clinic.version)
    return _render_clinic_settings(form, logo_form)


@bp.post("/clinic/logo/remove")
@not_audited(_CLINIC)
def remove_logo() -> Response:
    """Stop printing a logo on handouts."""
    if ConfirmForm().validate_on_submit():
        ops.remove_logo(current_actor())
        flash("The logo was removed. Handouts already issued keep theirs.", "success")
    return redirect(url_for("admin.clinic_settings"))


@bp.get("/users")
@not_audited(_ACCOUNTS)
def users() -> str:
    """List the clinic's accounts."""
    accounts = auth_ops.list_accounts(current_clinic_id())
    return render_template(
        "admin/users.html", accounts=accounts, confirm=ConfirmForm(), now=clock.utcnow()
    )


def _one_time_hours() -> int:
    return int(current_app.config["ONE_TIME_PASSWORD_HOURS"])


@bp.route("/users/new", methods=["GET", "POST"])
@not_audited(_ACCOUNTS)
# A new account opens the clinic's records (an owner's, every account): the password first.
@requires_recent_sign_in("admin.new_user", keep_form=True)
def new_user() -> str | Response:
    """Open an account for a colleague with a one-time password."""
    restored = None
    if request.method == "GET":
        restored = take_stashed_form(request.args.get("restore"), current_user, request.path)
    if restored is not None:
        flash("What you typed is back in the form. Check it, then add the account.", "info")
        form = NewUserForm(formdata=restored)
    else:
        form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, password = auth_ops.open_account(
                current_actor(),
                full_name=form.full_name.data,
                email=form.email.data,
                role=Role(form.role.data),
                valid_hours=_one_time_hours(),
            )
        except RuleViolations as violations:
            apply_violations(form, violations)
        else:
            # Shown once, straight from the POST: it must not sit in a cookie or a URL.
            return render_template("admin/one_time_password.html", user=user, password=password)
    return render_template("admin/new_user.html", form=form)


@bp.post("/users/<int:user_id>/reset-password")
@not_audited(_ACCOUNTS)
def reset_password(user_id: int) -> str | Response:
    """Give an account a new one-time password and sign it out everywhere."""
    user = get_user_or_404(user_id)
    if not recently_confirmed():
        # After the 404 for another clinic's account: the password is asked only for one's own.
        return ask_to_confirm("admin.users")
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("admin.users"))
    try:
        password = auth_ops.reset_password(current_actor(), user, valid_hours=_one_time_hours())
    except RuleViolations as violations:
        flash(violations.message, "error")
        return redirect(url_for("admin.users"))
    return render_template("admin/one_time_password.html", user=user, password=password, reset=True)


@bp.post("/users/<int:user_id>/reset-two-step")
@not_audited(_ACCOUNTS)
def reset_two_step(user_id: int) -> Response:
    """Clear a colleague's two-step sign-in (a lost phone) and sign them out everywhere."""
    user = get_user_or_404(user_id)
    if not recently_confirmed():
        return ask_to_confirm("admin.users")
    if ConfirmForm().validate_on_submit():
        try:
            two_factor.reset_two_factor(current_actor(), user)
        except RuleViolations as violations:
            flash(violations.message, "error")
        else:
            flash(
                f"{user.full_name}'s two-step sign-in was reset and their sign-ins ended. "
                "They can sign in with their password and set it up on their new phone.",
                "success",
            )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/deactivate")
@not_audited(_ACCOUNTS)
def deactivate_user(user_id: int) -> Response:
    """Stop an account from signing in; its records stay."""
    return _set_active(user_id, active=False)


@bp.post("/users/<int:user_id>/reactivate")
@not_audited(_ACCOUNTS)
def reactivate_user(user_id: int) -> Response:
    """Let a deactivated account sign in again."""
    return _set_active(user_id, active=True)


def _set_active(user_id: int, *, active: bool) -> Response:
    user = get_user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            auth_ops.set_account_active(current_actor(), user, active=active)
        except RuleViolations as violations:
            flash(violations.message, "error")
        else:
            state = "reactivated" if active else "deactivated"
            flash(f"{user.full_name}'s account was {state}.", "success")
    return redirect(url_for("admin.users"))
