"""A new clinic's first day in headless Chromium: setup, a client's intake, search, accounts."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from clinic.domain.intake import AffectedKnee, KneeDiagnosis, KneePainCause, calculate_age
from clinic.models import Role
from tests import factories
from tests.browser.conftest import VIEWPORTS, NewPage, field, save_screenshot

OWNER_EMAIL = "rosa@riverside.example"
OWNER_PASSWORD = "knees bend, then they mend"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-clients.png"

Screenshot = Callable[[str], Path]


def url_path(path: str) -> re.Pattern[str]:
    """Match a page URL by its path, whatever the port and query."""
    return re.compile(rf"^http://127\.0\.0\.1:\d+{re.escape(path)}(\?.*)?$")


def set_up_clinic(page: Page, screenshot: Screenshot | None = None) -> None:
    """Fill in the first-run setup page as a new clinic's owner would."""
    page.goto("/")
    expect(page).to_have_url(url_path("/setup"))
    expect(page.get_by_role("heading", name="Set up your clinic")).to_be_visible()
    field(page, "Clinic name").fill("Riverside Knee & Massage")
    field(page, "Clinic address").fill("14 Mill Lane\nRiverside RV1 2AB")
    field(page, "Clinic phone").fill("01632 960 123")
    field(page, "Your full name").fill("Rosa Lindqvist")
    field(page, "Your email address").fill(OWNER_EMAIL)
    field(page, "New password").fill(OWNER_PASSWORD)
    field(page, "New password again").fill(OWNER_PASSWORD)
    if screenshot:
        screenshot("01-setup")
    page.get_by_role("button", name="Create the clinic").click()
    # Owners must use two-step sign-in: set-up comes first, and may be put off for a week.
    expect(page).to_have_url(url_path("/account/two-step"))
    expect_flash(page, "is set up. Welcome, Rosa Lindqvist.")
    page.get_by_role("link", name="Later").click()


