"""Issue 4 in headless Chromium: a full visit note, its limits, signing, addenda and the PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from io import BytesIO

from flask import Flask
from playwright.sync_api import Locator, Page, expect
from pypdf import PdfReader

from clinic.models import Role
from clinic.templating import format_date
from tests import factories
from tests.browser.conftest import SCREENSHOT_DIR, NewPage, field, save_screenshot, set_viewport
from tests.browser.test_foundation_flow import (
    assert_fits_width,
    assert_tap_targets,
    expect_flash,
    sign_in,
    url_path,
)

THERAPIST_EMAIL = "ines@harbour.example"
THERAPIST_PASSWORD = "slow strokes, quiet room"
CAP_MESSAGE = "Firm pressure is above the limit here (medium at most)."
AVOID_MESSAGE = "This area is to be left alone (left shin)."
OVERRIDE_REASON = "Graze has scabbed over and is dry; light strokes above it only, dressing on."
ADDENDUM_REASON = "Home care left out of the plan"
ADDENDUM_TEXT = "Gave the client the printed quad-set sheet; ten slow repeats twice a day."


def seed_clinic(app: Flask) -> tuple[int, int]:
    """A clinic and its therapist; return (clinic id, therapist id)."""
    clinic_id = factories.make_clinic(app, name="Harbour Knee Clinic")
    therapist_id = factories.make_user(
        app,
        clinic_id,
        email=THERAPIST_EMAIL,
        full_name="Inès Moreau",
        role=Role.OWNER,
        password=THERAPIST_PASSWORD,
    )
    return clinic_id, therapist_id


def open_client(page: Page, sort_name: str) -> None:
    """Open a client from the list, as the main navigation leads there."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name=sort_name).click()


def entry_rows(page: Page) -> Locator:
    """The technique rows of the visit form, in order."""
    return page.locator("[data-entry-rows] > [data-entry-row]")


def fill_entry(
    row: Locator,
    technique: str,
    target: str,
    side: str,
    pressure: str,
    minutes: str,
    *,
    hold: str = "",
    reason: str = "",
) -> None:
    """Fill one technique row, choosing by the labels the therapist reads."""
    field(row, "Technique").select_option(label=technique)
    field(row, "Target").select_option(label=target)
    field(row, "Side").select_option(label=side)
    field(row, "Pressure").select_option(label=pressure)
    field(row, "Minutes").fill(minutes)
    if hold:
        field(row, "Hold (seconds)").fill(hold)
    if reason:
        field(row, "Reason to work on an avoided area").fill(reason)


def error_beside(row: Locator, label: str) -> Locator:
    """The message in the same field box as a row's control."""
    # `has` is looked up inside each .field, so it takes a locator from the page, not the row.
    return row.locator(".field", has=field(row.page, label)).locator(".field__error")


def watch_navigation(page: Page) -> list[str]:
    """Record every main-frame navigation from now on."""
    navigations: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == page.main_frame else None,
    )
    return navigations


