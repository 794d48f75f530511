"""A production server killed with SIGKILL mid-stream of visit saves leaves no partial visit."""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from clinic import create_app
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.visits import VisitStatus
from clinic.extensions import db
from clinic.models import Visit
from clinic.settings import PROJECT_DIR
from tests import factories
from tests.conftest import _fail_or_skip, extract_csrf, make_test_config

GUNICORN = Path(sys.executable).with_name("gunicorn")
PORTS = {"sqlite": 5701, "postgresql": 5702}
# How long a killed server's worker may hold on to the port before the test gives up.
PORT_RELEASE_SECONDS = 10
SECRET_KEY = "fault-test-secret-key"
ROUNDS = 3
WRITERS = 2
# Long enough for a loaded machine to start gunicorn; only ever a ceiling, never a measure.
STARTUP_LIMIT_SECONDS = 60.0
STREAM_LIMIT_SECONDS = 60.0
TODAY = date.today()

# Entries the screening (no findings) allows; each visit takes the first three to five.
ENTRY_ROWS = [
    {"technique": "petrissage", "target": "quadriceps", "side": "left", "pressure": "2",
     "minutes": "10"},
    {"technique": "cross_fibre_friction", "target": "patellar_tendon", "side": "left",
     "pressure": "2", "minutes": "2.5", "repetitions": "12"},
    {"technique": "passive_stretch", "target": "hamstrings", "side": "left", "pressure": "1",
     "minutes": "3", "hold_seconds": "30"},
    {"technique": "effleurage", "target": "quadriceps", "side": "left", "pressure": "1",
     "minutes": "5"},
    {"technique": "petrissage", "target": "calf", "side": "left", "pressure": "2",
     "minutes": "4.5"},
]  # fmt: skip


# --- the database and the server ------------------------------------------------------------


@pytest.fixture
def fault_database_url(backend: str, database_template: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test, for the server to migrate and use."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fault.sqlite3'}"
        return
    # A scratch database of its own: killed servers leave nothing behind in the suite's one.
    url = sa.make_url(database_template)
    name = f"{url.database}_fault"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.DBAPIError as error:
        admin.dispose()
        _fail_or_skip(f"cannot create a scratch database for the fault test: {error.orig}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Seed:
    therapist_email: str
    client_ids: list[int]


def prepare_database(url: str) -> Seed:
    """Migrate the database as `make run` does, then add a clinic, a therapist and clients."""
    app = create_app(make_test_config(url))
    try:
        with app.app_context():
            upgrade()
        clinic_id = factories.make_clinic(app, name="Fault Clinic")
        email = "fault-therapist@example.com"
        therapist_id = factories.make_user(app, clinic_id, email=email)
        client_ids = []
        for number in range(WRITERS):
            client_id = factories.make_client(
                app, clinic_id, therapist_id, last_name=f"Fault{number}"
            )
            factories.make_screening(app, client_id, therapist_id)
            client_ids.append(client_id)
    finally:
        dispose(app)
    return Seed(email, client_ids)


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class Server:
    """gunicorn serving the app as `make run` does, in a process group of its own."""

    def __init__(self, database_url: str, workdir: Path, port: int) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"gunicorn-{self.starts}.log"

    def start(self) -> None:
        assert GUNICORN.exists(), f"{GUNICORN} is missing"
        self.refuse_a_taken_port()
        self.starts += 1
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("CLINIC_") and key != "DATABASE_URL"
        }
        env.update(
            DATABASE_URL=self.database_url,
            CLINIC_SECRET_KEY=SECRET_KEY,
            CLINIC_INSTANCE_PATH=str(self.workdir / "instance"),
        )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
                 "--threads", "4", "clinic:create_app()"],
                cwd=PROJECT_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.wait_until_serving()

    def refuse_a_taken_port(self) -> None:
        # Another server on the port would answer in place of ours. SO_REUSEADDR as gunicorn
        # sets it: connections the killed server left in TIME_WAIT do not count. The killed
        # server's worker may take a moment to die and let go of the socket: wait for it.
        deadline = time.monotonic() + PORT_RELEASE_SECONDS
        while True:
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", self.port))
                    return
                except OSError as error:
                    if time.monotonic() > deadline:
                        pytest.fail(
                            f"port {self.port} is taken ({error}): stop whatever serves on it"
                        )
            time.sleep(0.1)

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited at start:\n{self.log()}")
            try:
                status, _, _ = Browser(self.port).request("GET", "/login")
            except OSError:
                time.sleep(0.1)
                continue
            assert status == 200, self.log()
            return
        pytest.fail(f"gunicorn did not answer within {STARTUP_LIMIT_SECONDS} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the master and its worker at once: no shutdown code runs."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


class Browser:
    """Plain HTTP with a fixed cookie; it never follows redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        *,
        keep_cookies: bool = False,
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if form is not None:
                body = urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            if keep_cookies:
                for cookie in response.headers.get_all("Set-Cookie") or []:
                    name, _, value = cookie.split(";", 1)[0].partition("=")
                    self.cookies[name.strip()] = value.strip()
            return response.status, dict(response.headers.items()), text
        finally:
            connection.close()

    def sign_in(self, email: str) -> str:
        """Sign in through the real form; return a CSRF token valid for this sign-in."""
        status, _, page = self.request("GET", "/login", keep_cookies=True)
        assert status == 200
        form = {"csrf_token": extract_csrf(page), "email": email, "password": factories.PASSWORD}
        status, _, page = self.request("POST", "/login", form, keep_cookies=True)
        assert status == 302, page[:2000]
        status, _, page = self.request("GET", "/", keep_cookies=True)
        assert status == 200, page[:2000]
        return extract_csrf(page)


# --- the stream of saves --------------------------------------------------------------------


@dataclass
class Ledger:
    """What was sent and what the server acknowledged, by each visit's marker."""

    posted: dict[str, dict[str, str]] = field(default_factory=dict)
    saved: dict[str, int] = field(default_factory=dict)
    sign_posted: set[str] = field(default_factory=set)
    signed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)


