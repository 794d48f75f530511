"""Where configuration comes from, and wiring the extensions to the app."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from clinic.config import DefaultConfig
from clinic.database import normalise_database_url
from clinic.extensions import csrf, db, limiter, login_manager, migrate

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_DIR / "templates"
MIGRATIONS_DIR = PROJECT_DIR / "migrations"
INSTANCE_DIR = Path(os.environ.get("CLINIC_INSTANCE_PATH", PROJECT_DIR / "instance")).resolve()


def register_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Layer the configuration: defaults, instance/config.py, CLINIC_* variables, DATABASE_URL."""
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("CLINIC")
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{INSTANCE_DIR / 'clinic.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        _set_postgresql_lock_timeout(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _read_or_create_secret_key()
    # The cookie outlives the idle timeout on purpose: the server ends idle sign-ins itself
    # (LoginSession.last_seen_at), and a cookie still present lets a form posted after the
    # timeout pass its CSRF check, so its text can be kept for after the next sign-in.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=int(app.config["SESSION_COOKIE_LIFETIME_HOURS"])
    )
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def _set_postgresql_lock_timeout(app: Flask) -> None:
    # Passed as a connection option so every pooled connection has it; an explicit
    # "options" in SQLALCHEMY_ENGINE_OPTIONS wins.
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = dict(options.get("connect_args") or {})
    timeout = int(app.config["POSTGRESQL_LOCK_TIMEOUT_MS"])
    connect_args.setdefault("options", f"-c lock_timeout={timeout}")
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _read_or_create_secret_key() -> str:
    # A key made once and kept in instance/ keeps sign-ins valid across restarts
    # without asking a newcomer to invent one.
    path = INSTANCE_DIR / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations, CSRF, rate limits and sign-in to the app."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
