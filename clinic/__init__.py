"""The clinic web app: client records for massage therapists who treat knee pain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from clinic.settings import INSTANCE_DIR, TEMPLATES_DIR


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, security, blueprints, errors and CLI."""
    from clinic import auth, cli, errors, pdf, security, settings, templating, transaction, views

    app = transaction.TransactionalFlask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(TEMPLATES_DIR),
    )
    settings.register_config(app, test_config)
    settings.register_extensions(app)
    # First among the after_request hooks, so it runs last: the one commit point.
    transaction.register_commit_point(app)
    # Before the sign-in guard, which answers many first requests with a redirect.
    pdf.register_renderers(app)
    auth.register_security(app)
    security.register_headers(app)
    views.register_blueprints(app)
    errors.register_error_handlers(app)
    templating.register_template_helpers(app)
    cli.register_commands(app)
    return app
