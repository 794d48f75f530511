"""Setup, sign-in, sign-out, password change and two-step sign-in pages."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from clinic.audit.declared import current_actor, not_audited
from clinic.auth import ViewT, bp, public, reauth, two_factor
from clinic.auth import operations as ops
from clinic.auth.forms import (
    ChangePasswordForm,
    ConfirmIdentityForm,
    ConfirmTwoStepForm,
    DisableTwoStepForm,
    LoginForm,
    RecoveryCodesForm,
    SetupForm,
    SignInCodeForm,
    StartTwoStepForm,
)
from clinic.domain.errors import RuleViolations
from clinic.extensions import limiter
from clinic.forms import apply_violations
from clinic.models import User

# Why the pages of this module are not page views of a record (clinic/audit/declared.py).
_SIGN_IN = "the sign-in pages show no client's record; the sign-in operations record events"
_OWN_ACCOUNT = "your own account's settings, no client's record; changes record themselves"


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
    # The email is mapped to its account first, so every way of typing it (case, spaces,
    # invisible characters) counts against the one account; unknown ones by the email.
    email = request.form.get("email", "")
    user = ops.find_account_by_email(email)
    if user is not None:
        return f"login-account:{user.id}"
    return "login-email:" + ops.normalise_email(email)


def _check_failed(response: Response) -> bool:
    # Only a wrong password or code counts (a refused rule or a success does not).
    return bool(g.get("credential_failed"))


def _signed_in_account_key() -> str:
    return f"signed-in-check:{current_user.get_id()}"


def _limit_signed_in_checks(view: ViewT) -> ViewT:
    """Limit wrong passwords and codes typed while signed in, per account and per address.

    One shared count per account across every such page (LOGIN_LIMIT_PER_ACCOUNT), and one per
    address (LOGIN_LIMIT_PER_ADDRESS); the view sets g.credential_failed on a wrong one.
    """
    per_account = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        scope="signed-in-check-account",
        key_func=_signed_in_account_key,
        methods=["POST"],
        deduct_when=_check_failed,
    )
    per_address = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
        scope="signed-in-check-address",
        methods=["POST"],
        deduct_when=_check_failed,
    )
    return per_address(per_account(view))  # type: ignore[return-value]


def _note_refusal(violations: RuleViolations) -> None:
    if ops.is_credential_refusal(violations):
        g.credential_failed = True


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an absolute or scheme-relative URL.
    if target:
        parts = urlsplit(target)
        # Browsers read a backslash as a slash: "/\\evil.example" would leave the site.
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and "\\" not in target
            and not any(ord(ch) < 32 for ch in target)
        ):
            return target
    return url_for("home")


def _sign_in(user: User, *, how: str | None = None) -> None:
    """Start a sign-in for the browser; recorded as a sign-in unless `how` is None."""
    where = {"remote_addr": _remote_addr(), "user_agent": request.headers.get("User-Agent", "")}
    if how is None:
        token = ops.start_login_session(user, **where)
    else:
        token = ops.sign_in(user, how=how, **where)
    # A fresh cookie on every sign-in: nothing from before it carries over.
    session.clear()
    session["sid"] = token
    session.permanent = True
    login_user(user)
    # The password (and code) were just checked: sensitive changes are open for a while.
    reauth.mark_confirmed()


@bp.route("/setup", methods=["GET", "POST"])
@not_audited("first run: creates the clinic and its owner's account, before any record exists")
@public
def setup() -> str | Response:
    """Create the clinic and its owner's account on first run."""
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = ops.create_clinic_with_owner(
                clinic_name=form.clinic_name.data,
                address=form.clinic_address.data or "",
                phone=form.clinic_phone.data or "",
                owner_name=form.owner_name.data,
                email=form.email.data,
                password=form.new_password.data,
                min_length=_min_length(),
                min_score=_min_score(),
            )
        except RuleViolations as violations:
            apply_violations(form, violations)
        else:
            _sign_in(user)
            current_app.extensions["clinic.setup_done"] = True
            flash(
                f"{user.clinic.name} is set up. Welcome, {user.full_name}. As the owner, "
                "protect the clinic with two-step sign-in: set it up now, or choose Later.",
                "success",
            )
            return redirect(url_for("auth.two_step"))
    return render_template("auth/setup.html", form=form)