def test_full_visit_with_limits_signing_addendum_and_pdf(
    live_app: Flask, new_page: NewPage
) -> None:
    clinic_id, therapist_id = seed_clinic(live_app)
    client_id = factories.make_client(
        live_app,
        clinic_id,
        therapist_id,
        first_name="Eleanor",
        last_name="Whitfield",
        main_complaint="Left knee aches after long walks.",
    )
    # On blood thinners (medium pressure at most) with a healing graze on the left shin.
    factories.make_screening(
        live_app,
        client_id,
        therapist_id,
        anticoagulants=True,
        skin_break={"side": "left", "region": "shin", "detail": "Graze from the garden"},
    )
    page = new_page("desktop")
    sign_in(page, THERAPIST_EMAIL, THERAPIST_PASSWORD)
    open_client(page, "Whitfield, Eleanor")
    page.get_by_role("link", name="Start a visit").click()
    expect(page.get_by_role("heading", level=1, name="New visit")).to_be_visible()

    # The limits sit beside the entries on a desktop, and above them on a tablet.
    limits = page.get_by_role("complementary", name="Limits today")
    expect(limits).to_contain_text("Medium pressure at most (blood thinners or easy bleeding)")
    expect(limits).to_contain_text("Left shin: broken or irritated skin")
    entries = page.get_by_role("group", name="Techniques applied")
    entries_box, limits_box = entries.bounding_box(), limits.bounding_box()
    assert entries_box and limits_box
    assert limits_box["x"] >= entries_box["x"] + entries_box["width"] - 1, "limits not beside"
    assert limits_box["y"] < entries_box["y"] + 200, "limits not level with the entries"

    # The details of the visit, pain and S/O.
    expect(field(page, "Date")).to_have_value(date.today().isoformat())
    expect(field(page, "Length (minutes)")).to_have_value("60")
    expect(page.get_by_label("Left knee", exact=True)).to_be_checked()
    field(page, "Left knee: pain before (0-10)").fill("6")
    field(page, "Left knee: pain after (0-10)").fill("3")
    field(page, "S: what the client reports").fill("Walked 5 km on Sunday; ache on the stairs.")
    field(page, "Swelling").select_option(label="Mild")
    field(page, "Left knee bend (degrees)").fill("125")
    field(page, "O: what you felt (palpation)").fill("Tight lateral quadriceps; tender VMO.")

    # Rows come and go without a page load.
    navigations = watch_navigation(page)
    page.evaluate("window.__sameDocument = true")
    rows = entry_rows(page)
    start = rows.count()
    assert start >= 1
    add = page.get_by_role("button", name="Add a technique")
    add.click()
    add.click()
    expect(rows).to_have_count(start + 2)
    expect(rows.last.locator("legend")).to_have_text(f"Technique {start + 2}")
    expect(field(rows.last, "Technique")).to_be_focused()
    rows.nth(1).get_by_role("button", name="Remove this technique").click()
    expect(rows).to_have_count(start + 1)
    expect(rows.nth(1).locator("legend")).to_have_text("Technique 2")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    # An added row posts like the others (entries-<n>-technique), or the server drops it.
    names = rows.last.locator("select, input, textarea").evaluate_all("els => els.map(e => e.name)")
    strays = [name for name in names if not re.fullmatch(r"entries-\d+-[a-z_]+", name)]
    assert not strays, f"a row added with JavaScript would not be saved: {strays}"
    assert navigations == [], f"adding or removing a row navigated: {navigations}"
    while rows.count() < 4:
        add.click()
    expect(rows).to_have_count(4)

    # Four entries: one too firm for the cap, one on the avoided shin without a reason.
    fill_entry(rows.nth(0), "Petrissage (kneading)", "Quadriceps", "Left", "Firm", "10")
    fill_entry(rows.nth(1), "Cross-fibre friction", "Patellar tendon", "Left", "Light", "3")
    fill_entry(rows.nth(2), "Passive stretch", "Hamstrings", "Left", "Light", "3", hold="30")
    fill_entry(
        rows.nth(3), "Effleurage (long gliding strokes)", "Tibialis anterior", "Left", "Light", "3"
    )
    field(page, "A: response to treatment").fill("Less guarding after kneading; stairs easier.")
    field(page, "P: plan").fill("Quad sets daily; review in a week.")
    field(page, "Next visit").fill((date.today() + timedelta(days=7)).isoformat())
    save_screenshot(page, "30-visit-form-desktop")
    set_viewport(page, "tablet")
    assert_fits_width(page)
    assert_tap_targets(page)
    # On a tablet the limits come first, right above the entries, and scroll away with them
    # rather than float over the rows being filled in.
    page.evaluate("window.scrollTo(0, 0)")
    limits_box, entries_box = limits.bounding_box(), entries.bounding_box()
    assert limits_box and entries_box and limits_box["y"] < entries_box["y"]
    assert limits.evaluate("(el) => getComputedStyle(el).position") == "static"
    save_screenshot(page, "30-visit-form-tablet")
    page.get_by_role("button", name="Save as draft").click()

    # Refused: each reason beside its entry, and everything typed is still there.
    summary = page.get_by_role("alert").filter(has_text="Nothing was saved")
    expect(summary).to_be_visible()
    # The summary names each entry's number; no blank rows were added to the four sent.
    expect(summary.get_by_role("link", name="Technique 1: Pressure")).to_be_visible()
    expect(
        summary.get_by_role("link", name="Technique 4: Reason to work on an avoided area")
    ).to_be_visible()
    rows = entry_rows(page)
    expect(rows).to_have_count(4)
    first, shin = rows.nth(0), rows.nth(3)
    expect(field(shin, "Technique")).to_have_value("effleurage")
    expect(error_beside(first, "Pressure")).to_contain_text(CAP_MESSAGE)
    expect(field(first, "Pressure")).to_have_attribute("aria-invalid", "true")
    expect(error_beside(shin, "Reason to work on an avoided area")).to_contain_text(AVOID_MESSAGE)
    expect(error_beside(shin, "Reason to work on an avoided area")).to_contain_text(
        "To go ahead anyway, write down why."
    )
    expect(field(first, "Technique")).to_have_value("petrissage")
    expect(field(first, "Target")).to_have_value("quadriceps")
    expect(field(first, "Side")).to_have_value("left")
    expect(field(first, "Pressure")).to_have_value("3")
    expect(field(first, "Minutes")).to_have_value("10")
    expect(field(rows.nth(2), "Hold (seconds)")).to_have_value("30")
    expect(field(page, "Left knee: pain before (0-10)")).to_have_value("6")
    expect(field(page, "S: what the client reports")).to_have_value(
        "Walked 5 km on Sunday; ache on the stairs."
    )
    field(first, "Pressure").scroll_into_view_if_needed()
    save_screenshot(page, "31-visit-refused-tablet", full_page=False)
    set_viewport(page, "desktop")
    save_screenshot(page, "31-visit-refused-desktop")

    # The pressure fixed, the shin still without a reason: refused again, for that alone.
    field(first, "Pressure").select_option(label="Medium")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
    rows = entry_rows(page)
    expect(error_beside(rows.nth(0), "Pressure")).to_have_count(0)
    reason_error = error_beside(rows.nth(3), "Reason to work on an avoided area")
    expect(reason_error).to_contain_text(AVOID_MESSAGE)
    # With the reason written, it is accepted.
    field(rows.nth(3), "Reason to work on an avoided area").fill(OVERRIDE_REASON)
    page.get_by_role("button", name="Save as draft").click()

    expect_flash(page, "The visit was saved as a draft.")
    expect(page).to_have_url(re.compile(rf"/clients/{client_id}/visits/\d+$"))
    note = page.get_by_role("region", name="The note")
    for words in (
        "Petrissage (kneading)",
        "Cross-fibre friction",
        "Passive stretch",
        "Hold 30 s.",
        OVERRIDE_REASON,
    ):
        expect(note).to_contain_text(words)
    # Minutes read as typed: 10, not 1E+1.
    petrissage = note.get_by_role("row").filter(has_text="Petrissage (kneading)")
    expect(petrissage.get_by_role("cell")).to_have_text(
        ["Petrissage (kneading)", "Quadriceps", "Left", "Medium", "10", ""]
    )
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()

    # Signing asks first, showing the note as it will be locked.
    page.get_by_role("link", name="Review and sign").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sign and lock the note of")
    expect(page.get_by_role("region", name="The note to be signed")).to_contain_text(
        "Petrissage (kneading)"
    )
    save_screenshot(page, "32-visit-sign-review-desktop")
    page.get_by_role("button", name="Sign and lock the note").click()
    expect_flash(page, "The note is signed and locked.")
    expect(page.get_by_role("link", name="Edit the draft")).to_have_count(0)

    # An addendum needs its reason.
    page.get_by_role("button", name="Add the addendum").click()
    expect(field(page, "Why you are adding this")).to_have_attribute("aria-invalid", "true")
    field(page, "Why you are adding this").fill(ADDENDUM_REASON)
    field(page, "Addendum").fill(ADDENDUM_TEXT)
    page.get_by_role("button", name="Add the addendum").click()
    expect_flash(page, "The addendum was added under the note.")
    addenda = page.get_by_role("region", name="Addenda")
    expect(addenda).to_contain_text(f"Reason: {ADDENDUM_REASON}")
    expect(addenda).to_contain_text(ADDENDUM_TEXT)
    save_screenshot(page, "32-visit-signed-desktop")
    set_viewport(page, "tablet")
    assert_fits_width(page)
    save_screenshot(page, "32-visit-signed-tablet")
    set_viewport(page, "desktop")

    # The printed note, fetched with the signed-in browser's cookies.
    pdf_link = page.get_by_role("link", name="Print the note (PDF)")
    href = pdf_link.get_attribute("href")
    assert href
    response = page.request.get(href)
    assert response.ok, response.status
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    pdf_path = SCREENSHOT_DIR / "visit-note.pdf"
    pdf_path.write_bytes(pdf)
    text = " ".join(
        " ".join(page_.extract_text() or "" for page_ in PdfReader(BytesIO(pdf)).pages).split()
    )
    for words in (
        "Eleanor Whitfield",
        "Inès Moreau",
        "Petrissage (kneading)",
        "Cross-fibre friction",
        "Passive stretch",
        "Effleurage (long gliding strokes)",
        OVERRIDE_REASON,
        ADDENDUM_REASON,
        ADDENDUM_TEXT,
    ):
        assert words in text, f"{words!r} is not in the printed note: {text}"
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        for old in SCREENSHOT_DIR.glob("visit-note-*.png"):
            old.unlink()
        subprocess.run(
            [pdftoppm, "-png", "-r", "70", str(pdf_path), str(SCREENSHOT_DIR / "visit-note")],
            check=True,
            timeout=60,
        )
        assert list(SCREENSHOT_DIR.glob("visit-note-*.png"))