def expect_flash(page: Page, text: str) -> None:
    """Expect a flashed message (announced as a status) containing the text."""
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in through the real form."""
    page.goto("/login")
    field(page, "Email address").fill(email)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def fill_intake(page: Page, date_of_birth: str) -> None:
    """Fill in every part of the intake form for Maria Okafor."""
    field(page, "First name").fill("Maria")
    field(page, "Last name").fill("Okafor")
    field(page, "Date of birth").fill(date_of_birth)
    field(page, "Gender").fill("Woman")
    field(page, "Phone").fill("07700 900 123")
    field(page, "Email").fill("maria.okafor@example.com")
    field(page, "Address").fill("3 Orchard Row")
    field(page, "Emergency contact name").fill("Daniel Okafor")
    field(page, "Emergency contact phone").fill("07700 900 456")
    page.get_by_role("group", name="Affected knee").get_by_label("Right knee").check()
    field(page, "Main complaint").fill("Aching right knee going downstairs.")
    field(page, "When it started").fill("2025-09-01")
    field(page, "Cause").select_option(label=KneePainCause.OVERUSE.label)
    field(page, "Known diagnosis").select_option(label=KneeDiagnosis.PATELLOFEMORAL_PAIN.label)
    field(page, "Allergic or sensitive to massage oils, lotions or nuts").check()
    field(page, "Goals").fill("Walk the dog up the hill again.")
    field(page, "The client consents to treatment").check()
    field(page, "Date of consent").fill(date.today().isoformat())
    field(page, "Name typed by the client").fill("Maria Okafor")
    field(page, "The client consents to the clinic keeping these records").check()


def search(page: Page, words: str) -> None:
    """Search the client list through its search box."""
    box = page.get_by_role("searchbox", name="Search by name, phone or email")
    box.fill(words)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))


def test_new_clinic_takes_its_first_client(page: Page, screenshot: Screenshot) -> None:
    set_up_clinic(page, screenshot)
    # Setup signs the owner in; "Later" opens the clinic overview, the home page, where a
    # banner counts down the days left to set up two-step sign-in.
    expect(page).to_have_url(url_path("/"))
    expect(page.get_by_test_id("two-step-banner")).to_contain_text("6 days left")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Clients")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page).to_have_url(url_path("/clients/"))

    # An empty clinic says how to start.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page.get_by_text("No clients yet.")).to_be_visible()
    screenshot("02-clients-empty")

    # The intake, first with a mistake: a date of birth next year.
    page.get_by_role("link", name="New client", exact=True).click()
    expect(page.get_by_role("heading", name="New client intake")).to_be_visible()
    next_year = date.today() + timedelta(days=366)
    fill_intake(page, date_of_birth=next_year.isoformat())
    page.get_by_role("button", name="Save the new client").click()

    date_of_birth = field(page, "Date of birth")
    expect(page.get_by_role("alert")).to_contain_text("needs another look")
    expect(date_of_birth).to_have_attribute("aria-invalid", "true")
    expect(date_of_birth).to_have_accessible_description(
        re.compile("The date of birth cannot be in the future")
    )
    # The message sits in the same field box as the input, just below it.
    message = page.locator(".field", has=date_of_birth).locator(".field__error")
    expect(message).to_have_text("The date of birth cannot be in the future.")
    # Everything else that was typed is still there.
    expect(date_of_birth).to_have_value(next_year.isoformat())
    expect(field(page, "First name")).to_have_value("Maria")
    expect(field(page, "Last name")).to_have_value("Okafor")
    expect(field(page, "Phone")).to_have_value("07700 900 123")
    expect(field(page, "Email")).to_have_value("maria.okafor@example.com")
    expect(field(page, "Emergency contact name")).to_have_value("Daniel Okafor")
    expect(page.get_by_label("Right knee")).to_be_checked()
    expect(field(page, "Main complaint")).to_have_value("Aching right knee going downstairs.")
    expect(field(page, "Cause")).to_have_value(KneePainCause.OVERUSE.value)
    expect(field(page, "Known diagnosis")).to_have_value(KneeDiagnosis.PATELLOFEMORAL_PAIN.value)
    expect(field(page, "Allergic or sensitive to massage oils, lotions or nuts")).to_be_checked()
    expect(field(page, "The client consents to treatment")).to_be_checked()
    expect(field(page, "Name typed by the client")).to_have_value("Maria Okafor")
    date_of_birth.scroll_into_view_if_needed()
    screenshot("03-intake-with-error")

    # Fixed, it saves and opens the client's page.
    born = date(1961, 3, 14)
    date_of_birth.fill(born.isoformat())
    page.get_by_role("button", name="Save the new client").click()
    expect(page.get_by_role("heading", level=1, name="Maria Okafor")).to_be_visible()
    expect_flash(page, "Maria Okafor was added.")
    facts = page.locator(".client-header__facts")
    expect(facts).to_contain_text(f"{calculate_age(born, date.today())} years")
    expect(facts).to_contain_text("Right knee")
    allergy = page.get_by_role("alert").filter(has_text="Allergy.")
    expect(allergy).to_contain_text("Allergic or sensitive to massage oils, lotions or nuts")
    expect(page.get_by_text("Aching right knee going downstairs.")).to_be_visible()
    screenshot("04-client-page")
    client_url = page.url

    # Found by part of the last name and by the phone's digits; nonsense finds nobody.
    page.get_by_role("link", name="Clients", exact=True).click()
    maria = page.get_by_role("link", name="Okafor, Maria")
    expect(maria).to_be_visible()
    search(page, "kaf")
    expect(maria).to_be_visible()
    expect(page.get_by_text("1 match for “kaf”")).to_be_visible()
    screenshot("05-clients-search")
    search(page, "900123")
    expect(maria).to_be_visible()
    search(page, "zzqxv")
    expect(maria).to_be_hidden()
    expect(page.get_by_text("No client matches “zzqxv”")).to_be_visible()
    page.get_by_role("link", name="Clear").click()
    expect(maria).to_be_visible()

    # Edit the main complaint.
    maria.click()
    page.get_by_role("link", name="Edit intake").click()
    expect(page.get_by_role("heading", level=1, name="Edit intake")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Maria Okafor")
    expect(field(page, "Date of birth")).to_have_value(born.isoformat())
    field(page, "Main complaint").fill("Sharp pain under the right kneecap after sitting.")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(client_url)
    expect_flash(page, "The intake was saved.")
    expect(page.get_by_text("Sharp pain under the right kneecap after sitting.")).to_be_visible()

    # Archive: gone from the list, back with "Show archived", then unarchived.
    page.get_by_role("button", name="Archive").click()
    expect_flash(page, "was archived. Nothing was deleted.")
    page.get_by_role("link", name="Clients", exact=True).click()
    expect(maria).to_be_hidden()
    page.get_by_role("link", name="Show 1 archived").click()
    row = page.get_by_role("row").filter(has=maria)
    expect(row).to_contain_text("archived")
    maria.click()
    page.get_by_role("button", name="Unarchive").click()
    expect_flash(page, "is back on the client list.")
    page.get_by_role("link", name="Clients", exact=True).click()
    expect(maria).to_be_visible()


def test_owner_adds_a_therapist_who_chooses_a_password(page: Page, screenshot: Screenshot) -> None:
    set_up_clinic(page)
    expect(page).to_have_url(url_path("/"))

    page.get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="Add an account").click()
    field(page, "Full name").fill("Sam Whitaker")
    field(page, "Email address").fill("sam@riverside.example")
    expect(page.get_by_label("Therapist: works with clients")).to_be_checked()
    page.get_by_role("button", name="Add the account").click()
    expect(page.get_by_role("heading", name="Account added")).to_be_visible()
    one_time_password = page.get_by_test_id("one-time-password").inner_text().strip()
    assert len(one_time_password) >= 12
    screenshot("06-one-time-password")

    page.get_by_role("button", name="Sign out").click()
    expect_flash(page, "You are signed out.")
    sign_in(page, "sam@riverside.example", one_time_password)

    # The one-time password only opens the page to choose a new one.
    expect(page).to_have_url(url_path("/account/password"))
    expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    page.goto("/clients/")
    expect(page).to_have_url(url_path("/account/password"))
    field(page, "One-time password").fill(one_time_password)
    field(page, "New password").fill("quiet room, warm hands")
    field(page, "New password again").fill("quiet room, warm hands")
    screenshot("07-choose-password")
    page.get_by_role("button", name="Save the new password").click()

    # A new clinic requires two-step sign-in of everyone: Sam is asked to set it up first.
    expect(page).to_have_url(url_path("/account/two-step"))
    expect_flash(page, "Your clinic asks everyone to use two-step sign-in.")
    expect(page.get_by_role("button", name="Set up two-step sign-in")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("Sam Whitaker")
    # A therapist does not manage accounts.
    expect(page.get_by_role("link", name="Accounts")).to_have_count(0)


# ---------------------------------------------------------------------------------------------
# How the list and the intake form look on a desktop, a tablet and a phone


def seed_clinic(app: Flask) -> str:
    """Create a clinic with its owner and a few clients; return the owner's email."""
    clinic_id = factories.make_clinic(
        app, name="Riverside Knee & Massage", address="14 Mill Lane", phone="01632 960 123"
    )
    owner_id = factories.make_user(
        app,
        clinic_id,
        email=OWNER_EMAIL,
        full_name="Rosa Lindqvist",
        role=Role.OWNER,
        password=OWNER_PASSWORD,
    )
    # name, born, knee, allergic to oils, screening answered yes (None: not screened yet)
    clients: list[tuple[str, str, date, AffectedKnee, bool, dict[str, Any] | None]] = [
        ("Maria", "Okafor", date(1961, 3, 14), AffectedKnee.RIGHT, True, {"osteoporosis": True}),
        ("Jonas", "Bergström", date(1978, 11, 2), AffectedKnee.LEFT, False, {}),
        ("Aiko", "Tanaka", date(1990, 6, 21), AffectedKnee.BOTH, False, None),
        (
            "Peter",
            "Ellingham-Hughes",
            date(1949, 1, 30),
            AffectedKnee.LEFT,
            False,
            {"hot_swollen_knee": {"side": "left"}},
        ),
        ("Fatima", "Haddad", date(1985, 8, 9), AffectedKnee.RIGHT, True, {}),
        (
            "Olusegun",
            "Adeyemi",
            date(1968, 4, 3),
            AffectedKnee.BOTH,
            False,
            {"bruise": {"side": "right", "region": "shin"}},
        ),
        ("Claire", "Dubois", date(1957, 12, 19), AffectedKnee.LEFT, False, None),
        ("Henrik", "Nyström", date(2001, 2, 27), AffectedKnee.RIGHT, False, {}),
    ]
    for number, (first, last, born, knee, allergic, screening) in enumerate(clients):
        client_id = factories.make_client(
            app,
            clinic_id,
            owner_id,
            first_name=first,
            last_name=last,
            date_of_birth=born,
            affected_knee=knee,
            allergic_to_oils_or_nuts=allergic,
            phone=f"07700 900 {100 + number}",
            email=f"{first.lower()}@example.com",
            consent_name=f"{first} {last}",
        )
        if screening is not None:
            factories.make_screening(app, client_id, owner_id, **screening)
    factories.make_client(
        app, clinic_id, owner_id, first_name="Gwen", last_name="Archer", archived=True
    )
    return OWNER_EMAIL


