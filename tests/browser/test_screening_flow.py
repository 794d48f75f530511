"""Issue 3 in headless Chromium: the questionnaire, the banners, the clearance, the list flags."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from playwright.sync_api import Locator, Page, expect

from clinic.domain.screening import OTTAWA_CRITERIA, QUESTIONS, QUESTIONS_BY_CODE
from clinic.models import Role
from clinic.templating import format_date
from tests import factories
from tests.browser.conftest import NewPage, field, save_screenshot, set_viewport
from tests.browser.test_foundation_flow import (
    assert_fits_width,
    assert_tap_targets,
    expect_flash,
    sign_in,
)

THERAPIST_EMAIL = "noor@willow.example"
THERAPIST_PASSWORD = "gentle hands, steady knees"
DVT_PROMPT = QUESTIONS_BY_CODE["dvt_signs"].prompt
BLOOD_THINNERS_PROMPT = QUESTIONS_BY_CODE["anticoagulants"].prompt
REFER_TAG = "Refer: no treatment today"


def seed_clinic(app: Flask) -> dict[str, int]:
    """A clinic, its therapist, and three clients: two never screened, one screened clear."""
    clinic_id = factories.make_clinic(app, name="Willow Street Massage")
    therapist_id = factories.make_user(
        app,
        clinic_id,
        email=THERAPIST_EMAIL,
        full_name="Noor Haddad",
        role=Role.OWNER,
        password=THERAPIST_PASSWORD,
    )
    ids = {
        "maria": factories.make_client(
            app, clinic_id, therapist_id, first_name="Maria", last_name="Okafor"
        ),
        "jonas": factories.make_client(
            app, clinic_id, therapist_id, first_name="Jonas", last_name="Bergström"
        ),
        "aiko": factories.make_client(
            app, clinic_id, therapist_id, first_name="Aiko", last_name="Tanaka"
        ),
    }
    factories.make_screening(app, ids["aiko"], therapist_id)
    return ids


def question(page: Page, prompt: str) -> Locator:
    """The block of one question: its yes/no group and the details it reveals."""
    return page.locator(".question").filter(has=page.get_by_role("group", name=prompt, exact=True))


def answer(page: Page, prompt: str, choice: str) -> None:
    """Choose Yes or No for one question, by its prompt."""
    page.get_by_role("group", name=prompt, exact=True).get_by_label(choice, exact=True).check()


def answer_everything_no(page: Page, *, except_: tuple[str, ...] = ()) -> None:
    """Answer No to each question shown (the Ottawa ones stay hidden without an injury)."""
    for asked in QUESTIONS:
        if asked.code in OTTAWA_CRITERIA or asked.prompt in except_:
            continue
        answer(page, asked.prompt, "No")


def sign_screening(page: Page) -> None:
    """Tick the signature box and save."""
    expect(field(page, "Date of the screening")).to_have_value(date.today().isoformat())
    field(page, "I asked the client every question and the answers are recorded as given.").check()
    page.get_by_role("button", name="Sign and save the screening").click()


def screening_banners(page: Page) -> Locator:
    """The banners under the client's name (the client page also has a "Screening" panel)."""
    return page.locator("section.banners")


def open_client(page: Page, sort_name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name=sort_name).click()


