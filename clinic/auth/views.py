"""Setup, sign-in, sign-out, password change and two-step sign-in pages."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from clinic.audit.recording import record_account_event, record_failed_sign_in
from clinic.auth import ViewT, bp, public, two_factor
from clinic.auth import operations as ops
from clinic.auth.forms import (
    ChangePasswordForm,
    ConfirmTwoStepForm,
    DisableTwoStepForm,
    LoginForm,
    RecoveryCodesForm,
    SetupForm,
    SignInCodeForm,
    StartTwoStepForm,
)
from clinic.domain.errors import RuleViolation
from clinic.extensions import db, limiter
from clinic.forms import apply_violations
from clinic.models import AuditAction, User


def _failed_sign_in(response: Response) -> bool:
    # Only failed attempts count towards the limits; a success redirects.
    return response.status_code != 302


def _limit_failed_attempts(
    account_key: Callable[[], str], *, scope: str
) -> Callable[[ViewT], ViewT]:
    """Limit failed POSTs to a sign-in step, per address and per account (LOGIN_LIMIT_*)."""

    def decorate(view: ViewT) -> ViewT:
        per_account = limiter.limit(
            lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
            key_func=account_key,
            methods=["POST"],
            deduct_when=_failed_sign_in,
            scope=scope,
        )
        per_address = limiter.limit(
            lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
            methods=["POST"],
            deduct_when=_failed_sign_in,
        )
        return per_address(per_account(view))  # type: ignore[return-value]

    return decorate


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
@_limit_failed_attempts(_account_key, scope="login-account")
def login() -> str | Response:
    """Sign in with email address and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = ops.authenticate(form.email.data, form.password.data)
        except RuleViolation as violation:
            record_failed_sign_in(form.email.data)
            db.session.commit()
            apply_violations(form, violation)
        else:
            if user.has_two_factor:
                db.session.commit()
                return _ask_for_code(user, request.args.get("next"))
            _sign_in(user)
            record_account_event(AuditAction.SIGN_IN, user)
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
        record_account_event(AuditAction.SIGN_OUT, login_session.user)
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
            record_account_event(
                AuditAction.SECURITY, current_user._get_current_object(), "Changed own password"
            )
            db.session.commit()
            flash("Your password is changed. You were signed out everywhere else.", "success")
            return redirect(url_for("home"))
    return render_template("auth/change_password.html", form=form)


# ---------------------------------------------------------------------------------------------
# Two-step sign-in

# After the right password, the browser holds only this marker (user id and when), not a
# sign-in: no page opens until a code is accepted.
PENDING_KEY = "two_step_pending"
PENDING_SECONDS = 5 * 60


def _ask_for_code(user: User, next_url: str | None) -> Response:
    session.clear()
    session[PENDING_KEY] = {"user_id": user.id, "at": int(two_factor._now())}
    return redirect(url_for("auth.login_code", next=next_url))


def _pending_user_id() -> int | None:
    marker = session.get(PENDING_KEY)
    if not isinstance(marker, dict):
        return None
    user_id, started = marker.get("user_id"), marker.get("at")
    if not isinstance(user_id, int) or not isinstance(started, int):
        return None
    if not 0 <= two_factor._now() - started <= PENDING_SECONDS:
        return None
    return user_id


def _code_account_key() -> str:
    return f"login-code-account:{_pending_user_id()}"


def _remote_addr() -> str:
    return request.remote_addr or ""