def _min_length() -> int:
    return int(current_app.config["PASSWORD_MIN_LENGTH"])


def _min_score() -> int:
    return int(current_app.config["PASSWORD_MIN_SCORE"])


@bp.route("/login", methods=["GET", "POST"])
@not_audited(_SIGN_IN)
@public
@_limit_failed_attempts(_account_key, scope="login-account")
def login() -> str | Response:
    """Sign in with email address and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = ops.authenticate(form.email.data, form.password.data, remote_addr=_remote_addr())
        except RuleViolations as violations:
            # The failed sign-in's entry is kept: the commit point commits this page.
            apply_violations(form, violations)
        else:
            if user.has_two_factor:
                return _ask_for_code(user, request.args.get("next"))
            _sign_in(user, how="")
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
@not_audited(_SIGN_IN)
def logout() -> Response:
    """Sign out: end this browser's sign-in on the server and drop the cookie."""
    login_session = g.get("login_session")
    if login_session is not None:
        ops.sign_out(login_session, remote_addr=_remote_addr())
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    response = redirect(url_for("auth.login"))
    # Whatever the browser kept of the pages (a shared tablet) goes too; not the cookies,
    # which would take the message above with them (the sign-in itself ended on the server).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@not_audited(_OWN_ACCOUNT)
@_limit_signed_in_checks
def change_password() -> str | Response:
    """Change your own password; every other sign-in of yours ends."""
    form = ChangePasswordForm()
    if current_user.must_change_password:
        form.current_password.label.text = "One-time password"
    if form.validate_on_submit():
        try:
            ops.change_password(
                current_actor(),
                current_password=form.current_password.data,
                new_password=form.new_password.data,
                min_length=_min_length(),
                min_score=_min_score(),
            )
        except RuleViolations as violations:
            # A wrong current password's entry is kept: the commit point commits this page.
            _note_refusal(violations)
            apply_violations(form, violations)
        else:
            # Every sign-in ended with the change; this browser carries on with a new one.
            _sign_in(current_user._get_current_object())
            flash("Your password is changed. You were signed out everywhere else.", "success")
            return redirect(url_for("home"))
    return render_template("auth/change_password.html", form=form)


def _throttled_message() -> str:
    return (
        "Too many wrong passwords or codes. For your security, this is paused for a while: "
        "wait 15 minutes and try again. Nothing was changed."
    )


@bp.route("/account/confirm", methods=["GET", "POST"])
@not_audited(_OWN_ACCOUNT)
@_limit_signed_in_checks
def confirm_identity() -> str | Response:
    """Ask for the password (or a current app code) again before a sensitive change."""
    next_url = _safe_next(request.args.get("next"))
    form = ConfirmIdentityForm()
    if form.validate_on_submit():
        try:
            reauth.confirm_identity(current_actor(), form.proof.data)
        except RuleViolations as violations:
            # The wrong password's entry is kept: the commit point commits this page.
            _note_refusal(violations)
            apply_violations(form, violations)
        else:
            reauth.mark_confirmed()
            return redirect(next_url)
    return _render_confirm_identity(form)


def _render_confirm_identity(form: ConfirmIdentityForm) -> str:
    if getattr(current_user, "has_two_factor", False):
        form.proof.label.text = "Your password, or the code your app shows now"
    return render_template(
        "auth/confirm_identity.html",
        form=form,
        minutes=current_app.config["REAUTH_MINUTES"],
        cancel_url=url_for("home"),
    )