def test_clot_signs_refer_until_a_clearance_and_blood_thinners_modify(
    live_app: Flask, new_page: NewPage
) -> None:
    seed_clinic(live_app)
    page = new_page("desktop")
    sign_in(page, THERAPIST_EMAIL, THERAPIST_PASSWORD)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    # Maria has never been screened: her page says so and offers the questionnaire.
    open_client(page, "Okafor, Maria")
    expect(screening_banners(page)).to_contain_text("Not screened.")
    page.get_by_role("link", name="Take the screening").first.click()
    expect(page.get_by_role("heading", level=1, name="Screening: Maria Okafor")).to_be_visible()

    # A "yes" reveals the details: the leg is asked only once the answer is yes.
    dvt = question(page, DVT_PROMPT)
    which_leg = field(dvt, "Which leg")
    expect(which_leg).to_be_hidden()
    expect(field(dvt, "Details (optional)")).to_be_hidden()
    answer(page, DVT_PROMPT, "Yes")
    expect(which_leg).to_be_visible()
    which_leg.select_option(label="Left leg")
    field(dvt, "Details (optional)").fill("Left calf warm and tight since Tuesday.")
    # Back to no hides them again, and yes shows them with what was chosen.
    answer(page, DVT_PROMPT, "No")
    expect(which_leg).to_be_hidden()
    answer(page, DVT_PROMPT, "Yes")
    expect(which_leg).to_have_value("left")
    # The four Ottawa questions appear only after a knee injury.
    ottawa = question(page, QUESTIONS_BY_CODE["ottawa_cannot_bend_90"].prompt)
    injury = QUESTIONS_BY_CODE["recent_knee_injury"].prompt
    expect(ottawa).to_be_hidden()
    answer(page, injury, "Yes")
    expect(ottawa).to_be_visible()
    answer(page, injury, "No")
    expect(ottawa).to_be_hidden()

    answer_everything_no(page, except_=(DVT_PROMPT,))
    dvt.scroll_into_view_if_needed()
    save_screenshot(page, "20-screening-questionnaire-desktop", full_page=False)
    set_viewport(page, "tablet")
    assert_fits_width(page)
    assert_tap_targets(page)
    dvt.scroll_into_view_if_needed()
    save_screenshot(page, "20-screening-questionnaire-tablet", full_page=False)
    set_viewport(page, "desktop")
    sign_screening(page)

    # The client page: the red banner with the urgency, and nothing to start a visit with.
    expect(page.get_by_role("heading", level=1, name="Maria Okafor")).to_be_visible()
    expect_flash(page, "The screening was signed and saved.")
    refer = page.get_by_role("alert").filter(has_text="Do not treat: refer.")
    expect(refer).to_be_visible()
    expect(refer).to_contain_text("Calf or thigh signs that need a same-day check (left leg)")
    expect(refer).to_contain_text(
        "Urgency: Same day; with breathlessness or chest pain: call emergency services."
    )
    expect(page.get_by_role("link", name="Start a visit")).to_have_count(0)
    expect(page.locator("#visits")).to_contain_text("The screening says to refer first")
    save_screenshot(page, "21-screening-refer-desktop")
    set_viewport(page, "tablet")
    assert_fits_width(page)
    save_screenshot(page, "21-screening-refer-tablet")
    set_viewport(page, "desktop")

    # The list flags her, and the screening filter finds her alone.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    maria_row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Okafor, Maria"))
    expect(maria_row).to_contain_text(REFER_TAG)
    page.get_by_label("Screening", exact=True).select_option(label="Do not treat: refer")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]screening=refer"))
    expect(page.get_by_role("link", name="Okafor, Maria")).to_be_visible()
    expect(page.get_by_role("link", name="Tanaka, Aiko")).to_have_count(0)
    expect(page.get_by_role("link", name="Bergström, Jonas")).to_have_count(0)
    save_screenshot(page, "22-clients-filter-refer")
    page.get_by_role("link", name="Clear").click()

    # A doctor's go-ahead, recorded through the form.
    page.get_by_role("link", name="Okafor, Maria").click()
    page.get_by_role("link", name="record a medical clearance").click()
    expect(page.get_by_role("heading", name="Record a medical clearance")).to_be_visible()
    expect(field(page, "Finding")).to_have_value("dvt_signs")
    # Saying nothing about who cleared it is refused, beside the box.
    page.get_by_role("button", name="Record the clearance").click()
    who = field(page, "Who gave the clearance")
    expect(who).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field", has=who).locator(".field__error")).to_have_text(
        "Say who gave the clearance."
    )
    who.fill("Dr. Amara Chen, GP")
    field(page, "Date it was given").fill(date.today().isoformat())
    field(page, "Note").fill("Ultrasound clear, no clot. Massage is fine.")
    page.get_by_role("button", name="Record the clearance").click()

    expect_flash(page, "The clearance was recorded. The finding now shows as cleared.")
    banners = screening_banners(page)
    cleared = banners.locator(".banner--cleared")
    expect(cleared).to_contain_text("Cleared:")
    expect(cleared).to_contain_text(
        "Calf or thigh signs that need a same-day check "
        f"(by Dr. Amara Chen, GP, {format_date(date.today())})"
    )
    expect(page.get_by_role("alert").filter(has_text="Do not treat: refer.")).to_have_count(0)
    expect(banners.locator(".banner--refer")).to_have_count(0)
    expect(page.get_by_role("link", name="Start a visit")).to_be_visible()
    save_screenshot(page, "23-screening-cleared-desktop")
    set_viewport(page, "tablet")
    assert_fits_width(page)
    save_screenshot(page, "23-screening-cleared-tablet")
    set_viewport(page, "desktop")
    # The signed screening itself still names the finding: a clearance never erases it.
    page.get_by_role("link", name="View the answers").click()
    expect(page.get_by_role("region", name="Clearances and overrides")).to_contain_text(
        "given by Dr. Amara Chen, GP"
    )

    # Jonas takes blood thinners: treat him, but no firm or deep pressure.
    open_client(page, "Bergström, Jonas")
    page.get_by_role("link", name="Take the screening").first.click()
    answer_everything_no(page, except_=(BLOOD_THINNERS_PROMPT,))
    answer(page, BLOOD_THINNERS_PROMPT, "Yes")
    # A question that asks no leg has only the details box to reveal.
    expect(field(question(page, BLOOD_THINNERS_PROMPT), "Which leg")).to_have_count(0)
    expect(field(question(page, BLOOD_THINNERS_PROMPT), "Details (optional)")).to_be_visible()
    sign_screening(page)
    expect(page.get_by_role("heading", level=1, name="Jonas Bergström")).to_be_visible()
    modify = screening_banners(page).locator(".banner--modify")
    expect(modify).to_have_text(
        re.compile(r"^\s*Modify:\s+medium pressure at most, blood thinners or easy bleeding\.\s*$")
    )
    expect(page.get_by_role("alert").filter(has_text="Do not treat")).to_have_count(0)

    # The list: a tag for each tier, Maria no longer refused now that she is cleared.
    for viewport in ("desktop", "tablet"):
        set_viewport(page, viewport)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
        rows = page.get_by_role("row")
        expect(rows.filter(has_text="Bergström, Jonas")).to_contain_text("Treat with changes")
        expect(rows.filter(has_text="Tanaka, Aiko")).to_contain_text("Clear")
        expect(rows.filter(has_text="Okafor, Maria")).not_to_contain_text(REFER_TAG)
        assert_fits_width(page)
        save_screenshot(page, f"24-clients-tiers-{viewport}")
    page.get_by_label("Screening", exact=True).select_option(label="Do not treat: refer")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Okafor, Maria")).to_have_count(0)
