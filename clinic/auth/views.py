"""Setup, sign-in, sign-out and password change pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from clinic.auth import bp, public
from clinic.auth import operations as ops
from clinic.auth.forms import ChangePasswordForm, LoginForm, SetupForm
from clinic.domain.errors import RuleViolation
from clinic.extensions import db, limiter
from clinic.forms import apply_violations
from clinic.models import User


def _failed_sign_in(response: Response) -> bool:
    # Only failed attempts count towards the limits; a success redirects.
    return response.status_code != 302


def _account_key() -> str:
    return "login-account:" + ops.normalise_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an absolute or scheme-relative URL.
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("home")


def _sign_in(user: User) -> None:
    token = ops.start_login_session(
        user,
        remote_addr=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
    )
    # A fresh cookie on every sign-in: nothing from before it carries over.
    session.clear()
    session["sid"] = token
    session.permanent = True
    login_user(user)


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup() -> str | Response:
    """Create the clinic and its owner's account on first run."""
    form = SetupForm()
    if form.validate_on_submit():
        try:
            ops.check_new_password(None, form.new_password.data, _min_length())
            user = ops.create_clinic_with_owner(
                clinic_name=form.clinic_name.data,
                address=form.clinic_address.data or "",
                phone=form.clinic_phone.data or "",
                owner_name=form.owner_name.data,
                email=form.email.data,
                password=form.new_password.data,
            )
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(form, violation)
        else:
            _sign_in(user)
            db.session.commit()
            current_app.extensions["clinic.setup_done"] = True
            flash(f"{user.clinic.name} is set up. Welcome, {user.full_name}.", "success")
            return redirect(url_for("home"))
    return render_template("auth/setup.html", form=form)


def _min_length() -> int:
    return int(current_app.config["PASSWORD_MIN_LENGTH"])


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed_sign_in,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed_sign_in,
    scope="login-account",
)
def login() -> str | Response:
    """Sign in with email address and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = ops.authenticate(form.email.data, form.password.data)
        except RuleViolation as violation:
            apply_violations(form, violation)
        else:
            _sign_in(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def render_login_throttled() -> tuple[str, int]:
    """Show the sign-in form again with a message that attempts are paused."""
    form = LoginForm()
    form.form_errors.append(
        "Too many failed sign-in attempts. For your security, sign-in is paused for a while: "
        "wait 15 minutes and try again, or ask the clinic's owner to reset your password."
    )
    return render_template("auth/login.html", form=form), 429


@bp.post("/logout")
def logout() -> Response:
    """Sign out: end this browser's sign-in on the server and drop the cookie."""
    login_session = g.get("login_session")
    if login_session is not None:
        ops.end_login_session(login_session, "signed out")
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> str | Response:
    """Change your own password; every other sign-in of yours ends."""
    form = ChangePasswordForm()
    if current_user.must_change_password:
        form.current_password.label.text = "One-time password"
    if form.validate_on_submit():
        try:
            ops.change_password(
                current_user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
                min_length=_min_length(),
            )
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(form, violation)
        else:
            _sign_in(current_user._get_current_object())
            db.session.commit()
            flash("Your password is changed. You were signed out everywhere else.", "success")
            return redirect(url_for("home"))
    return render_template("auth/change_password.html", form=form)