def assert_fits_width(page: Page) -> None:
    """Nothing sticks out sideways: the page never scrolls horizontally."""
    page.wait_for_load_state("load")  # measure with the stylesheet applied
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the {page.viewport_size} viewport"


def assert_tap_targets(page: Page, minimum: int = 38) -> None:
    """Every visible button, link-button and form control is at least `minimum` px high."""
    page.wait_for_load_state("load")
    small = page.evaluate(
        """(minimum) => [...document.querySelectorAll(
              'main .button, main input:not([type=hidden]), main select, main textarea,'
              + ' .topbar a, .topbar button')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.getBoundingClientRect(), el])
            .filter(([box, el]) => box.height < minimum
                && !['checkbox', 'radio'].includes(el.type))
            .map(([box, el]) => `${el.tagName} "${(el.innerText || el.name || '').trim()}"`
                + ` is ${Math.round(box.height)}px high`)""",
        minimum,
    )
    assert not small, "tap targets too small: " + "; ".join(small)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_list_and_intake_fit_every_screen(
    live_app: Flask, new_page: NewPage, viewport: str
) -> None:
    email = seed_clinic(live_app)
    page = new_page(viewport)
    sign_in(page, email, OWNER_PASSWORD)
    expect(page).to_have_url(url_path("/"))
    page.goto("/clients/")
    expect(page.get_by_text("8 clients.")).to_be_visible()
    expect(page.get_by_role("link", name="Okafor, Maria")).to_be_visible()
    assert_fits_width(page)
    assert_tap_targets(page)
    save_screenshot(page, f"10-clients-{viewport}")
    if viewport == "desktop" and os.environ.get("CLINIC_DOCS_SCREENSHOT"):
        # Refresh the README's picture: CLINIC_DOCS_SCREENSHOT=1 pytest tests/browser
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOT), full_page=False, animations="disabled")

    # A finger anywhere on a client's row opens that client, not only on the name.
    knee = page.get_by_role("row").filter(has_text="Tanaka, Aiko").get_by_text("Both knees")
    knee.scroll_into_view_if_needed()
    box = knee.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    if viewport == "desktop":
        page.mouse.click(x, y)
    else:
        page.touchscreen.tap(x, y)
    expect(page.get_by_role("heading", level=1, name="Aiko Tanaka")).to_be_visible()
    page.go_back()

    page.get_by_role("link", name="New client", exact=True).click()
    field(page, "First name").fill("Lena")
    page.get_by_role("button", name="Save the new client").click()
    expect(field(page, "Last name")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "First name")).to_have_value("Lena")
    assert_fits_width(page)
    assert_tap_targets(page)
    save_screenshot(page, f"11-intake-errors-{viewport}")
