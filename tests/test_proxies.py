"""Only the proxies the clinic names decide what the app thinks of a request (finding 11).

gunicorn's own default believes X-Forwarded-Proto from 127.0.0.1, so anything on the same
computer relaying a client's headers told the app a plain-HTTP request was HTTPS. `make run`'s
gunicorn believes no forwarded header; the app alone does, for TRUSTED_PROXIES hops.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gunicorn.config import Config

from clinic import create_app
from clinic.security import HSTS
from tests.conftest import make_test_config
from tests.served import GUNICORN_CONFIG, Served, migrate, serve

FORGED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Protocol": "ssl",
    "X-Forwarded-Ssl": "on",
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Host": "evil.example",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app as `make run` serves it, with nothing configured (TRUSTED_PROXIES is 0)."""
    root = tmp_path_factory.mktemp("proxies")
    instance = root / "instance"
    migrate(instance, umask=0o077)
    with serve(instance, root, umask=0o077) as server:
        yield server


def session_cookies(response) -> list[str]:
    return [value for name, value in response.getheaders() if name.lower() == "set-cookie"]


def test_make_runs_gunicorn_trusts_no_address_with_forwarded_headers():
    config = Config()
    path = Path(__file__).resolve().parents[1] / "clinic" / "gunicorn_conf.py"
    assert GUNICORN_CONFIG == "python:clinic.gunicorn_conf"
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    config.set("forwarded_allow_ips", namespace["forwarded_allow_ips"])
    assert config.forwarded_allow_ips == []


def test_a_forged_x_forwarded_proto_from_127_0_0_1_does_not_make_a_request_https(
    served: Served,
):
    response, body = served.request("GET", "/setup", FORGED)
    assert response.status == 200, body[:300]
    assert response.getheader("Strict-Transport-Security") is None
    cookies = session_cookies(response)
    assert cookies, "the first-run page starts a session (its form's CSRF token)"
    for cookie in cookies:
        assert not cookie.startswith("__Host-"), cookie
        assert "secure" not in cookie.lower().split("; ")[1:], cookie
    # Links and form targets stay on the address the request came to.
    assert b"evil.example" not in body
    assert b"https://" not in body


def test_the_forged_headers_reach_no_log_as_the_clients_address(served: Served):
    served.request("GET", "/setup?from=forged", FORGED)
    served.wait_for_log('"GET /setup" 200')
    assert "203.0.113.9" not in served.logs()


def test_behind_a_named_proxy_the_forwarded_scheme_is_believed(database_url: str):
    """The other side: with TRUSTED_PROXIES=1 the app takes the proxy's word for HTTPS."""
    app = create_app(make_test_config(database_url, TRUSTED_PROXIES=1))
    response = app.test_client().get("/setup", headers={"X-Forwarded-Proto": "https"})
    assert response.headers.get("Strict-Transport-Security") == HSTS
    assert any(
        cookie.startswith("__Host-") and "Secure" in cookie
        for cookie in response.headers.getlist("Set-Cookie")
    )
