"""Issue 6 in headless Chromium: build a home-care plan, issue the handout, download the PDF."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import date
from io import BytesIO

from flask import Flask
from playwright.sync_api import expect
from pypdf import PdfReader

from clinic.models import Role
from tests import factories
from tests.browser.conftest import SCREENSHOT_DIR, NewPage, field, save_screenshot, set_viewport
from tests.browser.test_foundation_flow import assert_fits_width, expect_flash, sign_in

EMAIL = "noor@harbour.example"
PASSWORD = "warm towel, slow stretch"


def test_build_a_plan_issue_it_and_download_the_pdf(live_app: Flask, new_page: NewPage) -> None:
    clinic_id = factories.make_clinic(live_app, name="Harbour Knee Clinic")
    user_id = factories.make_user(
        live_app, clinic_id, email=EMAIL, full_name="Noor Haddad", role=Role.OWNER,
        password=PASSWORD,
    )  # fmt: skip
    client_id = factories.make_client(
        live_app, clinic_id, user_id, first_name="Eleanor", last_name="Whitfield"
    )
    # Blood thinners: gentle pressure in self-massage, no foam roller.
    factories.make_screening(live_app, client_id, user_id, anticoagulants=True)

    page = new_page("desktop")
    sign_in(page, EMAIL, PASSWORD)
    page.goto(f"/clients/{client_id}")
    page.get_by_role("link", name="Build a home-care plan").click()
    expect(page.get_by_role("heading", level=1, name="New home-care plan")).to_be_visible()

    roller = page.locator("#item-b_foam_roller")
    expect(roller).to_contain_text("Left out")
    expect(roller).to_contain_text("Left out on both legs: blood thinners")
    expect(roller.get_by_label("Put this in the plan")).to_have_count(0)
    massage = page.locator("#item-b_self_massage")
    expect(massage).to_contain_text("Keep the pressure gentle")
    expect(massage).not_to_contain_text("deeper")

    hamstring = page.locator("#item-b_hamstring_stretch")
    # An item's dose and note show once it is ticked.
    expect(field(hamstring, "Hold (seconds)")).to_be_hidden()
    hamstring.get_by_label("Put this in the plan").check()
    expect(field(hamstring, "Hold (seconds)")).to_be_visible()
    field(hamstring, "Hold (seconds)").fill("90")
    page.locator("#item-b_cold_pack").get_by_label("Put this in the plan").check()
    field(page, "Note for the whole plan").fill("Walk ten minutes a day as well.")
    page.get_by_role("button", name="Save the plan").click()

    # A dose over the limit: the message sits beside the field and the typing is kept.
    hamstring = page.locator("#item-b_hamstring_stretch")
    expect(hamstring).to_contain_text("Hold a stretch for 15 to 60 seconds.")
    expect(field(page, "Note for the whole plan")).to_have_value("Walk ten minutes a day as well.")
    save_screenshot(page, "60-homecare-builder-error")
    field(hamstring, "Hold (seconds)").fill("20")
    page.get_by_role("button", name="Save the plan").click()
    expect_flash(page, "The plan was saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Home-care plan of")

    page.get_by_role("button", name="Issue the handout (PDF)").click()
    expect_flash(page, "The handout was issued")
    # Issued: downloading it is the main action now, and issuing again says so.
    download = page.get_by_role("link", name="Download the handout (PDF)")
    expect(download).to_have_class("button button--primary")
    expect(page.get_by_role("button", name="Issue it again (PDF)")).to_be_visible()
    expect(page.get_by_role("button", name="Issue the handout (PDF)")).to_have_count(0)
    save_screenshot(page, "61-homecare-plan-issued")
    set_viewport(page, "phone")
    assert_fits_width(page)
    set_viewport(page, "desktop")

    link = page.get_by_role("link", name="Download (A4")
    href = link.get_attribute("href")
    assert href
    assert download.get_attribute("href") == href
    first = page.request.get(href)
    second = page.request.get(href)
    assert first.ok, first.status
    assert first.headers["content-type"] == "application/pdf"
    pdf = first.body()
    assert second.body() == pdf
    shown_hash = page.locator("code[title]").first.get_attribute("title")
    assert shown_hash == hashlib.sha256(pdf).hexdigest()

    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(BytesIO(pdf)).pages).split())
    for words in (
        "Eleanor Whitfield",
        "Noor Haddad",
        "Harbour Knee Clinic",
        "Hamstring stretch",
        "Hold 20 seconds. Do it 3 times on each leg. Once a day.",
        "Cold pack",
        "Walk ten minutes a day as well.",
        "Stop if it hurts.",
        "Your two-week record",
    ):
        assert words in text, f"{words!r} is not in the handout: {text}"

    SCREENSHOT_DIR.mkdir(exist_ok=True)
    pdf_path = SCREENSHOT_DIR / "homecare-handout.pdf"
    pdf_path.write_bytes(pdf)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        for old in SCREENSHOT_DIR.glob("homecare-handout-*.png"):
            old.unlink()
        subprocess.run(
            [pdftoppm, "-png", "-r", "70", str(pdf_path), str(SCREENSHOT_DIR / "homecare-handout")],
            check=True,
            timeout=60,
        )
        assert list(SCREENSHOT_DIR.glob("homecare-handout-*.png"))

    # Back on the client's page, the plan and its handout are listed.
    page.goto(f"/clients/{client_id}")
    section = page.locator("#homecare")
    expect(section).to_contain_text("Hamstring stretch; Cold pack")
    expect(section.get_by_role("link", name="Build a home-care plan")).to_be_visible()


def test_the_owner_adds_and_edits_an_item_of_the_clinics_own(
    live_app: Flask, new_page: NewPage
) -> None:
    clinic_id = factories.make_clinic(live_app, name="Harbour Knee Clinic")
    factories.make_user(
        live_app, clinic_id, email=EMAIL, full_name="Noor Haddad", role=Role.OWNER,
        password=PASSWORD,
    )  # fmt: skip
    page = new_page("desktop")
    sign_in(page, EMAIL, PASSWORD)
    page.goto("/admin/clinic")
    page.get_by_role("link", name="Open the home-care library").click()
    expect(page.get_by_role("heading", level=1, name="Home-care library")).to_be_visible()
    page.get_by_role("link", name="Add an item").click()
    field(page, "Title").fill("Step-ups")
    field(page, "Kind").select_option(label="Strengthening exercise")
    field(page, "What it is for").fill("This makes your thighs stronger for stairs.")
    field(page, "Steps").fill("Stand at the bottom stair.\nStep up with one foot.\nStep down.")
    field(page, "Times (repetitions)").fill("8")
    field(page, "Times a day").fill("1")
    page.get_by_label("Knee flare-up").check()
    # What it involves, so the screening's rules can judge it.
    page.locator('input[name="areas"][value="thigh"]').check()
    page.locator('input[name="areas"][value="knee"]').check()
    page.locator('input[name="uses_pressure"][value="no"]').check()
    page.locator('input[name="weight_bearing"][value="yes"]').check()
    save_screenshot(page, "62-homecare-item-form")
    page.get_by_role("button", name="Save").click()
    expect_flash(page, "version 1")
    page.get_by_role("link", name="Edit (makes version 2)").click()
    field(page, "Times (repetitions)").fill("10")
    page.get_by_role("button", name="Save").click()
    expect_flash(page, "Saved as version 2.")
    expect(page.get_by_role("heading", name="Version 1: Step-ups")).to_be_visible()
    save_screenshot(page, "63-homecare-item-versions")
    set_viewport(page, "phone")
    assert_fits_width(page)


def test_after_a_left_knee_operation_on_blood_thinners_the_handout_spares_that_leg(
    live_app: Flask, new_page: NewPage
) -> None:
    """DOMAIN 8.4 in the browser: the operated leg bears no load, nothing presses deeper."""
    clinic_id = factories.make_clinic(live_app, name="Harbour Knee Clinic")
    user_id = factories.make_user(
        live_app, clinic_id, email=EMAIL, full_name="Noor Haddad", role=Role.OWNER,
        password=PASSWORD,
    )  # fmt: skip
    client_id = factories.make_client(
        live_app, clinic_id, user_id, first_name="Walter", last_name="Okafor"
    )
    factories.make_screening(
        live_app,
        client_id,
        user_id,
        recent_surgery={"side": "left", "region": "knee", "date": date.today()},
        anticoagulants=True,
    )

    page = new_page("tablet")
    sign_in(page, EMAIL, PASSWORD)
    page.goto(f"/clients/{client_id}/homecare/new")
    expect(page.get_by_role("heading", level=1, name="New home-care plan")).to_be_visible()
    chosen = ("b_self_massage", "b_calf_stretch", "b_hamstring_stretch", "b_cold_pack")
    for key in chosen:
        item = page.locator(f"#item-{key}")
        box = item.get_by_label("Put this in the plan")
        if box.count():
            box.check()
    save_screenshot(page, "64-homecare-builder-left-knee-operation")
    page.get_by_role("button", name="Save the plan").click()
    expect_flash(page, "The plan was saved.")
    page.get_by_role("button", name="Issue the handout (PDF)").click()
    expect_flash(page, "The handout was issued")

    href = page.get_by_role("link", name="Download (A4").get_attribute("href")
    assert href
    pdf = page.request.get(href).body()
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(BytesIO(pdf)).pages).split())
    lowered = text.lower()
    assert "Walter Okafor" in text
    for contradiction in ("deeper", "firmer", "press hard", "do the same with the other leg"):
        assert contradiction not in lowered, f"{contradiction!r} in the handout: {text}"
    assert "keep the pressure gentle" in lowered
    assert "right leg" in lowered

    SCREENSHOT_DIR.mkdir(exist_ok=True)
    pdf_path = SCREENSHOT_DIR / "homecare-handout-left-knee-operation.pdf"
    pdf_path.write_bytes(pdf)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        prefix = SCREENSHOT_DIR / "homecare-handout-left-knee-operation"
        subprocess.run(
            [pdftoppm, "-png", "-r", "70", str(pdf_path), str(prefix)], check=True, timeout=60
        )
        assert list(SCREENSHOT_DIR.glob("homecare-handout-left-knee-operation-*.png"))
