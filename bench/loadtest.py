"""Locust: therapists searching, opening clients, recording and signing visits, printing handouts.

Run it through `bench/run_load.py`, which starts the server on the seeded database, writes the
data file this locustfile reads (CLINIC_LOAD_DATA: accounts, clients ready for a visit today,
plans and handouts, search words) and prints the summary. Each simulated therapist signs in
once with their own seeded account, then repeats the tasks below with a short pause between
them. Every response is checked: the expected status, no error page, and the content that
shows the page really did its job; anything else is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.clients import ResponseContextManager
from locust.env import Environment

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
ERROR_TEXTS = ("Something went wrong", "The records are busy", "Not found", "Not allowed")
CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
TOKEN_PATTERN = re.compile(r'name="creation_token" (?:type="hidden" )?value="([^"]+)"')
VERSION_PATTERN = re.compile(r'name="version" (?:type="hidden" )?value="(\d+)"')
VISIT_PATH = re.compile(r"/clients/(\d+)/visits/(\d+)$")

# Entries every client the runner picks may have (clear or modify tier): light pressure on
# thigh and calf muscles breaks no pressure cap and no site rule.
SAFE_ENTRIES = (
    ("effleurage", "quadriceps"),
    ("petrissage", "quadriceps"),
    ("petrissage", "hamstrings"),
    ("passive_stretch", "hamstrings"),
    ("effleurage", "calf"),
    ("petrissage", "adductors"),
    ("myofascial_release", "iliotibial_band"),
)


def _load_data() -> dict[str, Any]:
    path = os.environ.get("CLINIC_LOAD_DATA")
    if not path:
        raise SystemExit("Run the load test through bench/run_load.py (CLINIC_LOAD_DATA unset).")
    with open(path, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


DATA = _load_data()
_accounts = itertools.cycle(DATA["therapists"])
_accounts_lock = threading.Lock()


@events.test_start.add_listener  # type: ignore[untyped-decorator]
def _refuse_remote_hosts(environment: Environment, **_: Any) -> None:
    host = urlsplit(environment.host or "").hostname
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"Load tests only run against this machine (127.0.0.1), not {host!r}.")


def _fail(response: ResponseContextManager, message: str) -> None:
    response.failure(message)  # type: ignore[no-untyped-call]


def _ok(response: ResponseContextManager) -> None:
    response.success()  # type: ignore[no-untyped-call]


class Therapist(HttpUser):
    """One therapist at work: mostly reading records, sometimes writing a note or a handout."""

    wait_time = between(0.5, 2.0)

    csrf = ""
    email = ""

    def on_start(self) -> None:
        with _accounts_lock:
            self.email = next(_accounts)
        self.rng = random.Random()
        # A therapist who meets an error page while signing in tries again (every failed
        # attempt still counts as a failure).
        for _ in range(3):
            if self._sign_in():
                return

    def _sign_in(self) -> bool:
        with self.client.get("/login", name="sign in page", catch_response=True) as page:
            token = self._csrf(page)
        with self.client.post(
            "/login",
            data={"csrf_token": token, "email": self.email, "password": DATA["password"]},
            name="sign in (once per therapist)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if not self._expect_redirect(response, "/"):
                return False
        # The page the sign-in lands on belongs to the sign-in: all eight therapists sign in
        # within the same second at the start, which no clinic does.
        with self.client.get("/", name="sign in: home page", catch_response=True) as home:
            if self._check_page(home, "Flagged by screening"):
                self.csrf = self._csrf(home)
        return bool(self.csrf)

    # --- checks -----------------------------------------------------------------------------

    def _csrf(self, response: ResponseContextManager) -> str:
        match = CSRF_PATTERN.search(response.text or "")
        if match is None:
            _fail(response, "no CSRF token on the page")
            return ""
        return match.group(1)

    def _check_page(self, response: ResponseContextManager, needle: str) -> bool:
        text = response.text or ""
        if response.status_code != 200:
            _fail(response, f"status {response.status_code}")
        elif "<title>Sign in" in text:
            _fail(response, "signed out: got the sign-in page")
        elif any(f"<h1>{error}</h1>" in text for error in ERROR_TEXTS):
            _fail(response, "error page")
        elif needle not in text:
            _fail(response, f"{needle!r} not on the page")
        else:
            _ok(response)
            return True
        return False

    def _expect_redirect(self, response: ResponseContextManager, path_start: str) -> str:
        location = response.headers.get("Location", "")
        path = urlsplit(location).path
        if response.status_code != 302:
            _fail(response, f"status {response.status_code}, expected a redirect")
        elif not path.startswith(path_start) or path.startswith("/login"):
            _fail(response, f"redirected to {location!r}")
        else:
            _ok(response)
            return path
        return ""

    def _check_pdf(self, response: ResponseContextManager) -> None:
        if response.status_code != 200:
            _fail(response, f"status {response.status_code}")
        elif response.headers.get("Content-Type") != "application/pdf":
            _fail(response, "not a PDF")
        elif not response.content.startswith(b"%PDF"):
            _fail(response, "the body is not a PDF")
        else:
            _ok(response)

    # --- reading ----------------------------------------------------------------------------

    @task(8)
    def search_clients(self) -> None:
        words = self.rng.choice(DATA["search_words"])
        with self.client.get(
            "/clients/", params={"q": words}, name="/clients/?q=[name]", catch_response=True
        ) as response:
            self._check_page(response, "Clients")

    @task(1)
    def browse_client_list(self) -> None:
        page = self.rng.randint(1, DATA["list_pages"])
        with self.client.get(
            "/clients/", params={"page": page}, name="/clients/?page=[n]", catch_response=True
        ) as response:
            self._check_page(response, "Clients")

    @task(5)
    def open_client(self) -> None:
        client_id = self.rng.choice(DATA["clients"])["id"]
        with self.client.get(
            f"/clients/{client_id}", name="/clients/[id]", catch_response=True
        ) as response:
            self._check_page(response, "Visits")

    @task(3)
    def open_progress(self) -> None:
        client_id = self.rng.choice(DATA["clients"])["id"]
        with self.client.get(
            f"/clients/{client_id}/progress", name="/clients/[id]/progress", catch_response=True
        ) as response:
            self._check_page(response, "Progress")

    @task(2)
    def open_screening(self) -> None:
        client = self.rng.choice(DATA["clients"])
        if client["screening_id"] is None:
            return
        with self.client.get(
            f"/clients/{client['id']}/screening/{client['screening_id']}",
            name="/clients/[id]/screening/[id]",
            catch_response=True,
        ) as response:
            self._check_page(response, "Screening")

    @task(1)
    def open_home(self) -> None:
        with self.client.get("/", name="home (clinic overview)", catch_response=True) as response:
            self._check_page(response, "Flagged by screening")

    @task(1)
    def open_unsigned(self) -> None:
        with self.client.get(
            "/visits/unsigned", name="/visits/unsigned", catch_response=True
        ) as response:
            self._check_page(response, "Unsigned notes")

    def _confirm_no_changes(self, client_id: int) -> bool:
        """Record "no changes since the screening" for a client (the clot signs asked today)."""
        with self.client.post(
            f"/clients/{client_id}/screening/confirm",
            data={"csrf_token": self.csrf},
            name="POST confirm no changes",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            return bool(self._expect_redirect(response, f"/clients/{client_id}"))

    # --- writing a visit --------------------------------------------------------------------

    @task(2)
    def record_and_sign_visit(self) -> None:
        client = self.rng.choice(DATA["ready_clients"])
        client_id = client["id"]
        # The clot question is asked at every visit: one click records "no changes".
        if not self._confirm_no_changes(client_id):
            return
        with self.client.get(
            f"/clients/{client_id}/visits/new",
            name="/clients/[id]/visits/new",
            catch_response=True,
        ) as form:
            if not self._check_page(form, "Techniques applied"):
                return
            token = TOKEN_PATTERN.search(form.text or "")
            if token is None:
                _fail(form, "no creation token in the visit form")
                return
        with self.client.post(
            f"/clients/{client_id}/visits/new",
            data=self._visit_form(client["knees"], token.group(1)),
            name="POST new visit",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            path = self._expect_redirect(response, f"/clients/{client_id}/visits/")
        if not VISIT_PATH.match(path):
            return
        with self.client.get(path, name="/clients/[id]/visits/[id]", catch_response=True) as page:
            if not self._check_page(page, "Draft"):
                return
            version = VERSION_PATTERN.search(page.text or "")
        with self.client.post(
            f"{path}/sign",
            data={"csrf_token": self.csrf, "version": version.group(1) if version else "1"},
            name="POST sign visit",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self._expect_redirect(response, path)
        with self.client.get(path, name="/clients/[id]/visits/[id]", catch_response=True) as page:
            self._check_page(page, "The note is signed and locked")

    def _visit_form(self, knees: str, token: str) -> dict[str, str]:
        now = datetime.now()
        data = {
            "csrf_token": self.csrf,
            "creation_token": token,
            "version": "",
            "visit_on": date.today().isoformat(),
            "start_time": f"{now:%H}:{now.minute - now.minute % 5:02d}",
            "length_minutes": "60",
            "knees": knees,
            "subjective": "Stairs easier this week; still stiff in the morning.",
            "swelling": "mild",
            "palpation": "Tight lateral thigh.",
            "assessment": "Less guarding after kneading.",
            "plan": "Home stretches daily.",
            "adverse_response": "none",
            "action": "save",
        }
        for side in ("left", "right"):
            if knees in (side, "both"):
                before = self.rng.randint(3, 8)
                data[f"pain_before_{side}"] = str(before)
                data[f"pain_after_{side}"] = str(max(0, before - self.rng.randint(0, 3)))
        sides = ["left", "right"] if knees == "both" else [knees]
        rows = self.rng.sample(SAFE_ENTRIES, k=self.rng.randint(2, 5))
        for index, (technique, target) in enumerate(rows):
            data[f"entries-{index}-technique"] = technique
            data[f"entries-{index}-target"] = target
            data[f"entries-{index}-side"] = self.rng.choice(sides)
            data[f"entries-{index}-pressure"] = "1"
            data[f"entries-{index}-minutes"] = str(self.rng.choice((5, 8, 10)))
        return data

    # --- handouts ---------------------------------------------------------------------------

    @task(2)
    def download_handout(self) -> None:
        handout = self.rng.choice(DATA["handouts"])
        with self.client.get(
            f"/clients/{handout['client_id']}/homecare/handouts/{handout['id']}.pdf",
            name="handout PDF (issued, download)",
            catch_response=True,
        ) as response:
            self._check_pdf(response)

    @task(1)
    def issue_handout(self) -> None:
        plan = self.rng.choice(DATA["plans"])
        base = f"/clients/{plan['client_id']}/homecare/{plan['id']}"
        # A handout is issued only once the clot question was asked today, as before a visit.
        if not self._confirm_no_changes(plan["client_id"]):
            return
        with self.client.get(base, name="/clients/[id]/homecare/[id]", catch_response=True) as page:
            # "Issue the handout", or "Issue it again" once it was: the form is there.
            if not self._check_page(page, f'action="{base}/issue"'):
                return
        with self.client.post(
            f"{base}/issue",
            data={"csrf_token": self.csrf},
            name="handout PDF (issue: renders it)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            path = self._expect_redirect(response, base)
            anchor = urlsplit(response.headers.get("Location", "")).fragment
        if not path or not anchor.startswith("handout-"):
            return
        handout_id = anchor.removeprefix("handout-")
        with self.client.get(
            f"/clients/{plan['client_id']}/homecare/handouts/{handout_id}.pdf",
            name="handout PDF (issued, download)",
            catch_response=True,
        ) as response:
            self._check_pdf(response)
