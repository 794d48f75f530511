"""Time the main pages side by side with the floor, one request at a time, and print the ratios.

Run: .venv/bin/python bench/pages.py --database-url URL [--rounds 100] [--label SQLite]
     [--save results.json] [--pages client,search]
     .venv/bin/python bench/pages.py --sizes URL_1K URL_10K URL_100K --client-visits 60
     .venv/bin/python bench/pages.py --growth 1k.json 100k.json   (from saved runs)

Seed the database first with bench/seed.py. The script starts the app under gunicorn as
`make run` does (its gunicorn settings, 1 worker x 8 threads by default) and the floor
(bench/floor.py: one client row read and a small template rendered) the same way on the next
port, from the same database. It signs in as a seeded therapist, picks the records to open
(the client with the most visits, their latest visit and screening, a home-care plan, a
client ready for a visit whose "no changes" it confirms, four-letter parts of real names to
search for), warms both servers up, then for each page alternates one request to the app and
one to the floor (in turn first), `--rounds` times, over one kept-alive connection each.
Times are taken by the client, response body read included. Every answer is checked (status
200, not the sign-in page, the page's own text) so that a fast error page can't pass.

Targets (issue 14): at 10,000 clients each page's median at most 3x the floor's median, and
its p95 at most 4x the floor's p95. The exit status is 0 when every page meets them.

Growth (--sizes): the databases of each size are served at once (one gunicorn each) and every
page is requested from each in turn, the order rotating, so the machine's drift between runs
stays out of the comparison; target: the largest size's median at most 1.3x the smallest's.
--client-visits N opens the client whose visit count is nearest N instead of the busiest: the
busiest client's history grows with the clinic (68 visits at 1,000 clients, 111 at 100,000),
and the growth is meant to compare clinics, not histories.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
import sqlalchemy as sa

from bench.run_load import READY_WITHIN_DAYS, machine_load, stop, wait_until_up
from bench.seed import DEFAULT_PASSWORD
from clinic import create_app
from clinic.domain.screening import Tier
from clinic.extensions import db
from clinic.models import Client, HomeCarePlan, Role, Screening, User, Visit

BIN = Path(sys.executable).parent
PROJECT_DIR = Path(__file__).resolve().parent.parent
MEDIAN_TARGET = 3.0
P95_TARGET = 4.0
GROWTH_TARGET = 1.3
CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass(frozen=True)
class Page:
    """One main page: its name, how to make its address each round, and text it must show."""

    name: str
    path: Callable[[int], str]
    needle: str


@dataclass(frozen=True)
class Result:
    """One page's times (ms) and the floor's, measured in turn."""

    name: str
    app_median: float
    app_p95: float
    floor_median: float
    floor_p95: float

    @property
    def median_ratio(self) -> float:
        return self.app_median / self.floor_median

    @property
    def p95_ratio(self) -> float:
        return self.app_p95 / self.floor_p95

    @property
    def passed(self) -> bool:
        return self.median_ratio <= MEDIAN_TARGET and self.p95_ratio <= P95_TARGET


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def collect_targets(
    url: str, rng: random.Random, client_visits: int | None = None
) -> dict[str, Any]:
    """Read from the seeded database which records each page opens: the client with the most
    visits, or the one with the number nearest client_visits."""
    os.environ["DATABASE_URL"] = url
    app = create_app()
    today = date.today()
    with app.app_context():
        session = db.session
        therapist = session.scalar(
            sa.select(User.email)
            .where(User.role == Role.THERAPIST, User.active.is_(True))
            .order_by(User.id)
            .limit(1)
        )
        if therapist is None:
            raise SystemExit("No therapist in this database: seed it with bench/seed.py.")
        per_client = sa.select(Visit.client_id, sa.func.count().label("visits")).group_by(
            Visit.client_id
        )
        if client_visits is None:
            busiest = session.execute(
                per_client.order_by(sa.func.count().desc(), Visit.client_id).limit(1)
            ).one()
        else:
            # The same history at every size: the growth compares clinics, not clients.
            busiest = session.execute(
                per_client.order_by(
                    sa.func.abs(sa.func.count() - client_visits), Visit.client_id
                ).limit(1)
            ).one()
        client_id = int(busiest.client_id)
        visit_id = session.scalar(
            sa.select(sa.func.max(Visit.id)).where(
                Visit.client_id == client_id, Visit.signed_at.is_not(None)
            )
        )
        screening_id = session.scalar(
            sa.select(sa.func.max(Screening.id)).where(Screening.client_id == client_id)
        )
        plan = session.execute(
            sa.select(HomeCarePlan.id, HomeCarePlan.client_id).order_by(HomeCarePlan.id).limit(1)
        ).one()
        ready = session.execute(
            sa.select(Client.id, sa.func.count(Visit.id).label("visits"))
            .join(Visit, Visit.client_id == Client.id)
            .where(
                Client.archived_at.is_(None),
                Client.screening_tier.in_([Tier.CLEAR, Tier.MODIFY]),
                Client.screened_on >= today - timedelta(days=READY_WITHIN_DAYS),
            )
            .group_by(Client.id)
            .order_by(sa.func.count(Visit.id).desc(), Client.id)
            .limit(1)
        ).one()
        client_ids = session.scalars(sa.select(Client.id).order_by(Client.id)).all()
        sample = rng.sample(list(client_ids), k=min(400, len(client_ids)))
        names = session.execute(
            sa.select(Client.first_name, Client.last_name).where(Client.id.in_(sample))
        ).all()
        counts = {
            "clients": len(client_ids),
            "visits": session.scalar(sa.select(sa.func.count(Visit.id))) or 0,
            ("busiest client's visits" if client_visits is None else "opened client's visits"): (
                int(busiest.visits)
            ),
        }
        dialect = db.engine.dialect.name
    words = []
    for first, last in names:
        name = rng.choice((first, last)).lower()
        if len(name) >= 4:
            start = rng.randint(0, len(name) - 4)
            words.append(name[start : start + 4])
    return {
        "therapist": therapist,
        "client_id": client_id,
        "visit_id": visit_id,
        "screening_id": screening_id,
        "plan": (int(plan.id), int(plan.client_id)),
        "ready_client_id": int(ready.id),
        "floor_ids": sample,
        "words": words,
        "counts": counts,
        "dialect": dialect,
    }


def main_pages(targets: dict[str, Any]) -> list[Page]:
    """The pages a therapist opens all day, as issue 14 lists them."""
    client = targets["client_id"]
    ready = targets["ready_client_id"]
    plan_id, plan_client = targets["plan"]
    words = targets["words"]
    return [
        Page("client list, page 3", lambda _: "/clients/?page=3", "Clients"),
        Page(
            "client search ?q= (4 letters)",
            lambda i: f"/clients/?q={words[i % len(words)]}",
            "Clients",
        ),
        Page("client page", lambda _: f"/clients/{client}", "Visits"),
        Page("progress page", lambda _: f"/clients/{client}/progress", "Pain"),
        Page("visit form", lambda _: f"/clients/{ready}/visits/new", "Techniques applied"),
        Page("visit note", lambda _: f"/clients/{client}/visits/{targets['visit_id']}", "Signed"),
        Page(
            "screening",
            lambda _: f"/clients/{client}/screening/{targets['screening_id']}",
            "Screening",
        ),
        Page("home (overview)", lambda _: "/", "Flagged by screening"),
        Page("unsigned notes", lambda _: "/visits/unsigned", "Unsigned"),
        Page("home-care plan", lambda _: f"/clients/{plan_client}/homecare/{plan_id}", "Home-care"),
    ]


def start_server(
    app_spec: str, port: int, args: argparse.Namespace, log: Path, database_url: str = ""
) -> Any:
    env = dict(os.environ, DATABASE_URL=database_url or args.database_url)
    command = [
        str(BIN / "gunicorn"),
        "--config", "python:clinic.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--chdir", str(PROJECT_DIR),
        "--pythonpath", str(PROJECT_DIR / "bench"),
        app_spec,
    ]  # fmt: skip
    handle = log.open("ab")
    return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)


def sign_in(session: requests.Session, base: str, email: str, password: str) -> str:
    page = session.get(f"{base}/login", timeout=30)
    match = CSRF_PATTERN.search(page.text)
    if match is None:
        raise SystemExit("The sign-in page has no CSRF token.")
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": match.group(1), "email": email, "password": password},
        timeout=60,
    )
    if "/login" in answer.url:
        raise SystemExit(f"Could not sign in as {email}: check --password.")
    home = CSRF_PATTERN.search(answer.text)
    return home.group(1) if home else ""


def check(response: requests.Response, needle: str, name: str) -> None:
    if response.status_code != 200 or "<title>Sign in" in response.text:
        raise SystemExit(f"{name}: status {response.status_code} at {response.url}")
    if needle not in response.text:
        raise SystemExit(f"{name}: {needle!r} is not on {response.url}")


def timed(session: requests.Session, url: str) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = session.get(url, timeout=60, allow_redirects=False)
    _ = response.content
    return (time.perf_counter() - started) * 1000, response


def measure(
    page: Page,
    app: requests.Session,
    floor: requests.Session,
    targets: dict[str, Any],
    args: argparse.Namespace,
) -> Result:
    app_base = f"http://127.0.0.1:{args.port}"
    floor_base = f"http://127.0.0.1:{args.port + 1}"
    floor_ids = targets["floor_ids"]
    app_times: list[float] = []
    floor_times: list[float] = []
    for i in range(args.warmup + args.rounds):
        floor_url = f"{floor_base}/floor/{floor_ids[i % len(floor_ids)]}"
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                ms, response = timed(app, app_base + page.path(i))
                check(response, page.needle, page.name)
                if i >= args.warmup:
                    app_times.append(ms)
            else:
                ms, response = timed(floor, floor_url)
                check(response, "Main complaint", "floor")
                if i >= args.warmup:
                    floor_times.append(ms)
    return Result(
        page.name,
        statistics.median(app_times),
        p95(app_times),
        statistics.median(floor_times),
        p95(floor_times),
    )


def measure_sizes(
    pages: list[Page], sessions: list[requests.Session], bases: list[str], args: argparse.Namespace
) -> list[float]:
    """One page at every size, a request to each server in turn (the order rotating each
    round); return each size's median (ms)."""
    times: list[list[float]] = [[] for _ in sessions]
    count = len(sessions)
    for i in range(args.warmup + args.rounds):
        for which in [(i + k) % count for k in range(count)]:
            page = pages[which]
            ms, response = timed(sessions[which], bases[which] + page.path(i))
            check(response, page.needle, page.name)
            if i >= args.warmup:
                times[which].append(ms)
    return [statistics.median(one) for one in times]


