"""Where configuration comes from, and wiring the extensions to the app."""

from __future__ import annotations

import logging
import os
import secrets
import stat
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
# Records, the secret key and backups are readable by their owner only, whatever the umask.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

log = logging.getLogger(__name__)

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
        make_private_dir(INSTANCE_DIR)
        database = INSTANCE_DIR / "clinic.sqlite3"
        make_private_file(database)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
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
    make_private_dir(INSTANCE_DIR)
    if path.exists():
        make_private_file(path)
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    _chmod(path, PRIVATE_FILE_MODE)
    return key


def make_private_dir(path: Path) -> None:
    """Create a folder only its owner may open (0700), or make an existing one so.

    The instance folder holds the records, the secret key and often the backups: no other
    account on the computer may list or read it, whatever the umask.
    """
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _chmod(path, PRIVATE_DIR_MODE)


def make_private_file(path: Path, *, create: bool = True) -> None:
    """Make a file readable and writable by its owner only (0600); create it empty if missing
    (unless create is False), so that it never exists with looser permissions."""
    if create:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        except FileExistsError:
            pass
        else:
            os.close(descriptor)
    try:
        # os.open's mode passes through the umask, which may only remove bits: set it exactly.
        _chmod(path, PRIVATE_FILE_MODE)
    except FileNotFoundError:
        if create:
            raise


def _chmod(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) == mode:
        return
    try:
        os.chmod(path, mode)
    except PermissionError:
        # Owned by another account (a shared deployment): its owner decides; say so.
        log.warning("Cannot make %s private (mode %o): it belongs to another account", path, mode)


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations, CSRF, rate limits and sign-in to the app."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