def test_gate_sends_an_out_of_date_or_refused_client_to_the_screening(
    live_app: Flask, new_page: NewPage
) -> None:
    clinic_id, therapist_id = seed_clinic(live_app)
    old = factories.make_client(
        live_app, clinic_id, therapist_id, first_name="Bram", last_name="Visser"
    )
    screened_on = date.today() - timedelta(days=40)
    factories.make_screening(live_app, old, therapist_id, taken_on=screened_on)
    refused = factories.make_client(
        live_app, clinic_id, therapist_id, first_name="Carla", last_name="Reyes"
    )
    factories.make_screening(live_app, refused, therapist_id, dvt_signs={"side": "right"})
    page = new_page("tablet")
    sign_in(page, THERAPIST_EMAIL, THERAPIST_PASSWORD)

    # The client page offers no visit, and says why.
    open_client(page, "Visser, Bram")
    expect(page.locator("section.banners")).to_contain_text("Screening out of date.")
    expect(page.get_by_role("link", name="Start a visit")).to_have_count(0)
    expect(page.locator("#visits")).to_contain_text("A visit cannot start yet")

    # A bookmarked "new visit" address meets the gate.
    page.goto(f"/clients/{old}/visits/new")
    gate = page.get_by_role("region", name="A visit cannot start yet")
    day = screened_on.day
    expect(gate).to_contain_text(
        re.compile(rf"The last screening \(0?{day} {screened_on:%b %Y}\) is out of date\.")
    )
    expect(gate).to_contain_text("Take a new screening before treating.")
    expect(page.get_by_role("button", name="Save as draft")).to_have_count(0)
    assert_fits_width(page)
    save_screenshot(page, "33-visit-gate-out-of-date")
    gate.get_by_role("link", name="Go to the screening").click()
    expect(page).to_have_url(re.compile(rf"^http://127\.0\.0\.1:\d+/clients/{old}#screening$"))
    page.go_back()
    gate.get_by_role("link", name="Take a new screening").click()
    expect(page).to_have_url(url_path(f"/clients/{old}/screening/new"))
    expect(page.get_by_role("heading", level=1, name="Screening: Bram Visser")).to_be_visible()

    # A referral blocks the visit too, until a clearance.
    page.goto(f"/clients/{refused}/visits/new")
    gate = page.get_by_role("region", name="A visit cannot start yet")
    expect(gate).to_contain_text("The screening says to refer first")
    expect(gate).to_contain_text("Before treating, record the medical provider's clearance.")