def run_sizes(args: argparse.Namespace) -> bool:
    """Serve each seeded size at once and time every page on all of them in turn, so the
    machine's drift between runs stays out of the growth; print the growth table."""
    urls: list[str] = args.sizes
    rng = random.Random(args.seed)
    every = [collect_targets(url, rng, args.client_visits) for url in urls]
    log = Path(tempfile.gettempdir()) / f"bench-pages-{os.getpid()}.log"
    ports = [args.port + 2 * n for n in range(len(urls))]
    servers = [
        start_server("clinic:create_app()", port, args, log, url)
        for port, url in zip(ports, urls, strict=True)
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    medians: dict[str, list[float]] = {}
    try:
        sessions = []
        for base, server, targets in zip(bases, servers, every, strict=True):
            wait_until_up(base, server)
            session = requests.Session()
            csrf = sign_in(session, base, targets["therapist"], args.password)
            ready = targets["ready_client_id"]
            session.post(
                f"{base}/clients/{ready}/screening/confirm", data={"csrf_token": csrf}, timeout=30
            )
            sessions.append(session)
        per_size = [main_pages(targets) for targets in every]
        for index, page in enumerate(per_size[0]):
            if args.pages and not any(w in page.name for w in args.pages.split(",")):
                continue
            medians[page.name] = measure_sizes(
                [pages[index] for pages in per_size], sessions, bases, args
            )
            print(f"  {page.name}: " + ", ".join(f"{m:.1f}" for m in medians[page.name]))
    finally:
        for server in servers:
            stop(server)
    print()
    print(f"- run: {args.label or 'sizes side by side'}, {time.strftime('%Y-%m-%d %H:%M')}")
    for targets in every:
        counts = ", ".join(f"{v:,} {k}" for k, v in targets["counts"].items())
        print(f"- database: {targets['dialect']}: {counts}")
    print(f"- server: gunicorn as make run, {args.workers} worker(s) x {args.threads} threads "
          "each, all sizes served at once")  # fmt: skip
    print(f"- method: {args.rounds} rounds after {args.warmup} warm-up, each size in turn")
    print(f"- machine: {platform.machine()}, {machine_load()}")
    print()
    sizes = [f"{targets['counts']['clients']:,} clients ms" for targets in every]
    print("| page | " + " | ".join(sizes) + " | growth | result |")
    print("| --- | " + " | ".join("---:" for _ in sizes) + " | ---: | --- |")
    passed = True
    for name, values in medians.items():
        growth = values[-1] / values[0]
        passed = passed and growth <= GROWTH_TARGET
        cells = " | ".join(f"{m:.1f}" for m in values)
        result = "PASS" if growth <= GROWTH_TARGET else "FAIL"
        print(f"| {name} | {cells} | {growth:.2f} | {result} |")
    print()
    print(f"Overall: {'PASS' if passed else 'FAIL'} (largest size's median <= "
          f"{GROWTH_TARGET:g}x the smallest's)")  # fmt: skip
    return passed


def print_table(results: list[Result], meta: dict[str, Any]) -> bool:
    print()
    for key, value in meta.items():
        print(f"- {key}: {value}")
    print()
    print("| page | app median ms | app p95 ms | floor median ms | floor p95 ms "
          "| median x floor | p95 x floor | result |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        print(
            f"| {r.name} | {r.app_median:.1f} | {r.app_p95:.1f} | {r.floor_median:.1f} "
            f"| {r.floor_p95:.1f} | {r.median_ratio:.2f} | {r.p95_ratio:.2f} "
            f"| {'PASS' if r.passed else 'FAIL'} |"
        )
    passed = all(r.passed for r in results)
    print()
    print(f"Overall: {'PASS' if passed else 'FAIL'} (median <= {MEDIAN_TARGET:g}x the floor's "
          f"median, p95 <= {P95_TARGET:g}x the floor's p95)")  # fmt: skip
    return passed


def print_growth(paths: list[Path]) -> None:
    """Print each page's median at every size, and the largest over the smallest."""
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    runs.sort(key=lambda run: run["meta"]["clients"])
    sizes = [f"{run['meta']['clients']:,} clients" for run in runs]
    print(
        "| page | " + " | ".join(f"{s} ms" for s in sizes)
        + " | growth | result | growth of x floor |"
    )  # fmt: skip
    print("| --- | " + " | ".join("---:" for _ in sizes) + " | ---: | --- | ---: |")
    first, last = runs[0]["results"], runs[-1]["results"]
    for name in first:
        medians = [run["results"][name]["app_median"] for run in runs]
        growth = last[name]["app_median"] / first[name]["app_median"]
        # The runs are minutes apart, and the machine's speed drifts between them: the ratio
        # to the floor of the same run, compared across sizes, leaves that drift out.
        relative = (last[name]["app_median"] / last[name]["floor_median"]) / (
            first[name]["app_median"] / first[name]["floor_median"]
        )
        cells = " | ".join(f"{m:.1f}" for m in medians)
        print(
            f"| {name} | {cells} | {growth:.2f} | {'PASS' if growth <= GROWTH_TARGET else 'FAIL'}"
            f" | {relative:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="the seeded database")
    parser.add_argument("--label", default="", help="a name for this run, e.g. SQLite")
    parser.add_argument("--port", type=int, default=5611, help="the app; the floor takes +1")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--pages", default="", help="comma-separated parts of page names")
    parser.add_argument("--save", type=Path, help="write the results as JSON (for --growth)")
    parser.add_argument("--growth", type=Path, nargs="+", help="JSON files of earlier runs")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--sizes",
        nargs="+",
        metavar="URL",
        help="seeded databases, smallest first: served at once, timed in turn (growth table)",
    )
    parser.add_argument(
        "--client-visits",
        type=int,
        help="open the client with this many visits (nearest), not the busiest: "
        "the same history at every size",
    )
    args = parser.parse_args()
    if args.growth:
        print_growth(args.growth)
        return
    if args.sizes:
        sys.exit(0 if run_sizes(args) else 1)
    if not args.database_url:
        parser.error("--database-url is required")
    targets = collect_targets(args.database_url, random.Random(args.seed), args.client_visits)
    pages = main_pages(targets)
    if args.pages:
        wanted = args.pages.split(",")
        pages = [page for page in pages if any(w in page.name for w in wanted)]
    log = Path(tempfile.gettempdir()) / f"bench-pages-{os.getpid()}.log"
    servers = [
        start_server("clinic:create_app()", args.port, args, log),
        start_server("floor:create_floor()", args.port + 1, args, log),
    ]
    results: list[Result] = []
    try:
        wait_until_up(f"http://127.0.0.1:{args.port}", servers[0])
        app = requests.Session()
        floor = requests.Session()
        csrf = sign_in(app, f"http://127.0.0.1:{args.port}", targets["therapist"], args.password)
        # The visit form opens only once the clot question was asked today.
        ready = targets["ready_client_id"]
        app.post(
            f"http://127.0.0.1:{args.port}/clients/{ready}/screening/confirm",
            data={"csrf_token": csrf},
            timeout=30,
        )
        for page in pages:
            results.append(measure(page, app, floor, targets, args))
            print(f"  {page.name}: {results[-1].app_median:.1f} ms", flush=True)
    finally:
        for server in servers:
            stop(server)
    meta = {
        "run": f"{args.label or targets['dialect']}, {time.strftime('%Y-%m-%d %H:%M')}",
        "database": f"{targets['dialect']}: "
        + ", ".join(f"{v:,} {k}" for k, v in targets["counts"].items()),
        "server": f"gunicorn as make run, {args.workers} worker(s) x {args.threads} threads",
        "method": f"{args.rounds} rounds after {args.warmup} warm-up, app and floor in turn",
        "machine": f"{platform.machine()}, {machine_load()}",
    }
    passed = print_table(results, meta)
    if args.save:
        data = {
            "meta": dict(meta, clients=targets["counts"]["clients"]),
            "results": {r.name: asdict(r) for r in results},
        }
        args.save.write_text(json.dumps(data, indent=2), encoding="utf-8")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
