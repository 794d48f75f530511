"""Security headers: a strict Content Security Policy, no framing, and no caching of records."""

from __future__ import annotations

from flask import Flask, request
from flask_talisman import DENY, Talisman
from werkzeug.wrappers import Response

# Everything the pages use comes from the app itself: its stylesheet, its one script, its
# favicon. The clinic's logo is shown as a data: URL on the settings page, hence img-src data:.
# No 'unsafe-inline' anywhere: templates carry no inline script, event handler or style
# attribute (tests/test_security_headers.py scans them so none creeps back in).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# A browser shows a PDF through its own viewer page, in Chromium an <embed> with inline
# styles, which the page policy (object-src 'none', style-src 'self') leaves blank in some
# versions (crbug.com/271452). A PDF runs no script or style of ours, so it gets only what
# still matters for it: nobody may frame it.
PDF_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'"

# Browser features a records app never needs; only features Chromium knows are listed,
# since an unknown one is reported as an error in the console.
PERMISSIONS_POLICY = dict.fromkeys(
    (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    ),
    "()",
)

# same-origin: the app's own requests keep their Referer (Flask-WTF checks it on HTTPS
# form posts), while a link that leaves the app sends nothing, not even the origin, so no
# URL naming a client or a visit reaches another site.
REFERRER_POLICY = "same-origin"

HSTS_MAX_AGE_SECONDS = 365 * 24 * 60 * 60
HSTS = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"


def _protect_response(response: Response) -> Response:
    # Every page but a static file may show health records (or a form's CSRF token): no
    # browser or proxy may keep a copy, and the back button after signing out shows nothing.
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    if response.mimetype == "application/pdf":
        response.headers["Content-Security-Policy"] = PDF_CONTENT_SECURITY_POLICY
    # request.is_secure follows X-Forwarded-Proto only from the proxies TRUSTED_PROXIES names
    # (ProxyFix); Talisman's own HSTS would also believe the header from anyone.
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def register_headers(app: Flask) -> None:
    """Send the security headers on every response: CSP, framing, referrer, HSTS, caching."""
    # Flask runs after_request hooks last-registered first: this one is registered before
    # Talisman's so it runs after it and can replace the policy on PDFs.
    app.after_request(_protect_response)
    Talisman(
        app,
        # A clinic may run the app on its own network without TLS: never redirect to HTTPS.
        force_https=False,
        frame_options=DENY,
        # Sent by _protect_response, only when the request really came over HTTPS.
        strict_transport_security=False,
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy=REFERRER_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        x_content_type_options=True,
        # The session cookie is the app's business (clinic.auth.ClinicSessionInterface marks
        # it Secure over HTTPS; clinic.config sets HttpOnly and SameSite): Talisman would
        # force Secure even on a LAN without TLS, breaking sign-in there.
        session_cookie_secure=False,
        session_cookie_http_only=False,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
