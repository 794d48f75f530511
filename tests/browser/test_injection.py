"""The injection corpus in headless Chromium: saved in every text field, shown as text on every page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from playwright.sync_api import Dialog, Page, expect

from clinic.forms import clean_text
from tests.browser.conftest import NewPage, field, save_screenshot, set_viewport
from tests.browser.test_foundation_flow import assert_fits_width, sign_in
from tests.conftest import ClinicTestClient
from tests.injection_payloads import (
    INTAKE_LIMITS,
    PAYLOADS,
    TEXT_FIELDS,
    TYPED,
    Corpus,
    covered_by,
    discover_text_fields,
    payload_text,
    save_corpus,
)

# What every signed-in page shows: the clinic's name in the top bar and the user's own name.
HEADER = ("ClinicSettingsForm.name", "SetupForm.owner_name")
# A client's name, and the allergy warning that every client page repeats.
CLIENT = ("IntakeForm.first_name", "IntakeForm.last_name", "IntakeForm.allergies")
# The screening banner: the override reason for today and who gave the clearance.
BANNER = ("OverrideForm.reason", "ClearanceForm.given_by")
# The intake's free text (phone numbers and emails are refused: see the refusals below).
INTAKE = tuple(f"IntakeForm.{name}" for name in INTAKE_LIMITS)
VISIT = (
    "VisitForm.subjective", "VisitForm.palpation", "VisitForm.assessment", "VisitForm.plan",
    "VisitForm.adverse_note", "EntryForm.note", "EntryForm.override_reason",
)  # fmt: skip
SIGNED = ("FollowUpForm.text", "AddendumForm.reason", "AddendumForm.text")
ITEM = (
    "LibraryItemForm.title", "LibraryItemForm.purpose", "LibraryItemForm.steps",
    "LibraryItemForm.cautions",
)  # fmt: skip
SCREENING = tuple(
    f"ScreeningForm.{name}" for name in TEXT_FIELDS["clinic.screening.forms.ScreeningForm"]
)


@dataclass(frozen=True)
class Shown:
    """A page that shows saved text: its endpoint, its URL and the fields it must show."""

    endpoint: str
    url: Callable[[Corpus], str]
    fields: tuple[str, ...]


def _client(path: str = "") -> Callable[[Corpus], str]:
    return lambda c: f"/clients/{c.client_id}{path}"


PAGES = [
    Shown("home", lambda c: "/", HEADER),
    Shown("clients.index", lambda c: "/clients/", (*HEADER, *CLIENT[:2])),
    Shown(
        "clients.detail", _client(), (*HEADER, *CLIENT, *BANNER, *INTAKE, "LibraryItemForm.title")
    ),
    Shown("clients.edit", _client("/edit"), (*HEADER, *CLIENT, *INTAKE)),
    Shown("clients.new", lambda c: "/clients/new", HEADER),
    Shown("screening.new", _client("/screening/new"), (*HEADER, *CLIENT, *BANNER)),
    Shown(
        "screening.detail",
        lambda c: f"/clients/{c.client_id}/screening/{c.screening_id}",
        (*HEADER, *CLIENT, *BANNER, *SCREENING, "ClearanceForm.note"),
    ),
    Shown("screening.history", _client("/screening/history"), (*HEADER, *CLIENT, *BANNER)),
    Shown(
        "screening.clearance",
        lambda c: f"/clients/{c.client_id}/screening/{c.screening_id}/clearance",
        (*HEADER, *CLIENT, *BANNER),
    ),
    Shown(
        "screening.override",
        lambda c: f"/clients/{c.client_id}/screening/{c.screening_id}/override",
        (*HEADER, *CLIENT, *BANNER),
    ),
    Shown(
        "visits.detail",
        lambda c: f"/clients/{c.client_id}/visits/{c.signed_visit_id}",
        (*HEADER, *CLIENT, *BANNER, *VISIT, *SIGNED),
    ),
    Shown(
        "visits.detail",
        lambda c: f"/clients/{c.client_id}/visits/{c.draft_visit_id}",
        (*HEADER, *CLIENT, *BANNER, *VISIT),
    ),
    Shown(
        "visits.edit",
        lambda c: f"/clients/{c.client_id}/visits/{c.draft_visit_id}/edit",
        (*HEADER, *CLIENT, *BANNER, *VISIT),
    ),
    Shown(
        "visits.confirm_sign",
        lambda c: f"/clients/{c.client_id}/visits/{c.draft_visit_id}/sign",
        (*HEADER, *CLIENT, *BANNER, *VISIT),
    ),
    Shown("visits.new", _client("/visits/new"), (*HEADER, *CLIENT, *BANNER)),
    Shown("visits.index", _client("/visits/"), (*HEADER, *CLIENT, *BANNER)),
    Shown("visits.unsigned", lambda c: "/visits/unsigned", (*HEADER, *CLIENT[:2])),
    Shown("visits.this_month", lambda c: "/visits/this-month", (*HEADER, *CLIENT[:2])),
    Shown("progress.detail", _client("/progress"), (*HEADER, *CLIENT, *BANNER, "PainLogForm.note")),
    Shown("progress.pain_log", _client("/progress/pain-log"), (*HEADER, *CLIENT, *BANNER)),
    Shown("progress.new_koos_jr", _client("/progress/koos-jr/new"), (*HEADER, *CLIENT, *BANNER)),
    Shown("progress.new_lefs", _client("/progress/lefs/new"), (*HEADER, *CLIENT, *BANNER)),
    Shown("homecare.new", _client("/homecare/new"), (*HEADER, *CLIENT, *BANNER, *ITEM)),
    Shown(
        "homecare.detail",
        lambda c: f"/clients/{c.client_id}/homecare/{c.plan_id}",
        (*HEADER, *CLIENT, *BANNER, *ITEM, "PlanForm.note", "PlanRowForm.note"),
    ),
    Shown("homecare_library.index", lambda c: "/homecare/library/", (*HEADER, ITEM[0])),
    Shown("homecare_library.item", lambda c: f"/homecare/library/{c.item_id}", (*HEADER, *ITEM)),
    Shown(
        "homecare_library.edit_item",
        lambda c: f"/homecare/library/{c.item_id}/edit",
        (*HEADER, *ITEM),
    ),
    Shown("homecare_library.new_item", lambda c: "/homecare/library/new", HEADER),
    Shown(
        "admin.clinic_settings",
        lambda c: "/admin/clinic",
        (*HEADER, "ClinicSettingsForm.address"),
    ),
    Shown("admin.users", lambda c: "/admin/users", (*HEADER, "NewUserForm.full_name")),
    Shown("admin.new_user", lambda c: "/admin/users/new", HEADER),
    Shown("auth.change_password", lambda c: "/account/password", HEADER),
    Shown("auth.two_step", lambda c: "/account/two-step", HEADER),
    Shown("audit.index", lambda c: "/audit/", (*HEADER, *CLIENT[:2])),
    Shown("audit.index", lambda c: f"/audit/?client={c.client_id}", (*HEADER, *CLIENT[:2])),
]

# Pages that are not HTML, or not there once the clinic is set up; each is covered elsewhere.
NOT_OPENED = {
    "static": "the app's own files",
    "auth.setup": "gone after the first run; tests/injection_payloads.py posts the corpus to it",
    "auth.login": "opened at the start of the test, with a payload typed as the email",
    "visits.note_pdf": "a PDF: tests/test_injection_pdf.py",
    "homecare.preview": "a PDF: tests/test_injection_pdf.py",
    "homecare.handout": "a PDF: tests/test_injection_pdf.py",
    "progress.export_csv": "a CSV download, not a page",
    "audit.export_csv": "a CSV download, not a page",
    "admin.retention_csv": "a CSV download, not a page",
}

# Runs in the page: reads the text a person can see (and the text in form fields, with every
# <details> opened), then lists any element or attribute a payload could have injected.
READ_PAGE = """() => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const parts = [document.title, document.body.innerText];
  document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]),'
      + ' textarea').forEach((el) => parts.push(el.value));
  const problems = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) problems.push(`${el.tagName} has ${attr.name}`);
    }
    // Every link, image and form target stays on this site (the owner's logo preview is the
    // one data: image); no style or meta attribute names the payloads' host.
    for (const name of ['href', 'src', 'action', 'formaction', 'srcset', 'poster']) {
      const value = el.getAttribute(name);
      if (value === null) continue;
      let url = null;
      try { url = new URL(value, location.href); } catch (e) { url = null; }
      const logo = el.tagName === 'IMG' && el.closest('#logo') && url && url.protocol === 'data:';
      if (!logo && (url === null || url.origin !== location.origin)) {
        problems.push(`${el.tagName} ${name}=${value}`);
      }
    }
    for (const name of ['style', 'content']) {
      if (/203\\.0\\.113\\.9|expression|url\\(/i.test(el.getAttribute(name) || '')) {
        problems.push(`${el.tagName} ${name}=${el.getAttribute(name)}`);
      }
    }
  }
  for (const el of document.querySelectorAll(
      'iframe, frame, object, embed, base, meta[http-equiv], style, svg[onload], img[src=x]')) {
    problems.push(`an injected ${el.tagName} element`);
  }
  // Only the app's own scripts and stylesheets (getAttribute: an element a payload put
  // inside an <svg> has no string .src or .href).
  const own = (value) => value !== null
      && new URL(value, location.href).href.startsWith(location.origin + '/static/');
  for (const el of document.querySelectorAll('script')) {
    if (!own(el.getAttribute('src'))) problems.push("a script that is not the app's own");
  }
  for (const el of document.querySelectorAll('link')) {
    if (!own(el.getAttribute('href'))) problems.push(`a link to ${el.getAttribute('href')}`);
  }
  if (getComputedStyle(document.body).display === 'none') problems.push('the body is hidden');
  return {text: parts.join('\\n'), problems: problems};
}"""


def words(text: str) -> str:
    """Collapse whitespace, as the page's line wrapping and the form's line breaks differ."""
    return " ".join(text.split())


def check_page(page: Page, corpus: Corpus, expected: tuple[str, ...], where: str) -> None:
    """The page shows each field's text literally and holds nothing a payload injected."""
    page.wait_for_load_state("load")
    found = page.evaluate(READ_PAGE)
    assert not found["problems"], f"{where}: {found['problems']}"
    text = words(found["text"])
    for key in expected:
        # What was saved is what the form kept after cleaning (e.g. no bidi overrides).
        value = words(clean_text(corpus.values[key]))
        assert value in text, f"{where}: the text of {key} is not shown literally: {value!r}"
    assert_fits_width(page)


