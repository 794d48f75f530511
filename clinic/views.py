"""Registering the feature blueprints and the home page."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

# Ids are 32-bit on both databases; a larger number in a URL matches no route (404) instead
# of overflowing inside the database driver.
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` limited to the range of a database id."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    """Attach every feature's blueprint and the home page."""
    app.url_map.converters["int"] = RowIdConverter
    # Importing a feature's views attaches its routes to its blueprint.
    from clinic.admin import bp as admin_bp
    from clinic.admin import views as _admin_views  # noqa: F401
    from clinic.audit import bp as audit_bp
    from clinic.audit import views as _audit_views  # noqa: F401
    from clinic.audit.declared import not_audited
    from clinic.auth import bp as auth_bp
    from clinic.auth import views as _auth_views  # noqa: F401
    from clinic.clients import bp as clients_bp
    from clinic.clients import views as _clients_views  # noqa: F401
    from clinic.homecare import bp as homecare_bp
    from clinic.homecare import library_bp as homecare_library_bp
    from clinic.homecare import views as _homecare_views  # noqa: F401
    from clinic.progress import bp as progress_bp
    from clinic.progress import views as progress_views
    from clinic.screening import bp as screening_bp
    from clinic.screening import views as _screening_views  # noqa: F401
    from clinic.visits import bp as visits_bp
    from clinic.visits import views as _visits_views  # noqa: F401

    app.register_blueprint(auth_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(screening_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(homecare_bp)
    app.register_blueprint(homecare_library_bp)
    app.register_blueprint(progress_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    home = not_audited("the overview shows counts only, no client's name or record")(
        progress_views.overview
    )
    app.add_url_rule("/", "home", home)
