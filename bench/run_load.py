"""Run the load test in one command: serve the seeded database with gunicorn, run Locust, report.

Run: .venv/bin/python bench/run_load.py --database-url URL [--label SQLite] [--port 5601]
     [--users 8] [--run-time 90] [--workers 1] [--threads 8] [--password PASSWORD]

Seed the database first with bench/seed.py. This script reads from it what the simulated
therapists need (their accounts, clients ready for a visit today, plans, handouts, names to
search for), starts the app with its production server on 127.0.0.1 (as `make run` does),
waits until it answers, runs Locust headless for at most two minutes, stops the server and
prints a table per request: count, failures, median and p95 against the targets (pages and
form posts p95 under 100 ms, handout PDFs under 600 ms, no failures). The exit status is 0
when every target is met. Locust's CSV files and the server's log stay in --out.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import random
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask_login import login_user

from bench.seed import DEFAULT_PASSWORD
from clinic import create_app
from clinic.domain.screening import Tier
from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.models import (
    Client,
    HomeCarePlan,
    IssuedHandout,
    Role,
    Screening,
    TechniqueEntry,
    User,
    Visit,
)
from clinic.screening.operations import load_current_screening

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_RUN_SECONDS = 120
PAGE_TARGET_MS = 100
PDF_TARGET_MS = 600
# A screening this recent stays current (30 days by default) through any run of the test.
READY_WITHIN_DAYS = 25


@dataclass(frozen=True)
class Row:
    """One line of Locust's statistics."""

    name: str
    count: int
    failures: int
    median: float
    p95: float
    target: int | None

    @property
    def passed(self) -> bool:
        return self.failures == 0 and (self.target is None or self.p95 < self.target)


def target_for(name: str) -> int | None:
    """Return the p95 target of a request, or None for the one sign-in per therapist."""
    if name.startswith("sign in"):
        return None
    return PDF_TARGET_MS if "PDF" in name else PAGE_TARGET_MS


def collect_data(url: str, password: str, rng: random.Random) -> tuple[dict[str, Any], str]:
    """Read what the simulated therapists need from the seeded database."""
    os.environ["DATABASE_URL"] = url
    app = create_app()
    today = date.today()
    with app.app_context():
        session = db.session
        therapists = session.scalars(
            sa.select(User.email)
            .where(User.role == Role.THERAPIST, User.active.is_(True))
            .order_by(User.id)
        ).all()
        latest = (
            sa.select(Screening.client_id, sa.func.max(Screening.id).label("screening_id"))
            .group_by(Screening.client_id)
            .subquery()
        )
        clients = session.execute(
            sa.select(Client.id, latest.c.screening_id)
            .outerjoin(latest, latest.c.client_id == Client.id)
            .where(Client.archived_at.is_(None))
            .order_by(Client.id)
        ).all()
        ready = session.execute(
            sa.select(Client.id, Client.affected_knee, latest.c.screening_id)
            .join(latest, latest.c.client_id == Client.id)
            .where(
                Client.archived_at.is_(None),
                Client.screening_tier.in_([Tier.CLEAR, Tier.MODIFY]),
                Client.screened_on >= today - timedelta(days=READY_WITHIN_DAYS),
            )
            .order_by(Client.id)
        ).all()
        ready_screenings = {row.screening_id for row in ready}
        plans = session.execute(
            sa.select(HomeCarePlan.id, HomeCarePlan.client_id, HomeCarePlan.screening_id)
        ).all()
        handouts = session.execute(sa.select(IssuedHandout.id, IssuedHandout.client_id)).all()
        names = session.execute(sa.select(Client.first_name, Client.last_name)).all()
        counts = {
            "clients": session.scalar(sa.select(sa.func.count(Client.id))),
            "visits": session.scalar(sa.select(sa.func.count(Visit.id))),
            "entries": session.scalar(sa.select(sa.func.count(TechniqueEntry.id))),
        }
        dialect = db.engine.dialect.name
    if not therapists:
        raise SystemExit("No therapist accounts in this database: seed it with bench/seed.py.")
    issuable = _issuable_plans(
        app, [plan for plan in plans if plan.screening_id in ready_screenings], today, rng
    )
    missing = [
        what
        for what, rows in (
            ("clients ready for a visit", ready),
            ("plans to issue", issuable),
            ("issued handouts", handouts),
        )
        if not rows
    ]
    if missing:
        raise SystemExit(f"The seeded database has no {', '.join(missing)}: seed it again.")
    words: list[str] = []
    for first, last in rng.sample(list(names), k=min(400, len(names))):
        name = rng.choice((first, last)).lower()
        length = rng.randint(3, min(6, len(name)))
        start = rng.randint(0, len(name) - length)
        words.append(name[start : start + length])
        words.append(f"{first} {last}")
    data = {
        "password": password,
        "therapists": list(therapists),
        "clients": [
            {"id": row.id, "screening_id": row.screening_id}
            for row in rng.sample(list(clients), k=min(3000, len(clients)))
        ],
        "ready_clients": [
            {"id": row.id, "knees": row.affected_knee.value, "screening_id": row.screening_id}
            for row in ready
        ],
        "plans": issuable,
        "handouts": [{"id": row.id, "client_id": row.client_id} for row in handouts],
        "search_words": words,
        "list_pages": max(1, math.ceil(len(clients) / 25)),
        "counts": counts,
    }
    return data, dialect


