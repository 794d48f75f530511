"""Two-step sign-in in headless Chromium on a tablet: set it up, sign out, sign in with a code."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from clinic.auth import two_factor
from tests import factories
from tests.browser.conftest import VIEWPORTS, NewPage, field, save_screenshot

START = 1_800_000_015.0


class Clock:
    """The time the server's two_factor module reads (the live server runs in this process)."""

    def __init__(self) -> None:
        self.now = START


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the server's clock, so the test never waits for the app to show a new code."""
    frozen = Clock()
    monkeypatch.setattr(two_factor, "_now", lambda: frozen.now)
    return frozen


def tablet_screenshot(page: Page, name: str) -> None:
    """Save the whole page as a 768 px wide tablet shows it.

    The viewport grows to the page's height instead of asking for a full-page shot, which
    injects a <style> the Content Security Policy refuses (a console error).
    """
    tablet = VIEWPORTS["tablet"]
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    page.set_viewport_size({"width": tablet["width"], "height": max(tablet["height"], height)})
    save_screenshot(page, name, full_page=False)
    page.set_viewport_size(tablet)


def sign_in_with_password(page: Page, email: str) -> None:
    """Fill in the password step."""
    page.goto("/login")
    field(page, "Email address").fill(email)
    field(page, "Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_set_up_two_step_sign_in_then_sign_in_with_a_code(
    live_app: Flask, new_page: NewPage, clock: Clock
) -> None:
    clinic_id = factories.make_clinic(live_app, name="Riverside Massage")
    email = "tess@riverside.example"
    factories.make_user(live_app, clinic_id, email=email, full_name="Tess Lindqvist")
    page = new_page("tablet")

    sign_in_with_password(page, email)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("link", name="Two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in", level=1)).to_be_visible()
    page.get_by_role("button", name="Set up two-step sign-in").click()

    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    qr = page.locator("[data-testid=qr-code] svg")
    expect(qr).to_be_visible()
    # The heading can show before the stylesheet applies on a busy machine: wait for it.
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=qr-code] svg')"
        ".getBoundingClientRect().width <= 260"
    )
    box = qr.bounding_box()
    assert box is not None and 180 <= box["width"] <= 260 and box["width"] == box["height"]
    secret = page.get_by_test_id("secret-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    tablet_screenshot(page, "two-step-01-setup")

    totp = pyotp.TOTP(secret)
    field(page, "Code from the app").fill("000000" if totp.at(clock.now) != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_text("This code is not right.").first).to_be_visible()

    field(page, "Code from the app").fill(totp.at(clock.now))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    expect(page.get_by_text("They are shown only this once.")).to_be_visible()
    tablet_screenshot(page, "two-step-02-recovery-codes")
    page.get_by_role("link", name="I have kept them: carry on").click()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    sign_in_with_password(page, email)
    expect(page.get_by_role("heading", name="Type your sign-in code")).to_be_visible()
    tablet_screenshot(page, "two-step-03-code")
    # Half a minute later the app shows a new code (the one that turned it on is spent).
    clock.now += 30
    field(page, "Code").fill(totp.at(clock.now))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Tess Lindqvist")).to_be_visible()
    page.get_by_role("link", name="Two-step sign-in").click()
    expect(page.get_by_text("10 of 10")).to_be_visible()
    tablet_screenshot(page, "two-step-04-status")