def test_every_text_field_is_covered_by_the_corpus() -> None:
    found = discover_text_fields()
    listed = {form: set(fields) for form, fields in TEXT_FIELDS.items()}
    missing = {
        form: sorted(names - listed.get(form, set()))
        for form, names in found.items()
        if names - listed.get(form, set())
    }
    assert not missing, (
        "text fields that the injection corpus does not cover; add them to TEXT_FIELDS in "
        f"tests/injection_payloads.py and save payloads into them: {missing}"
    )
    stale = {form: sorted(names - found.get(form, set())) for form, names in listed.items()}
    assert not any(stale.values()), f"TEXT_FIELDS names fields that no longer exist: {stale}"


def test_the_corpus_shows_as_text_on_every_page(live_app: Flask, new_page: NewPage) -> None:
    live_app.test_client_class = ClinicTestClient
    corpus = save_corpus(live_app, live_app.test_client())  # type: ignore[arg-type]
    typed: set[tuple[str, str]] = set()

    page = new_page("desktop")
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message} on {page.url}")
        dialog.dismiss()

    page.on("dialog", on_dialog)

    # Signing in with a payload as the email: refused, and the typing comes back as text.
    login_email = payload_text(254, 1, tag="[login]")
    page.goto("/login")
    field(page, "Email address").fill(login_email)
    field(page, "Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("not right", exact=False).first).to_be_visible()
    expect(field(page, "Email address")).to_have_value(login_email)
    check_page(page, corpus, (), "the refused sign-in")
    typed.add(("clinic.auth.forms.LoginForm", "email"))
    sign_in(page, corpus.owner_email, corpus.owner_password)
    expect(page.locator(".account__name")).to_have_count(1)

    opened = set()
    for shown in PAGES:
        url = shown.url(corpus)
        response = page.goto(url)
        assert response is not None and response.status == 200, f"{url}: {response}"
        check_page(page, corpus, shown.fields, url)
        opened.add(shown.endpoint)
        if shown.endpoint == "clients.detail":
            save_screenshot(page, "70-injection-client-detail")

    # Pages added later without arguments are opened too; pages with arguments must be listed.
    for rule in live_app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint in opened | set(NOT_OPENED):
            continue
        if rule.rule.endswith((".csv", ".pdf")):
            continue  # downloads, not pages (tests/test_injection_pdf.py opens every PDF)
        assert not rule.arguments, (
            f"{rule.rule} is not in PAGES of tests/browser/test_injection.py: add it with the "
            "fields it shows"
        )
        response = page.goto(rule.rule)
        assert response is not None and response.status < 500, rule.rule
        check_page(
            page, corpus, HEADER if page.locator(".account__name").count() else (), rule.rule
        )

    # A search typed into the box: the query comes back in the box and in the sentence.
    query = payload_text(100, 10, tag="[q]")
    page.goto("/clients/")
    page.locator("#q").fill(query)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#q")).to_have_value(query)
    check_page(page, corpus, HEADER, "search")
    assert words(query) in words(page.locator(".list-meta, .empty").first.inner_text())
    typed.add(("clinic.clients.forms.SearchForm", "q"))

    # The audit trail's client search, typed: the query comes back in the box.
    query = payload_text(100, 12, tag="[audit]")
    page.goto("/audit/")
    field(page, "Client").fill(query)
    field(page, "Client").press("Enter")
    expect(field(page, "Client")).to_have_value(query)
    check_page(page, corpus, HEADER, "audit search")
    typed.add(("clinic.audit.forms.AuditFilterForm", "q"))

    # A refused intake in the browser: the phone is a payload; everything comes back as text.
    page.goto(f"/clients/{corpus.client_id}/edit")
    field(page, "Phone").fill(PAYLOADS[0])
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#form-errors")).to_contain_text("Phone")
    expect(field(page, "Phone")).to_have_value(PAYLOADS[0])
    check_page(page, corpus, (*HEADER, *CLIENT, *INTAKE), "the refused intake")

    # A refused account in the browser: the email is a payload.
    page.goto("/admin/users/new")
    name, email = PAYLOADS[1], PAYLOADS[2]
    field(page, "Full name").fill(name)
    field(page, "Email address").fill(email)
    page.get_by_role("button", name="Add the account").click()
    expect(field(page, "Email address")).to_have_value(email)
    expect(field(page, "Full name")).to_have_value(name)
    check_page(page, corpus, HEADER, "the refused account")

    # The visit form's script copies a blank row: still no dialog, nothing injected.
    page.goto(f"/clients/{corpus.client_id}/visits/{corpus.draft_visit_id}/edit")
    page.get_by_role("button", name="Add a technique").click()
    check_page(page, corpus, VISIT, "the visit form with a row added")

    # Long payloads wrap: no page is wider than a phone.
    set_viewport(page, "phone")
    for shown in PAGES:
        url = shown.url(corpus)
        page.goto(url)
        page.wait_for_load_state("load")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} is {overflow}px wider than a phone's screen"
        if shown.endpoint == "clients.detail":
            save_screenshot(page, "71-injection-client-detail-phone")

    assert not dialogs, f"a payload ran: {dialogs}"
    assert typed == covered_by(TYPED)