def test_history_newest_first_and_a_pain_rise_flagged_until_followed_up(
    live_app: Flask, new_page: NewPage
) -> None:
    clinic_id, therapist_id = seed_clinic(live_app)
    client_id = factories.make_client(
        live_app, clinic_id, therapist_id, first_name="Tomasz", last_name="Nowak"
    )
    factories.make_screening(live_app, client_id, therapist_id)
    three_weeks_ago = date.today() - timedelta(days=21)
    last_week = date.today() - timedelta(days=7)
    factories.make_visit(live_app, client_id, therapist_id, signed=True, visit_on=three_weeks_ago)
    factories.make_visit(
        live_app,
        client_id,
        therapist_id,
        signed=True,
        visit_on=last_week,
        pain_before_left=5,
        pain_after_left=3,
    )
    page = new_page("desktop")
    sign_in(page, THERAPIST_EMAIL, THERAPIST_PASSWORD)
    open_client(page, "Nowak, Tomasz")
    client_url = page.url

    # Today the pain goes up by two: saving the visit flags it.
    page.get_by_role("link", name="Start a visit", exact=True).click()
    field(page, "Left knee: pain before (0-10)").fill("3")
    field(page, "Left knee: pain after (0-10)").fill("5")
    calf = ("Petrissage (kneading)", "Calf (gastrocnemius)", "Left", "Medium", "8")
    fill_entry(entry_rows(page).first, *calf)
    page.get_by_role("button", name="Save as draft").click()
    expect_flash(page, "The visit was saved as a draft.")
    flag = page.get_by_role("region", name="Follow-up needed.")
    expect(flag).to_contain_text("The left knee's pain rose from 3 to 5.")

    page.goto(client_url)
    visits = page.get_by_role("region", name="Visits")
    alert = visits.get_by_role("alert").filter(has_text="Follow-up needed.")
    expect(alert).to_contain_text(f"The visit on {format_date(date.today())} was flagged")
    expect(alert).to_contain_text("pain rose by 2 or more")
    history = visits.get_by_role("row")
    expect(history).to_have_count(4)  # the header and three visits
    expect(history.nth(1)).to_contain_text(format_date(date.today()))
    expect(history.nth(1)).to_contain_text("Left: 3 → 5")
    expect(history.nth(1)).to_contain_text("flagged")
    expect(history.nth(1)).to_contain_text("Draft")
    expect(history.nth(2)).to_contain_text(format_date(last_week))
    expect(history.nth(2)).to_contain_text("Left: 5 → 3")
    expect(history.nth(3)).to_contain_text(format_date(three_weeks_ago))
    expect(history.nth(3)).to_contain_text("Signed")
    visits.scroll_into_view_if_needed()
    save_screenshot(page, "34-client-history-flagged")

    # The follow-up, through the form on the visit, clears the flag from the client page.
    alert.get_by_role("link", name=format_date(date.today())).click()
    page.get_by_role("button", name="Record the follow-up").click()
    expect(field(page, "Follow-up note")).to_have_attribute("aria-invalid", "true")
    field(page, "Follow-up note").fill(
        "Phoned next morning: soreness settled overnight; ice advised."
    )
    page.get_by_role("button", name="Record the follow-up").click()
    expect_flash(page, "The follow-up was recorded.")
    expect(page.get_by_role("region", name="Followed up.")).to_contain_text(
        "soreness settled overnight"
    )
    page.goto(client_url)
    expect(page.get_by_text("Follow-up needed.")).to_have_count(0)
    set_viewport(page, "tablet")
    assert_fits_width(page)
    save_screenshot(page, "35-client-history-followed-up-tablet")


