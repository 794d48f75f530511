"""The audit trail in headless Chromium: the owner opens a record, then sees who opened it."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from clinic.audit.trail import Actor, record_event
from clinic.extensions import db
from clinic.models import AuditAction, User
from tests import factories
from tests.browser.conftest import NewPage, field, save_screenshot, set_viewport


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    field(page, "Email address").fill(email)
    field(page, "Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_owner_sees_who_opened_a_record(live_app: Flask, new_page: NewPage) -> None:
    world = factories.make_world(live_app)
    a = world.a
    nora = factories.make_client(
        live_app, a.clinic_id, a.therapist_id, first_name="Nora", last_name="Lindgren"
    )
    # Earlier work by the therapist, so the page has a few kinds of rows to show.
    with live_app.app_context():
        for action, summary in (
            (AuditAction.VIEW, "Client page"),
            (AuditAction.CHANGE, "Changed the intake"),
            (AuditAction.PRINT, "Visit note PDF"),
        ):
            therapist = db.session.get_one(User, a.therapist_id)
            record_event(
                Actor.of(therapist, "192.0.2.10"),
                action,
                client_id=nora,
                record_type="client",
                record_id=nora,
                summary=summary,
            )
        db.session.commit()

    page = new_page("tablet")
    sign_in(page, a.owner_email)
    page.goto(f"/clients/{nora}")
    expect(page.get_by_role("heading", name="Nora Lindgren")).to_be_visible()

    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    field(page, "Client").fill("Lindgren")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")
    # The owner's own visit of a moment ago is at the top, newest first.
    expect(rows).to_have_count(4)
    top = rows.nth(0)
    expect(top).to_contain_text("Owen Owner Alpha")
    expect(top).to_contain_text("Viewed")
    expect(top).to_contain_text("Client page")
    expect(top).to_contain_text("127.0.0.1")
    expect(top.get_by_role("link", name="Nora Lindgren")).to_be_visible()
    expect(rows.nth(1)).to_contain_text("Printed")

    # The page fits a 768 px tablet: nothing runs off to the side.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    save_screenshot(page, "audit-trail-tablet", full_page=False)

    # From the client page, the owner's link narrows the trail to that client.
    page.goto(f"/clients/{nora}")
    page.get_by_role("link", name="Who opened this record").click()
    expect(page.get_by_text("Showing who opened or changed the record of")).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(5)
    set_viewport(page, "desktop")
    save_screenshot(page, "audit-trail-client-desktop", full_page=False)
