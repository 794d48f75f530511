"""The floor: the least a Flask page that shows a client can cost, served as the app is served.

One route, `/floor/<client_id>`, reads one row of the seeded `clients` table through a
SQLAlchemy connection pool and renders a small template with Jinja, as Flask does for any
page. `bench/pages.py` starts it under gunicorn with the app's own gunicorn settings and
the same workers and threads, on the same database, and alternates requests between it and
the app: what the app costs above this is the app's own work.

Run on its own (for a look): DATABASE_URL=... gunicorn --config python:clinic.gunicorn_conf \
    --chdir bench 'floor:create_floor()'
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, abort, render_template_string

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ client.first_name }} {{ client.last_name }}</title></head>
<body>
<main>
<h1>{{ client.first_name }} {{ client.last_name }}</h1>
<dl>
<dt>Phone</dt><dd>{{ client.phone }}</dd>
<dt>Email</dt><dd>{{ client.email }}</dd>
<dt>Main complaint</dt><dd>{{ client.main_complaint }}</dd>
</dl>
</main>
</body>
</html>
"""

QUERY = sa.text(
    "SELECT id, first_name, last_name, phone, email, main_complaint FROM clients WHERE id = :id"
)


def create_floor() -> Flask:
    """Return the floor app, reading the database named by DATABASE_URL."""
    url = os.environ["DATABASE_URL"]
    engine = sa.create_engine(url, pool_size=8)
    app = Flask(__name__)

    @app.get("/floor/<int:client_id>")
    def client_page(client_id: int) -> str:
        with engine.connect() as connection:
            client = connection.execute(QUERY, {"id": client_id}).first()
        if client is None:
            abort(404)
        return render_template_string(PAGE, client=client)

    return app
