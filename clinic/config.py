"""Default configuration: safe values, no secrets."""

from __future__ import annotations


class DefaultConfig:
    """Settings every deployment starts from; instance/config.py and CLINIC_* override them."""

    # The secret key comes from CLINIC_SECRET_KEY, instance/config.py or, failing both,
    # a random key the app writes once to instance/secret_key (see clinic.settings).
    SECRET_KEY: str | None = None
    # None means instance/clinic.sqlite3; DATABASE_URL overrides it.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
    # SQLite only: milliseconds a save waits for another writer before the page says the
    # records are busy (503, nothing saved, the form kept to send again).
    SQLITE_BUSY_TIMEOUT_MS = 15_000
    # PostgreSQL only: the same wait for a row or table lock (PostgreSQL's own default is to
    # wait for ever, which would leave a therapist looking at a page that never loads).
    POSTGRESQL_LOCK_TIMEOUT_MS = 15_000

    # Separate processes that lay out PDFs, so a handout being printed does not slow the
    # pages other therapists open meanwhile; 0 lays them out in the server process itself.
    PDF_RENDER_PROCESSES = 1

    # Minutes without a request after which a sign-in ends (checked on the server).
    IDLE_TIMEOUT_MINUTES = 30

    # How long the browser keeps the (signed, HttpOnly) cookie; sign-ins end sooner when idle.
    SESSION_COOKIE_LIFETIME_HOURS = 12
    # Hours after which a sign-in ends even while in use (checked on the server).
    SESSION_ABSOLUTE_HOURS = 12
    # Days a new owner may postpone setting up two-step sign-in; after that only set-up opens.
    TWO_STEP_GRACE_DAYS = 7
    SESSION_COOKIE_NAME = "clinic_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # False still marks the cookie Secure on every request that arrived over HTTPS.
    SESSION_COOKIE_SECURE = False
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES = 0

    # CSRF tokens live as long as the sign-in; a timed token would throw away long notes.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    # Failed sign-ins allowed per account and per network address before a pause.
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"
    # Refused requests (403, and 404 on a record's address) recorded in the audit trail per
    # account; beyond it a refusal is only counted in the app's log, so nobody can flood the
    # trail.
    ACCESS_REFUSED_AUDIT_LIMIT = "30 per minute"

    PASSWORD_MIN_LENGTH = 12
    # argon2id parameters: "default" (64 MiB, 3 passes); "cheapest" is refused unless TESTING.
    ARGON2_PROFILE = "default"
    # Passwords the offline checker (zxcvbn) scores below this (0 to 4) are refused as easy to
    # guess: 3 means "safely unguessable" against an attacker with slow (argon2id) hashes.
    PASSWORD_MIN_SCORE = 3
    # Hours a one-time password (a new account, a reset by the owner) works before it expires.
    ONE_TIME_PASSWORD_HOURS = 72
    # Minutes after a sign-in or a "Confirm it is you" that sensitive changes stay open
    # (two-step sign-in, the owner's resets, adding an owner) before the password is asked again.
    REAUTH_MINUTES = 5
    CLIENTS_PER_PAGE = 25
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