def visit_payload(marker: str, number: int, csrf_token: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf_token,
        # The marker doubles as the form's creation token: one visit per form at most.
        "creation_token": marker,
        "visit_on": TODAY.isoformat(),
        "start_time": f"{8 + number % 10:02d}:{5 * (number % 12):02d}",
        "length_minutes": str(40 + number % 20),
        "knees": "left",
        "pain_before_left": str(5 + number % 5),
        "pain_after_left": str(number % 5),
        "subjective": f"{marker} " + "Stairs still hard, sleeps better. " * 40,
        "assessment": f"{marker} assessment",
        "plan": f"{marker} plan",
        "adverse_response": "none",
        "action": "save",
    }
    for index, row in enumerate(ENTRY_ROWS[: 3 + number % 3]):
        for name, value in {**row, "note": f"{marker} entry {index}"}.items():
            data[f"entries-{index}-{name}"] = value
    return data


def stream_saves(
    browser: Browser,
    client_id: int,
    csrf_token: str,
    prefix: str,
    ledger: Ledger,
    stop: threading.Event,
) -> None:
    """Save visits as fast as the server takes them, signing every third, until stopped.

    The first is signed before the second is sent, so two saves of a writer mean a signature.
    """
    number = 0
    while not stop.is_set():
        number += 1
        marker = f"{prefix}-{number}"
        payload = visit_payload(marker, number, csrf_token)
        with ledger.lock:
            ledger.posted[marker] = payload
        try:
            status, headers, page = browser.request(
                "POST", f"/clients/{client_id}/visits/new", payload
            )
            saved = re.fullmatch(rf"/clients/{client_id}/visits/(\d+)", headers.get("Location", ""))
            if status != 302 or saved is None:
                raise AssertionError(f"{marker}: answered {status}: {page[:2000]}")
            with ledger.lock:
                ledger.saved[marker] = int(saved.group(1))
                ledger.lock.notify_all()
            if number % 3 == 1 and not stop.is_set():
                with ledger.lock:
                    ledger.sign_posted.add(marker)
                status, _, page = browser.request(
                    "POST",
                    f"/clients/{client_id}/visits/{saved.group(1)}/sign",
                    {"csrf_token": csrf_token, "version": "1"},
                )
                if status != 302:
                    raise AssertionError(f"{marker}: sign answered {status}: {page[:2000]}")
                with ledger.lock:
                    ledger.signed.add(marker)
        except (OSError, http.client.HTTPException) as error:
            if stop.is_set():
                return  # the server was killed under this request: it stays unacknowledged
            with ledger.lock:
                ledger.errors.append(f"{marker}: {error!r}")
                ledger.lock.notify_all()
            return
        except AssertionError as error:
            with ledger.lock:
                ledger.errors.append(str(error))
                ledger.lock.notify_all()
            return