def test_a_technique_without_pressure_hides_and_clears_the_pressure_box(
    live_app: Flask, new_page: NewPage
) -> None:
    """Joint mobilisation, heat and cold have no pressure level (DOMAIN 8.3)."""
    clinic_id, therapist_id = seed_clinic(live_app)
    client_id = factories.make_client(live_app, clinic_id, therapist_id, last_name="Mobile")
    factories.make_screening(live_app, client_id, therapist_id)
    page = new_page("tablet")
    sign_in(page, THERAPIST_EMAIL, THERAPIST_PASSWORD)
    page.goto(f"/clients/{client_id}/visits/new")
    row = page.locator("[data-entry-row]").first
    pressure = row.locator("select[name$='-pressure']")
    pressure.select_option("2")
    row.locator("select[name$='-technique']").select_option("heat")
    expect(pressure).to_be_hidden()
    expect(pressure).to_have_value("")
    row.locator("select[name$='-technique']").select_option("petrissage")
    expect(pressure).to_be_visible()


def test_removing_a_refused_entry_takes_its_message_out_of_the_summary(
    live_app: Flask, new_page: NewPage
) -> None:
    clinic_id, therapist_id = seed_clinic(live_app)
    factories.make_client(live_app, clinic_id, therapist_id, first_name="Ada", last_name="Roe")
    client_id = factories.make_client(
        live_app, clinic_id, therapist_id, first_name="Ben", last_name="Stone"
    )
    factories.make_screening(live_app, client_id, therapist_id, anticoagulants=True)
    page = new_page("desktop")
    sign_in(page, THERAPIST_EMAIL, THERAPIST_PASSWORD)
    page.goto(f"/clients/{client_id}/visits/new")
    field(page, "Left knee: pain before (0-10)").fill("5")
    rows = entry_rows(page)
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Add a technique").click()
    page.get_by_role("button", name="Add a technique").click()
    # Two entries too firm for the medium cap, and a good one between them.
    fill_entry(rows.nth(0), "Petrissage (kneading)", "Quadriceps", "Left", "Firm", "10")
    fill_entry(rows.nth(1), "Passive stretch", "Hamstrings", "Left", "Light", "3", hold="30")
    fill_entry(rows.nth(2), "Petrissage (kneading)", "Quadriceps", "Right", "Firm", "5")
    page.get_by_role("button", name="Save as draft").click()
    summary = page.get_by_role("alert").filter(has_text="Nothing was saved")
    expect(summary.get_by_role("link", name="Technique 1: Pressure")).to_be_visible()
    expect(summary.get_by_role("link", name="Technique 3: Pressure")).to_be_visible()
    rows = entry_rows(page)
    expect(rows).to_have_count(3)

    rows.nth(0).get_by_role("button", name="Remove this technique").click()
    expect(rows).to_have_count(2)
    # The first entry's message went with it; the third is the second now, and says so.
    expect(summary.get_by_role("link", name="Technique 1: Pressure")).to_have_count(0)
    expect(summary.get_by_role("link", name="Technique 2: Pressure")).to_be_visible()
    rows.nth(1).get_by_role("button", name="Remove this technique").click()
    expect(summary).to_be_hidden()
