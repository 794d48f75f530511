"""Fixtures for the auth tests: apps with their own configuration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from clinic import create_app
from clinic.auth import two_factor
from clinic.extensions import db
from tests.auth import Clock
from tests.conftest import ClinicTestClient, make_test_config


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build the app on the test database with configuration overrides.

    Use it instead of the `app` fixture, not beside it: the rate limiter's storage belongs
    to the app that was built last.
    """
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app(make_test_config(database_url, **overrides))
        app.test_client_class = ClinicTestClient
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the clock the codes and the pending sign-in marker are checked against."""
    frozen = Clock()
    monkeypatch.setattr(two_factor, "_now", lambda: frozen.now)
    return frozen
