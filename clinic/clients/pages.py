"""Rendering any page about one client: the header, allergy warning and screening banner."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user

from clinic import clock
from clinic.models import Client
from clinic.screening.operations import load_current_screening


def render_client_page(template: str, client: Client, **context: Any) -> str:
    """Render a client page with what its header needs: age and today's screening state."""
    today = clock.today()
    # A view that already loaded today's screening passes it: it is loaded once per request.
    # (Not setdefault: its argument would be loaded before the lookup, every time.)
    if "current" not in context:
        context["current"] = load_current_screening(client, current_user.clinic, today)
    return render_template(template, client=client, age=client.age_on(today), **context)