# --- what must hold after every restart ------------------------------------------------------


def entry_values(row: dict[str, str]) -> tuple[Any, ...]:
    return (
        row["technique"],
        row["target"],
        row["side"],
        int(row["pressure"]),
        Decimal(row["minutes"]),
        int(row["repetitions"]) if row.get("repetitions") else None,
        int(row["hold_seconds"]) if row.get("hold_seconds") else None,
        row["note"],
    )


def posted_entries(payload: dict[str, str]) -> list[tuple[Any, ...]]:
    rows: dict[int, dict[str, str]] = {}
    for key, value in payload.items():
        if key.startswith("entries-"):
            _, index, name = key.split("-", 2)
            rows.setdefault(int(index), {})[name] = value
    return [entry_values(rows[index]) for index in sorted(rows)]


def check_records(checker: Flask, ledger: Ledger, backend: str) -> int:
    """Compare every saved visit with what was posted; return how many visits there are."""
    with checker.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.creation_token.like("fault-%"))).all()
        found = {visit.creation_token: visit for visit in visits}
        for marker, visit_id in ledger.saved.items():
            assert marker in found, f"acknowledged visit {marker} (id {visit_id}) was lost"
            assert found[marker].id == visit_id
        for marker, visit in found.items():
            payload = ledger.posted.get(marker)
            assert payload is not None, f"{marker} was saved but never posted"
            stored = (
                visit.visit_on.isoformat(),
                visit.start_time.strftime("%H:%M"),
                visit.length_minutes,
                visit.knees.value,
                visit.pain_before_left,
                visit.pain_after_left,
                visit.subjective,
                visit.assessment,
                visit.plan,
            )
            sent = (
                payload["visit_on"],
                payload["start_time"],
                int(payload["length_minutes"]),
                payload["knees"],
                int(payload["pain_before_left"]),
                int(payload["pain_after_left"]),
                payload["subjective"].strip(),
                payload["assessment"],
                payload["plan"],
            )
            assert stored == sent, f"{marker} differs from what was posted"
            entries = [
                (e.technique.value, e.target.value, e.side.value, int(e.pressure), e.minutes,
                 e.repetitions, e.hold_seconds, e.note)
                for e in visit.entries
            ]  # fmt: skip
            assert entries == posted_entries(payload), f"{marker} has a partial set of entries"
            assert [e.position for e in visit.entries] == list(range(len(entries)))
            signed = visit.status is VisitStatus.SIGNED
            assert signed == (visit.signed_at is not None), f"{marker} is half signed"
            assert visit.version == (2 if signed else 1), marker
            if marker in ledger.signed:
                assert signed, f"acknowledged signature of {marker} was lost"
            if signed:
                assert marker in ledger.sign_posted, f"{marker} signed without being asked"
        orphans = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM technique_entries e "
                "LEFT JOIN visits v ON v.id = e.visit_id WHERE v.id IS NULL"
            )
        )
        assert orphans == 0
        if backend == "sqlite":
            assert db.session.scalar(sa.text("PRAGMA integrity_check")) == "ok"
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.session.rollback()
    return len(found)