def _issuable_plans(
    app: Any, candidates: list[Any], today: date, rng: random.Random, wanted: int = 60
) -> list[dict[str, int]]:
    """Return plans the app would issue today once the clot question is asked, by its own
    rules: the client's screening in force is still the plan's, and still chooses its items
    and notes the same way (a clearance run out since, say, would leave the plan out of date).
    """
    found: list[dict[str, int]] = []
    with app.test_request_context():
        therapist = db.session.scalars(
            sa.select(User).where(User.role == Role.THERAPIST).order_by(User.id).limit(1)
        ).one()
        login_user(therapist)
        for row in rng.sample(candidates, k=len(candidates)):
            plan = db.session.get_one(HomeCarePlan, row.id)
            client = db.session.get_one(Client, row.client_id)
            current = load_current_screening(client, therapist.clinic, today)
            if homecare_ops.plan_blockers(client, current):
                continue
            if homecare_ops.plan_out_of_date(plan, current):
                continue
            found.append({"id": row.id, "client_id": row.client_id})
            if len(found) >= wanted:
                break
    return found


def wait_until_up(base_url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until the server answers its sign-in page."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The server stopped at start (exit status {server.returncode}).")
        try:
            with urllib.request.urlopen(f"{base_url}/login", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"The server did not answer at {base_url} within {timeout:.0f} s.")


def warm_up(base_url: str, email: str, password: str) -> None:
    """Sign in once and open the home page, as a long-running server would have been.

    The home page keeps its pain figures per process once computed; without this, the eight
    therapists' first home pages would all compute them at the same moment.
    """
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{base_url}/login", timeout=30) as response:
        page = response.read().decode()
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if match is None:
        raise SystemExit("The sign-in page has no CSRF token.")
    form = urllib.parse.urlencode(
        {"csrf_token": match.group(1), "email": email, "password": password}
    ).encode()
    with opener.open(f"{base_url}/login", data=form, timeout=60) as response:
        if "/login" in response.url:
            raise SystemExit(f"Could not sign in as {email}: check --password.")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started: TERM, then KILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read_stats(prefix: Path) -> list[Row]:
    """Read Locust's per-request statistics (without the aggregated line)."""
    rows = []
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for line in csv.DictReader(handle):
            if line["Name"] == "Aggregated":
                continue
            name = line["Name"]
            rows.append(
                Row(
                    name=name,
                    count=int(line["Request Count"]),
                    failures=int(line["Failure Count"]),
                    median=float(line["50%"] or 0),
                    p95=float(line["95%"] or 0),
                    target=target_for(name),
                )
            )
    return sorted(rows, key=lambda row: (row.target or 0, row.name))


def read_failures(prefix: Path) -> list[str]:
    """Read Locust's failure messages."""
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [
            f"{line['Occurrences']} x {line['Method']} {line['Name']}: {line['Error']}"
            for line in csv.DictReader(handle)
        ]