@bp.route("/login/code", methods=["GET", "POST"])
@public
@_limit_failed_attempts(_code_account_key, scope="login-code-account")
def login_code() -> str | Response:
    """The second step of signing in: a code from the app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    user_id = _pending_user_id()
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active or not user.has_two_factor:
        if session.pop(PENDING_KEY, None) is not None:
            flash(
                "Signing in took longer than 5 minutes, so it was stopped. "
                "Sign in with your password again.",
                "info",
            )
        return redirect(url_for("auth.login", next=request.args.get("next")))
    form = SignInCodeForm()
    if form.validate_on_submit():
        try:
            check = two_factor.check_sign_in_code(user, form.code.data, remote_addr=_remote_addr())
        except RuleViolation as violation:
            # The failure stays in the audit trail.
            db.session.commit()
            apply_violations(form, violation)
        else:
            _sign_in(user)
            record_account_event(AuditAction.SIGN_IN, user, "With two-step sign-in")
            db.session.commit()
            if check.used_recovery_code:
                _flash_recovery_codes_left(check.recovery_codes_left)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login_code.html", form=form)


def _flash_recovery_codes_left(left: int) -> None:
    message = f"You signed in with a recovery code. It will not work again; {left} " + (
        "is left." if left == 1 else "are left."
    )
    if left <= two_factor.FEW_RECOVERY_CODES:
        message += " Make new recovery codes soon on the Two-step sign-in page."
        flash(message, "error")
    else:
        flash(message, "info")


def render_code_throttled() -> tuple[str, int]:
    """Show the code form again with a message that attempts are paused."""
    form = SignInCodeForm()
    form.form_errors.append(
        "Too many wrong codes. For your security, signing in is paused for a while: "
        "wait 15 minutes and try again, or ask the clinic's owner to reset your "
        "two-step sign-in."
    )
    return render_template("auth/login_code.html", form=form), 429


@bp.get("/account/two-step")
def two_step() -> tuple[str, int]:
    """Show whether two-step sign-in is on, with ways to set it up or manage it."""
    return _render_two_step()


def _render_two_step(
    codes_form: RecoveryCodesForm | None = None,
    disable_form: DisableTwoStepForm | None = None,
) -> tuple[str, int]:
    user = current_user._get_current_object()
    return render_template(
        "auth/two_step.html",
        codes_left=two_factor.recovery_codes_left(user) if user.has_two_factor else 0,
        few_codes=two_factor.FEW_RECOVERY_CODES,
        start_form=StartTwoStepForm(formdata=None),
        codes_form=codes_form or RecoveryCodesForm(formdata=None),
        disable_form=disable_form or DisableTwoStepForm(formdata=None),
    ), 200


@bp.post("/account/two-step/start")
def two_step_start() -> Response:
    """Make a new secret to show as a QR code; it is not used until a code confirms it."""
    if StartTwoStepForm().validate_on_submit():
        try:
            two_factor.start_setup(current_user._get_current_object())
        except RuleViolation as violation:
            db.session.rollback()
            flash(violation.message, "info")
            return redirect(url_for("auth.two_step"))
        db.session.commit()
        return redirect(url_for("auth.two_step_confirm"))
    return redirect(url_for("auth.two_step"))


@bp.route("/account/two-step/confirm", methods=["GET", "POST"])
def two_step_confirm() -> str | Response:
    """Show the QR code and the secret; a first correct code turns two-step sign-in on."""
    user = current_user._get_current_object()
    secret = two_factor.pending_secret(user)
    if secret is None:
        return redirect(url_for("auth.two_step"))
    form = ConfirmTwoStepForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.enable_two_factor(user, form.code.data, remote_addr=_remote_addr())
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(form, violation)
        else:
            db.session.commit()
            flash(
                "Two-step sign-in is on. From now on, signing in asks for a code from your app.",
                "success",
            )
            # Shown once, straight from the POST: the codes must not sit in a cookie or a URL.
            return render_template("auth/recovery_codes.html", codes=codes)
    return render_template(
        "auth/two_step_confirm.html",
        form=form,
        qr_svg=two_factor.qr_code_svg(two_factor.provisioning_uri(user, secret)),
        grouped_secret=two_factor.group_secret(secret),
    )


@bp.post("/account/two-step/recovery-codes")
def two_step_recovery_codes() -> str | tuple[str, int]:
    """Replace the recovery codes (the old ones stop working) and show the new ones once."""
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.regenerate_recovery_codes(
                current_user._get_current_object(), form.proof.data, remote_addr=_remote_addr()
            )
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(form, violation)
        else:
            db.session.commit()
            flash("New recovery codes are made. The old ones no longer work.", "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    return _render_two_step(codes_form=form)


@bp.post("/account/two-step/disable")
def two_step_disable() -> Response | tuple[str, int]:
    """Turn two-step sign-in off, with the password and a code."""
    form = DisableTwoStepForm()
    if form.validate_on_submit():
        try:
            two_factor.disable_two_factor(
                current_user._get_current_object(),
                password=form.password.data,
                code=form.code.data,
                remote_addr=_remote_addr(),
            )
        except RuleViolation as violation:
            db.session.rollback()
            apply_violations(form, violation)
        else:
            db.session.commit()
            flash("Two-step sign-in is off. Signing in now needs only your password.", "success")
            return redirect(url_for("auth.two_step"))
    return _render_two_step(disable_form=form)