def render_throttled(endpoint: str | None) -> tuple[str, int] | None:
    """Show the form of a limited page again with a message that attempts are paused."""
    if endpoint == "auth.login":
        return render_login_throttled()
    if endpoint == "auth.login_code":
        return render_code_throttled()
    if endpoint == "auth.change_password":
        password_form = ChangePasswordForm(formdata=None)
        password_form.form_errors.append(_throttled_message())
        return render_template("auth/change_password.html", form=password_form), 429
    if endpoint == "auth.confirm_identity":
        confirm_form = ConfirmIdentityForm(formdata=None)
        confirm_form.form_errors.append(_throttled_message())
        return _render_confirm_identity(confirm_form), 429
    if endpoint == "auth.two_step_recovery_codes":
        codes_form = RecoveryCodesForm(formdata=None)
        codes_form.form_errors.append(_throttled_message())
        return _render_two_step(codes_form=codes_form)[0], 429
    if endpoint == "auth.two_step_disable":
        disable_form = DisableTwoStepForm(formdata=None)
        disable_form.form_errors.append(_throttled_message())
        return _render_two_step(disable_form=disable_form)[0], 429
    return None


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
@not_audited(_SIGN_IN)
@public
@_limit_failed_attempts(_code_account_key, scope="login-code-account")
def login_code() -> str | Response:
    """The second step of signing in: a code from the app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    user = two_factor.pending_sign_in_user(_pending_user_id())
    if user is None:
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
        except RuleViolations as violations:
            # The failure's entry is kept: the commit point commits this page.
            apply_violations(form, violations)
        else:
            _sign_in(user, how="With two-step sign-in")
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
@not_audited(_OWN_ACCOUNT)
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
@not_audited(_OWN_ACCOUNT)
@reauth.requires_recent_sign_in("auth.two_step")
def two_step_start() -> Response:
    """Make a new secret to show as a QR code; it is not used until a code confirms it."""
    if StartTwoStepForm().validate_on_submit():
        try:
            two_factor.start_setup(current_actor())
        except RuleViolations as violations:
            flash(violations.message, "info")
            return redirect(url_for("auth.two_step"))
        return redirect(url_for("auth.two_step_confirm"))
    return redirect(url_for("auth.two_step"))


@bp.route("/account/two-step/confirm", methods=["GET", "POST"])
@not_audited(_OWN_ACCOUNT)
@reauth.requires_recent_sign_in("auth.two_step_confirm")
def two_step_confirm() -> str | Response:
    """Show the QR code and the secret; a first correct code turns two-step sign-in on."""
    user = current_user._get_current_object()
    secret = two_factor.pending_secret(user)
    if secret is None:
        return redirect(url_for("auth.two_step"))
    form = ConfirmTwoStepForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.enable_two_factor(current_actor(), form.code.data)
        except RuleViolations as violations:
            apply_violations(form, violations)
        else:
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
@not_audited(_OWN_ACCOUNT)
@_limit_signed_in_checks
def two_step_recovery_codes() -> str | tuple[str, int]:
    """Replace the recovery codes (the old ones stop working) and show the new ones once."""
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        try:
            codes = reauth.regenerate_recovery_codes(current_actor(), form.proof.data)
        except RuleViolations as violations:
            # A wrong password or code's entry is kept: the commit point commits this page.
            _note_refusal(violations)
            apply_violations(form, violations)
        else:
            flash("New recovery codes are made. The old ones no longer work.", "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    return _render_two_step(codes_form=form)


@bp.post("/account/two-step/disable")
@not_audited(_OWN_ACCOUNT)
@_limit_signed_in_checks
def two_step_disable() -> Response | tuple[str, int]:
    """Turn two-step sign-in off, with the password and a code."""
    form = DisableTwoStepForm()
    if form.validate_on_submit():
        try:
            reauth.disable_two_factor(
                current_actor(), password=form.password.data, code=form.code.data
            )
        except RuleViolations as violations:
            # A wrong password or code's entry is kept: the commit point commits this page.
            _note_refusal(violations)
            apply_violations(form, violations)
        else:
            flash("Two-step sign-in is off. Signing in now needs only your password.", "success")
            return redirect(url_for("auth.two_step"))
    return _render_two_step(disable_form=form)
