"""Clinic details and account management, for the owner."""

from __future__ import annotations

import base64

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from clinic.access import get_user_or_404, scoped
from clinic.admin import bp
from clinic.admin.forms import ClinicSettingsForm, ConfirmForm, LogoForm, NewUserForm
from clinic.auth import operations as auth_ops
from clinic.auth import two_factor
from clinic.domain.errors import RuleViolation
from clinic.extensions import db
from clinic.forms import apply_violations
from clinic.homecare import operations as homecare_ops
from clinic.homecare.logo import MAX_LOGO_BYTES
from clinic.models import Clinic, Role, User


@bp.route("/clinic", methods=["GET", "POST"])
def clinic_settings() -> str | Response | tuple[str, int]:
    """Edit the clinic's name, address and phone."""
    clinic = current_user.clinic
    form = ClinicSettingsForm(obj=clinic)
    if request.method == "GET":
        form.version.data = str(clinic.version)
    elif form.validate_on_submit():
        if form.version.data != str(clinic.version):
            # Keep the owner's typing; saving again replaces the newer values on purpose.
            form.form_errors.append(
                "Someone else changed these details while you were editing, so nothing was "
                f"saved. The saved details are: {clinic.name}; {clinic.address or 'no address'}; "
                f"{clinic.phone or 'no phone'}. Save again to replace them with yours."
            )
            form.version.data = str(clinic.version)
            return _render_clinic_settings(form, status=409)
        clinic.name = form.name.data
        clinic.address = form.address.data or ""
        clinic.phone = form.phone.data or ""
        clinic.screening_valid_days = form.screening_valid_days.data
        clinic.retention_years = form.retention_years.data
        clinic.require_two_factor = bool(form.require_two_factor.data)
        homecare_ops.set_paper_size(clinic, form.paper_size.data or clinic.paper_size)
        db.session.commit()
        flash("The clinic's details were saved.", "success")
        if clinic.require_two_factor and not current_user.has_two_factor:
            # The owner goes first; the Clinic page stays open to them to lift it again.
            return redirect(url_for("auth.two_step"))
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
def upload_logo() -> Response | tuple[str, int]:
    """Check an uploaded image and make it the logo on handouts."""
    clinic = current_user.clinic
    logo_form = LogoForm()
    if logo_form.validate_on_submit():
        upload = logo_form.logo.data
        # One byte over the limit is enough to refuse; the rest is never read.
        data = upload.read(MAX_LOGO_BYTES + 1) if isinstance(upload, FileStorage) else b""
        try:
            homecare_ops.set_clinic_logo(clinic, data)
            db.session.commit()
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(logo_form, violation)
        else:
            flash("The logo was saved. It prints on handouts issued from now on.", "success")
            return redirect(url_for("admin.clinic_settings"))
    form = ClinicSettingsForm(formdata=None, obj=current_user.clinic)
    form.version.data = str(current_user.clinic.version)
    return _render_clinic_settings(form, logo_form)


@bp.post("/clinic/logo/remove")
def remove_logo() -> Response:
    """Stop printing a logo on handouts."""
    if ConfirmForm().validate_on_submit():
        homecare_ops.remove_clinic_logo(current_user.clinic)
        db.session.commit()
        flash("The logo was removed. Handouts already issued keep theirs.", "success")
    return redirect(url_for("admin.clinic_settings"))


@bp.get("/users")
def users() -> str:
    """List the clinic's accounts."""
    accounts = db.session.scalars(scoped(User).order_by(User.active.desc(), User.full_name)).all()
    return render_template("admin/users.html", accounts=accounts, confirm=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> str | Response:
    """Open an account for a colleague with a one-time password."""
    form = NewUserForm()
    if form.validate_on_submit():
        password = auth_ops.generate_one_time_password()
        try:
            user = auth_ops.create_user(
                current_user.clinic,
                full_name=form.full_name.data,
                email=form.email.data,
                role=Role(form.role.data),
                password=password,
                must_change_password=True,
            )
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(form, violation)
        else:
            db.session.commit()
            # Shown once, straight from the POST: it must not sit in a cookie or a URL.
            return render_template("admin/one_time_password.html", user=user, password=password)
    return render_template("admin/new_user.html", form=form)


@bp.post("/users/<int:user_id>/reset-password")
def reset_password(user_id: int) -> str | Response:
    """Give an account a new one-time password and sign it out everywhere."""
    user = get_user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("admin.users"))
    if user.id == current_user.id:
        # A reset would skip the current-password check of changing your own password.
        flash("To change your own password, use the Password page.", "error")
        return redirect(url_for("admin.users"))
    password = auth_ops.reset_password(user)
    db.session.commit()
    return render_template("admin/one_time_password.html", user=user, password=password, reset=True)


@bp.post("/users/<int:user_id>/reset-two-step")
def reset_two_step(user_id: int) -> Response:
    """Clear a colleague's two-step sign-in (a lost phone) and sign them out everywhere."""
    user = get_user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            two_factor.reset_two_factor(current_user, user, remote_addr=request.remote_addr or "")
        except RuleViolation as violation:
            db.session.rollback()
            flash(violation.message, "error")
        else:
            db.session.commit()
            flash(
                f"{user.full_name}'s two-step sign-in was reset and their sign-ins ended. "
                "They can sign in with their password and set it up on their new phone.",
                "success",
            )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int) -> Response:
    """Stop an account from signing in; its records stay."""
    return _set_active(user_id, active=False)


@bp.post("/users/<int:user_id>/reactivate")
def reactivate_user(user_id: int) -> Response:
    """Let a deactivated account sign in again."""
    return _set_active(user_id, active=True)


def _set_active(user_id: int, *, active: bool) -> Response:
    user = get_user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            auth_ops.set_account_active(current_user, user, active=active)
        except RuleViolation as violation:
            db.session.rollback()
            flash(violation.message, "error")
        else:
            db.session.commit()
            state = "reactivated" if active else "deactivated"
            flash(f"{user.full_name}'s account was {state}.", "success")
    return redirect(url_for("admin.users"))
