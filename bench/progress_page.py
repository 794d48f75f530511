"""Time the progress page of a client with 500 visits (target: under 150 ms of server time).

Run: .venv/bin/python bench/progress_page.py [--visits 500] [--runs 30] [--database-url URL]

It builds a throwaway SQLite database (or uses the PostgreSQL URL given, which it empties),
adds one clinic, one client with N signed visits, home-log scores and questionnaires, then
requests /clients/<id>/progress through the app in-process and prints the median and p95
server time. Nothing here runs in `make test`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic import create_app
from clinic.auth import operations as auth_ops
from clinic.database import utcnow
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.outcomes import Measure
from clinic.domain.visits import VisitStatus
from clinic.extensions import db
from clinic.models import (
    Client,
    Clinic,
    OutcomeAssessment,
    PainLogEntry,
    Role,
    TechniqueEntry,
    Visit,
)
from tests.factories import intake


def seed(visits: int) -> tuple[int, str]:
    """Create the clinic, a user and a client with `visits` visits; return ids."""
    clinic = Clinic(name="Bench clinic")
    db.session.add(clinic)
    user = auth_ops.create_user(
        clinic, full_name="Bench", email="bench@example.com", role=Role.OWNER,
        password="bench-password-123",
    )  # fmt: skip
    details = intake(last_name="Benchmark", date_of_birth=date(1955, 1, 1))
    client = Client(clinic_id=clinic.id, created_by_id=user.id, updated_by_id=user.id)
    for name, value in vars(details).items():
        setattr(client, name, value)
    db.session.add(client)
    db.session.flush()
    start = date.today() - timedelta(days=visits * 3)
    for number in range(visits):
        visit = Visit(
            clinic_id=clinic.id, client_id=client.id, therapist_id=user.id,
            creation_token=f"bench-{number}", visit_on=start + timedelta(days=3 * number),
            start_time=dtime(8 + number % 9, 0), length_minutes=60, knees="both",
            pain_before_left=8 - number % 5, pain_after_left=5 - number % 4,
            pain_before_right=6 - number % 3, pain_after_right=4 - number % 3,
            status=VisitStatus.SIGNED, signed_at=utcnow(),
        )  # fmt: skip
        visit.entries = [
            TechniqueEntry(clinic_id=clinic.id, position=i, technique=Technique.PETRISSAGE,
                           target=Target.QUADRICEPS, side=Side.LEFT, pressure=Pressure.MEDIUM,
                           minutes=Decimal("10"))
            for i in range(3)
        ]  # fmt: skip
        db.session.add(visit)
        if number % 10 == 0:
            db.session.add(
                PainLogEntry(clinic_id=clinic.id, client_id=client.id, knee=Side.LEFT,
                             logged_on=visit.visit_on + timedelta(days=1), score=4,
                             recorded_by_id=user.id)
            )  # fmt: skip
        if number % 50 == 0:
            db.session.add(
                OutcomeAssessment(clinic_id=clinic.id, client_id=client.id, measure=Measure.LEFS,
                                  taken_on=visit.visit_on, answers={}, raw_score=40 + number % 30,
                                  score=Decimal(40 + number % 30), recorded_by_id=user.id)
            )  # fmt: skip
    db.session.commit()
    return client.id, user.email


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app(
            {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False}
        )
        with app.app_context():
            db.drop_all()
            db.create_all()
            client_id, email = seed(args.visits)
        browser = app.test_client()
        browser.post("/login", data={"email": email, "password": "bench-password-123"})
        url_path = f"/clients/{client_id}/progress"
        assert browser.get(url_path).status_code == 200  # warm up
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = browser.get(url_path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        print(
            f"progress page, {args.visits} visits, {args.runs} runs: "
            f"median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
            f"{len(response.data) / 1024:.0f} KiB (target: under 150 ms)"
        )


if __name__ == "__main__":
    main()
