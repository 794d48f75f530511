"""Every page but sign-in, setup and static files needs a signed-in user."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from clinic import create_app
from tests.auth import location
from tests.conftest import make_test_config

PUBLIC = {"auth.login", "auth.login_code", "auth.setup", "static"}


def _routes() -> list[Rule]:
    app = create_app(make_test_config("sqlite://"))
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def _url(app: Flask, rule: Rule) -> str:
    values: dict[str, Any] = {
        name: 1 if f"<int:{name}>" in rule.rule else "x" for name in rule.arguments
    }
    return str(app.url_map.bind("localhost").build(rule.endpoint, values))


def _protected_routes() -> list[Rule]:
    return [rule for rule in _routes() if rule.endpoint not in PUBLIC]


def test_only_sign_in_and_setup_are_public():
    app = create_app(make_test_config("sqlite://"))
    public = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "is_public", False)
    }
    # The code page of two-step sign-in only works after the right password (its own tests).
    assert public == {"auth.login", "auth.login_code", "auth.setup"}


def test_the_walk_covers_every_feature():
    endpoints = {rule.endpoint for rule in _protected_routes()}
    assert {"home", "auth.logout", "auth.change_password", "clients.index"} <= endpoints
    assert {"admin.users", "admin.new_user", "admin.clinic_settings"} <= endpoints
    assert {"admin.reset_password", "admin.deactivate_user", "admin.reactivate_user"} <= endpoints


@pytest.mark.parametrize("rule", _protected_routes(), ids=lambda rule: f"{rule.endpoint}")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_anonymous_requests_go_to_sign_in(app, clinic_world, rule, method):
    client = app.test_client()
    url = _url(app, rule)
    response = client.post(url) if method == "POST" else client.get(url)
    if method in (rule.methods or set()):
        assert response.status_code == 302, (url, method, response.status_code)
        assert location(response).startswith("/login"), (url, method)
    else:
        # The wrong method: refused, or sent to sign in first; never served.
        assert response.status_code in (302, 405), (url, method, response.status_code)
        if response.status_code == 302:
            assert location(response).startswith("/login")


@pytest.mark.parametrize(
    "rule",
    [rule for rule in _protected_routes() if "POST" in (rule.methods or set())],
    ids=lambda rule: f"{rule.endpoint}",
)
def test_anonymous_posts_without_csrf_token_are_refused(app, clinic_world, rule):
    response = app.test_client().post(_url(app, rule), csrf=False)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert location(response).startswith("/login")


def test_unknown_addresses_lead_anonymous_visitors_to_sign_in(client, clinic_world):
    response = client.get("/no/such/page")
    assert location(response).startswith("/login")


def test_unknown_addresses_are_404_when_signed_in(logged_in):
    # Also shows the walk above does not pass merely because everything redirects.
    assert logged_in.get("/clients/").status_code == 200
    response = logged_in.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/login", "/static/css/app.css"])
def test_public_pages_open_without_signing_in(client, clinic_world, path):
    response = client.get(path)
    assert response.status_code == 200
    response.close()
