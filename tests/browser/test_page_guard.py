"""The safety net of the browser tests: page errors and remote requests are caught."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import GUARD_KEY


def test_guard_records_errors_and_blocks_other_hosts(
    page: Page, request: pytest.FixtureRequest
) -> None:
    guard = request.node.stash[GUARD_KEY]
    page.goto("/login")
    # Wait for the events themselves: the guard's listeners were added first, so they have
    # recorded each one by the time these waits end.
    with (
        page.expect_event("pageerror"),
        page.expect_console_message(lambda message: "fonts.example.com" in message.text),
    ):
        page.evaluate("console.error('deliberate console error')")
        page.evaluate("setTimeout(() => { throw new Error('deliberate page error'); })")
        # The app's CSP (connect-src 'self') refuses this in the page, with a console error.
        page.evaluate("fetch('https://fonts.example.com/font.woff2').catch(() => null)")
    problems = "\n".join(guard.problems)
    assert "console error: deliberate console error" in problems
    assert "page error: deliberate page error" in problems
    assert "Content Security Policy" in problems
    assert "https://fonts.example.com/font.woff2" in problems

    # A navigation is not the CSP's business: the guard's route refuses it and records it.
    with page.expect_event("requestfailed"):
        page.evaluate("window.location.href = 'https://fonts.example.com/page'")
    problems = "\n".join(guard.problems)
    assert "request to another host" in problems
    assert "https://fonts.example.com/page" in problems
    # The guard did its job; clear it so this test itself passes.
    guard.problems.clear()
