"""Registering the feature blueprints and the home page."""

from __future__ import annotations

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response


def home() -> Response:
    """Send a signed-in user to the client list, the page they use most."""
    return redirect(url_for("clients.index"))


def register_blueprints(app: Flask) -> None:
    """Attach every feature's blueprint and the home page."""
    # Importing a feature's views attaches its routes to its blueprint.
    from clinic.admin import bp as admin_bp
    from clinic.admin import views as _admin_views  # noqa: F401
    from clinic.auth import bp as auth_bp
    from clinic.auth import views as _auth_views  # noqa: F401
    from clinic.clients import bp as clients_bp
    from clinic.clients import views as _clients_views  # noqa: F401
    from clinic.screening import bp as screening_bp
    from clinic.screening import views as _screening_views  # noqa: F401

    app.register_blueprint(auth_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(screening_bp)
    app.register_blueprint(admin_bp)
    app.add_url_rule("/", "home", home)
