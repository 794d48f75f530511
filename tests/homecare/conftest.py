"""Fixtures for the home-care tests: the owner's browser and a trap HTTP server."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import factories
from tests.conftest import ClinicTestClient
from tests.test_pdf import trap_server  # noqa: F401  (a fixture, shared)


@pytest.fixture
def owner(app: Flask, client: ClinicTestClient, clinic_world: factories.World) -> ClinicTestClient:
    """The client signed in as clinic A's owner."""
    factories.sign_in(app, client, clinic_world.a.owner_id)
    return client
