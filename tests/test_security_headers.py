"""Security headers on every kind of response, and templates that a strict CSP does not break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinic import create_app
from clinic.security import CONTENT_SECURITY_POLICY
from clinic.settings import TEMPLATES_DIR
from tests import factories
from tests.conftest import make_test_config

PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_OFF = ("camera", "microphone", "geolocation", "payment", "usb")


def parse_policy(header: str) -> dict[str, str]:
    """Return a CSP header as {directive: sources}."""
    policy = {}
    for part in header.split(";"):
        name, _, sources = part.strip().partition(" ")
        policy[name] = sources.strip()
    return policy


def assert_common_headers(response) -> None:
    """The headers every response carries, whatever its type."""
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    permissions = headers["Permissions-Policy"]
    for feature in PERMISSIONS_OFF:
        assert f"{feature}=()" in permissions
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    # Plain HTTP: no HSTS (a clinic may run without TLS on its own network).
    assert "Strict-Transport-Security" not in headers


def assert_page_headers(response) -> None:
    """An HTML page: the full policy and nothing cached."""
    assert_common_headers(response)
    assert response.mimetype == "text/html"
    policy = parse_policy(response.headers["Content-Security-Policy"])
    for directive, sources in PAGE_POLICY.items():
        assert policy[directive] == sources, directive
    assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_in_page_with_records_has_every_header(app, logged_in, clinic_world):
    response = logged_in.get(f"/clients/{clinic_world.a.client_id}")
    assert response.status_code == 200
    assert "SecretAlpha" in response.get_data(as_text=True)
    assert_page_headers(response)


def test_the_sign_in_page_has_every_header(client, clinic_world):
    response = client.get("/login")
    assert response.status_code == 200
    assert_page_headers(response)


def test_an_error_page_has_every_header(logged_in):
    response = logged_in.get("/no/such/page")
    assert response.status_code == 404
    assert_page_headers(response)


def test_a_redirect_to_sign_in_has_every_header(client, clinic_world):
    response = client.get(f"/clients/{clinic_world.a.client_id}")
    assert response.status_code == 302
    assert_common_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_pdf_may_not_be_framed_or_cached(app, logged_in, clinic_world):
    a = clinic_world.a
    response = logged_in.get(f"/clients/{a.client_id}/homecare/handouts/{a.handout_id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert_common_headers(response)
    assert response.headers["Cache-Control"] == "no-store"
    # Chromium's PDF viewer is an <embed> with inline styles: the page policy would blank it.
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_a_csv_export_is_not_cached(logged_in, clinic_world):
    response = logged_in.get(f"/clients/{clinic_world.a.client_id}/progress.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert_common_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_caching(client, clinic_world):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert_common_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_hsts_is_sent_over_https(client, clinic_world):
    response = client.get("/login", base_url="https://localhost")
    assert response.status_code == 200
    hsts = response.headers["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains"


def test_hsts_is_not_sent_over_plain_http_and_http_is_not_redirected(client, clinic_world):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_a_forged_forwarded_proto_does_not_bring_hsts(client, clinic_world):
    # No trusted proxy is configured, so anyone could have sent this header.
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_https_behind_a_trusted_proxy_brings_hsts(database_url):
    app = create_app(make_test_config(database_url, TRUSTED_PROXIES=1))
    factories.make_world(app)
    client = app.test_client()
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_the_session_cookie_keeps_the_apps_own_settings(client, clinic_world):
    """Talisman must not force Secure (sign-in over plain HTTP would break) or change SameSite."""
    response = client.post(
        "/login", data={"email": clinic_world.a.therapist_email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert client.get("/clients/").status_code == 200


def test_the_policy_never_allows_inline_code():
    for directive, sources in CONTENT_SECURITY_POLICY.items():
        assert "unsafe" not in sources, directive
        assert "*" not in sources, directive


# ---------------------------------------------------------------------------------------------
# Templates: nothing a strict CSP would block

# WeasyPrint renders templates/pdf/, not a browser: CSP does not apply there.
PDF_TEMPLATES = TEMPLATES_DIR / "pdf"
FORBIDDEN = {
    "an inline <script> (use a file in clinic/static/js/ with src=)": re.compile(
        r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE
    ),
    "an event handler attribute (use addEventListener in a static script)": re.compile(
        r"\son[a-z]+\s*=", re.IGNORECASE
    ),
    "a style= attribute (use a class in clinic/static/css/app.css)": re.compile(
        r"\sstyle\s*=", re.IGNORECASE
    ),
    "an inline <style> element (use clinic/static/css/app.css)": re.compile(
        r"<style[\s>]", re.IGNORECASE
    ),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def browser_templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES_DIR.rglob("*")
        if path.is_file() and path.suffix in (".html", ".svg", ".xml", ".js", ".txt")
        and PDF_TEMPLATES not in path.parents
    )  # fmt: skip


def test_the_template_scan_finds_templates():
    names = {path.relative_to(TEMPLATES_DIR).as_posix() for path in browser_templates()}
    assert "base.html" in names
    assert "visits/form.html" in names
    assert not any(name.startswith("pdf/") for name in names)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<SCRIPT type="module">x()</SCRIPT>',
        '<button onclick="go()">',
        '<body onload = "go()">',
        '<p style="color: red">',
        "<style>p { color: red }</style>",
        '<a href="javascript:void(0)">',
    ],
)
def test_the_template_scan_catches_inline_code(snippet):
    assert any(pattern.search(snippet) for pattern in FORBIDDEN.values()), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/visit-form.js" defer></script>',
        '<div data-online="yes" class="session">',
        '<link rel="stylesheet" href="/static/css/app.css">',
    ],
)
def test_the_template_scan_lets_allowed_markup_through(snippet):
    assert not any(pattern.search(snippet) for pattern in FORBIDDEN.values()), snippet


def test_no_template_has_inline_script_or_style():
    problems = []
    for path in browser_templates():
        text = path.read_text(encoding="utf-8")
        for what, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                name = path.relative_to(TEMPLATES_DIR)
                problems.append(f"{name}:{line}: {what}: {match.group(0)!r}")
    assert not problems, "A strict CSP blocks these:\n" + "\n".join(problems)


def test_charts_use_no_style_attributes(app, logged_in, clinic_world):
    """The SVG charts are drawn inline in the page, so they obey style-src 'self' too."""
    response = logged_in.get(f"/clients/{clinic_world.a.client_id}/progress")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<svg" in body
    for what, pattern in FORBIDDEN.items():
        assert not pattern.search(body), what
