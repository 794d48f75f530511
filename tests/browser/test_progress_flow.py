"""Progress in headless Chromium: scores go in over several visits; the chart and summary show them."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from playwright.sync_api import Page, expect

from clinic.domain.outcomes import KOOS_JR_ITEMS
from tests import factories
from tests.browser.conftest import field, save_screenshot, set_viewport
from tests.browser.test_foundation_flow import assert_fits_width

TODAY = date.today()


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    field(page, "Email address").fill(email)
    field(page, "Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_scores_over_several_visits_show_on_the_chart_and_in_the_summary(
    live_app: Flask, page: Page
) -> None:
    world = factories.make_world(live_app)
    a = world.a
    client_id = factories.make_client(
        live_app, a.clinic_id, a.therapist_id, first_name="Nora", last_name="Lindgren"
    )
    factories.make_screening(live_app, client_id, a.therapist_id)
    # Three earlier weekly visits, as they would stand after signing.
    for weeks, (before, after) in zip((3, 2, 1), ((8, 6), (7, 5), (6, 4)), strict=True):
        factories.make_visit(
            live_app, client_id, a.therapist_id, signed=True,
            visit_on=TODAY - timedelta(weeks=weeks), pain_before_left=before, pain_after_left=after,
        )  # fmt: skip
    sign_in(page, a.therapist_email)

    # Today's visit, through the visit form.
    page.goto(f"/clients/{client_id}/visits/new")
    field(page, "Left knee: pain before (0-10)").fill("4")
    field(page, "Left knee: pain after (0-10)").fill("2")
    rows = page.locator("[data-entry-row]")
    first = rows.nth(0)
    field(first, "Technique").select_option("petrissage")
    field(first, "Target").select_option("quadriceps")
    field(first, "Side").select_option("left")
    field(first, "Pressure").select_option("2")
    field(first, "Minutes").fill("10")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("The visit was saved as a draft.")).to_be_visible()

    # A home log score and two KOOS JR questionnaires.
    page.goto(f"/clients/{client_id}/progress/pain-log")
    field(page, "Date").fill((TODAY - timedelta(days=3)).isoformat())
    page.get_by_label("Left", exact=True).check()
    field(page, "Pain (0-10)").fill("3")
    page.get_by_role("button", name="Add the score").click()
    expect(page.get_by_text("The home log score was added.")).to_be_visible()
    for weeks, answer in ((3, "3"), (0, "1")):
        page.goto(f"/clients/{client_id}/progress/koos-jr/new")
        field(page, "Date the client answered").fill((TODAY - timedelta(weeks=weeks)).isoformat())
        page.get_by_label("Left", exact=True).check()
        for item in KOOS_JR_ITEMS:
            page.locator(f'input[name="item-{item.value}"][value="{answer}"]').check()
        page.get_by_role("button", name="Score and save").click()
        expect(page.get_by_text("was scored and saved")).to_be_visible()

    page.goto(f"/clients/{client_id}/progress")
    pain_chart = page.get_by_role("img", name="Left knee: pain before and after each visit")
    expect(pain_chart).to_be_visible()
    expect(pain_chart.locator('[data-series="Before the visit"]')).to_have_count(4)
    expect(pain_chart.locator('[data-series="After the visit"]')).to_have_count(4)
    expect(pain_chart.locator('[data-series="Home log"]')).to_have_count(1)
    koos_chart = page.get_by_role("img", name="KOOS JR knee score over time")
    expect(koos_chart.locator('[data-series="Left knee"]')).to_have_count(2)
    summary = page.locator("#summary-title + .summary")
    expect(summary).to_contain_text("8 on")
    expect(summary).to_contain_text("4 on")
    expect(summary).to_contain_text("Clinically important improvement")
    expect(summary).to_contain_text("Average change within a visit: -2")
    expect(summary).to_contain_text("KOOS JR")
    table = page.locator('[data-table="pain-left"] tbody tr')
    expect(table).to_have_count(5)
    save_screenshot(page, "30-progress")
    page.set_viewport_size({"width": 768, "height": 1024})
    save_screenshot(page, "31-progress-tablet")
    # On a phone the charts' labels stay readable (11 px or more), the chart scrolling
    # sideways in its frame rather than the page.
    set_viewport(page, "phone")
    chart = page.locator(".chart-figure").first
    label = chart.locator("text").filter(has_text="Pain (0-10)")
    box = label.bounding_box()
    assert box is not None and box["width"] >= 11, box  # the rotated label: its width is its height
    ticks = chart.locator("text[y='254']")
    heights = [
        b["height"] for b in (ticks.nth(i).bounding_box() for i in range(ticks.count())) if b
    ]
    assert heights and min(heights) >= 11, heights
    assert_fits_width(page)
    save_screenshot(page, "31-progress-phone")

    page.goto("/")
    expect(
        page.get_by_role("link", name="with a clinically important fall in pain")
    ).to_be_visible()
    save_screenshot(page, "32-overview")
