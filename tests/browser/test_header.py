"""The top bar on a phone (issue 15): one line, the menu and the signed-in person behind a
button that works with a finger, the keyboard and a screen reader; unchanged on wider screens."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from clinic.models import Role
from tests import factories
from tests.browser.conftest import NewPage, save_screenshot
from tests.browser.test_foundation_flow import sign_in

EMAIL = "noor@longname.example"
PASSWORD = "gentle circles, warm hands"
# A long name, as clinics have: it must not push the Menu button off the line.
CLINIC = "Northside Community Knee and Massage Therapy Clinic"


def signed_in(app: Flask, new_page: NewPage, viewport: str) -> Page:
    clinic_id = factories.make_clinic(app, name=CLINIC)
    factories.make_user(
        app, clinic_id, email=EMAIL, full_name="Noor Haddad", role=Role.THERAPIST, password=PASSWORD
    )
    page = new_page(viewport)
    sign_in(page, EMAIL, PASSWORD)
    expect(page.get_by_role("link", name=CLINIC)).to_be_visible()
    return page


def test_on_a_phone_the_top_bar_is_one_line_and_its_menu_opens(app: Flask, new_page: NewPage):
    page = signed_in(app, new_page, "phone")
    bar = page.locator(".topbar").bounding_box()
    assert bar is not None and bar["height"] <= 70, bar
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav).to_be_hidden()
    save_screenshot(page, "06-header-phone-closed", full_page=False)

    menu.tap()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(main_nav.get_by_role("link", name="Clients")).to_be_visible()
    # Who is signed in is one tap away, with the account's links.
    expect(page.get_by_text("Noor Haddad", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    save_screenshot(page, "06-header-phone-open", full_page=False)

    # Escape closes it and gives the focus back to the button.
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(main_nav).to_be_hidden()
    # The keyboard opens it too, and its links work.
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    main_nav.get_by_role("link", name="Unsigned notes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsigned notes")


def test_on_a_tablet_and_a_desktop_the_menu_is_open_and_there_is_no_button(
    app: Flask, new_page: NewPage
):
    page = signed_in(app, new_page, "tablet")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients")
    ).to_be_visible()
    expect(page.get_by_text("Noor Haddad", exact=True)).to_be_visible()
    save_screenshot(page, "06-header-tablet", full_page=False)