def test_a_killed_server_leaves_every_visit_whole_or_absent(
    backend: str, fault_database_url: str, tmp_path: Path
) -> None:
    seed = prepare_database(fault_database_url)
    checker = create_app(make_test_config(fault_database_url))
    server = Server(fault_database_url, tmp_path, PORTS[backend])
    browser = Browser(server.port)
    ledger = Ledger()
    # Fixed seeds: the same numbers of saves before each kill on every run.
    targets = [random.Random(round_number).randint(4, 9) for round_number in range(ROUNDS)]
    try:
        server.start()
        csrf_token = browser.sign_in(seed.therapist_email)
        for round_number, target in enumerate(targets):
            stop = threading.Event()
            before = len(ledger.saved)
            writers = [
                threading.Thread(
                    target=stream_saves,
                    args=(browser, client_id, csrf_token, f"fault-r{round_number}-w{index}",
                          ledger, stop),
                    daemon=True,
                )
                for index, client_id in enumerate(seed.client_ids)
            ]  # fmt: skip
            for writer in writers:
                writer.start()
            with ledger.lock:
                reached = ledger.lock.wait_for(
                    lambda: len(ledger.saved) - before >= target or bool(ledger.errors),  # noqa: B023
                    timeout=STREAM_LIMIT_SECONDS,
                )
            # Kill while the writers are still sending: a save is most likely in flight.
            stop.set()
            server.kill()
            for writer in writers:
                writer.join(timeout=60)
                assert not writer.is_alive()
            assert not ledger.errors, f"{ledger.errors}\n{server.log()}"
            assert reached, f"fewer than {target} saves in {STREAM_LIMIT_SECONDS} s"

            server.start()
            # The restarted server serves, and the sign-in survived the kill.
            status, _, page = browser.request("GET", "/")
            assert status == 200, page[:2000]
            marker, visit_id = next(reversed(ledger.saved.items()))
            client_id = seed.client_ids[int(marker.split("-w")[1].split("-")[0])]
            status, _, page = browser.request("GET", f"/clients/{client_id}/visits/{visit_id}")
            assert status == 200
            assert marker in page
            check_records(checker, ledger, backend)
        # Every acknowledged save is there, and nothing that was not posted.
        total = check_records(checker, ledger, backend)
        assert len(ledger.saved) <= total <= len(ledger.posted)
        assert len(ledger.saved) >= sum(targets)
        # At least one writer saved twice in each round, so signatures were in the stream.
        assert len(ledger.signed) >= ROUNDS
    finally:
        server.kill()
        dispose(checker)


# --- the check itself: it must see a partial or lost visit -----------------------------------


def stored_visit(app: Flask, world: factories.World, marker: str, rows: int, **more: Any) -> int:
    """Store a visit as the factories do, under a marker, with the first rows of ENTRY_ROWS."""
    a = world.a
    entries = [
        {"technique": Technique(row["technique"]), "target": Target(row["target"]),
         "side": Side(row["side"]), "pressure": Pressure(int(row["pressure"])),
         "minutes": Decimal(row["minutes"]),
         "repetitions": int(row["repetitions"]) if "repetitions" in row else None,
         "hold_seconds": int(row["hold_seconds"]) if "hold_seconds" in row else None,
         "note": f"{marker} entry {index}"}
        for index, row in enumerate(ENTRY_ROWS[:rows])
    ]  # fmt: skip
    visit_id = factories.make_visit(
        app, a.client_id, a.therapist_id, entries=entries, start_time=time_of_day(9, 0), **more
    )
    with app.app_context():
        db.session.execute(
            sa.update(Visit).where(Visit.id == visit_id).values(creation_token=marker)
        )
        db.session.commit()
    return visit_id


def ledger_for(marker: str, visit_id: int) -> Ledger:
    payload = visit_payload(marker, 0, "token")
    payload.update(
        start_time="09:00",
        length_minutes="60",
        pain_before_left="6",
        pain_after_left="3",
        subjective="Stairs still hard.",
        assessment="Less guarding after kneading.",
        plan="Home stretches daily.",
    )
    return Ledger(posted={marker: payload}, saved={marker: visit_id})


def test_the_check_passes_a_whole_visit(app, clinic_world, backend):
    marker = "fault-check-w0-1"
    visit_id = stored_visit(app, clinic_world, marker, rows=3)
    assert check_records(app, ledger_for(marker, visit_id), backend) == 1


@pytest.mark.parametrize(
    ("rows", "more", "ledger_change", "problem"),
    [
        (2, {}, {}, "partial set of entries"),
        (3, {"subjective": "Typed half"}, {}, "differs from what was posted"),
        (3, {"signed": True}, {}, "signed without being asked"),
        (3, {}, {"signed": True}, "acknowledged signature of"),
        (3, {}, {"lost": True}, "was lost"),
    ],
)
def test_the_check_finds_a_partial_or_lost_visit(
    app, clinic_world, backend, rows, more, ledger_change, problem
):
    marker = "fault-check-w0-1"
    visit_id = stored_visit(app, clinic_world, marker, rows=rows, **more)
    ledger = ledger_for(marker, visit_id)
    if ledger_change.get("signed"):
        ledger.sign_posted.add(marker)
        ledger.signed.add(marker)
    if ledger_change.get("lost"):
        ledger.saved["fault-check-w0-2"] = visit_id + 1
    with pytest.raises(AssertionError, match=problem):
        check_records(app, ledger, backend)
