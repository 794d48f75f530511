"""Clients: the list, search, intake and the client page."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("clients", __name__, url_prefix="/clients")