def machine_load() -> str:
    """Return the load averages, to read the figures by."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def print_summary(
    rows: list[Row], failures: list[str], meta: dict[str, str], seconds: float
) -> bool:
    """Print the run's facts and one table line per request; return whether all passed."""
    total = sum(row.count for row in rows)
    failed = sum(row.failures for row in rows)
    passed = all(row.passed for row in rows) and failed == 0 and total > 0
    print()
    for key, value in meta.items():
        print(f"- {key}: {value}")
    print(
        f"- requests: {total} in {seconds:.0f} s ({total / max(seconds, 1):.1f}/s), {failed} failed"
    )
    print()
    print("| request | count | failures | median ms | p95 ms | target p95 | result |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        target = f"< {row.target} ms" if row.target else "(not timed)"
        result = "PASS" if row.passed else "FAIL"
        if row.target is None and row.failures == 0:
            result = "ok"
        print(
            f"| {row.name} | {row.count} | {row.failures} | {row.median:.0f} | {row.p95:.0f} "
            f"| {target} | {result} |"
        )
    print()
    for message in failures:
        print(f"failure: {message}")
    print(f"Overall: {'PASS' if passed else 'FAIL'} (pages and posts p95 < {PAGE_TARGET_MS} ms, "
          f"handout PDFs p95 < {PDF_TARGET_MS} ms, no failures)")  # fmt: skip
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="the seeded database (default: the app's own)")
    parser.add_argument("--label", default="", help="a name for this run, e.g. SQLite")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only")
    parser.add_argument("--port", type=int, default=5601)
    parser.add_argument("--users", type=int, default=8, help="simulated therapists")
    parser.add_argument(
        "--run-time", type=int, default=90, help=f"seconds, at most {MAX_RUN_SECONDS}"
    )
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 1)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", 8)))
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="of the seeded accounts")
    parser.add_argument("--seed", type=int, default=11, help="random seed for the test data")
    parser.add_argument("--out", type=Path, help="folder for Locust's CSV and the server log")
    args = parser.parse_args()
    if args.host not in LOOPBACK:
        parser.error("the load test only runs against this machine: use 127.0.0.1")
    if not 1 <= args.run_time <= MAX_RUN_SECONDS:
        parser.error(f"--run-time is 1 to {MAX_RUN_SECONDS} seconds")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    url = os.environ.get("DATABASE_URL") or ""

    data, dialect = collect_data(url, args.password, random.Random(args.seed))
    label = args.label or dialect
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or PROJECT_DIR / "bench" / "results" / f"{label.lower()}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    data_file = out / "load-data.json"
    data_file.write_text(json.dumps(data), encoding="utf-8")
    base_url = f"http://{args.host}:{args.port}"
    env = {**os.environ, "CLINIC_LOAD_DATA": str(data_file)}
    if url:
        env["DATABASE_URL"] = url

    server_log = open(out / "gunicorn.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"{args.host}:{args.port}",
         "--workers", str(args.workers), "--threads", str(args.threads),
         "--access-logfile", "-", "clinic:create_app()"],
        cwd=PROJECT_DIR, env=env, stdout=server_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    print(f"Serving {label} on {base_url} (gunicorn pid {server.pid}); results in {out}")
    try:
        wait_until_up(base_url, server)
        warm_up(base_url, data["therapists"][0], args.password)
        prefix = out / "locust"
        locust_log = open(out / "locust.log", "wb")  # noqa: SIM115
        started = time.monotonic()
        locust = subprocess.run(
            [str(BIN / "locust"), "-f", str(PROJECT_DIR / "bench" / "loadtest.py"),
             "--headless", "--users", str(args.users), "--spawn-rate", str(args.users),
             "--run-time", f"{args.run_time}s", "--stop-timeout", "10",
             "--host", base_url, "--csv", str(prefix), "--only-summary",
             "--loglevel", "WARNING"],
            cwd=PROJECT_DIR, env=env, timeout=args.run_time + 90, check=False,
            stdout=locust_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        seconds = time.monotonic() - started
        locust_log.close()
    finally:
        stop(server)
        server_log.close()
    if locust.returncode not in (0, 1):
        raise SystemExit(f"Locust stopped with exit status {locust.returncode}.")
    counts = data["counts"]
    meta = {
        "run": f"{label}, {datetime.now():%Y-%m-%d %H:%M}",
        "database": f"{dialect}: {counts['clients']} clients, {counts['visits']} visits, "
        f"{counts['entries']} technique entries",
        "server": f"gunicorn, {args.workers} worker(s) x {args.threads} threads, {base_url}",
        "load": f"{args.users} therapists (Locust headless), {args.run_time} s",
        "machine": f"{platform.machine()}, {machine_load()} after the run",
    }
    passed = print_summary(read_stats(prefix), read_failures(prefix), meta, seconds)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
