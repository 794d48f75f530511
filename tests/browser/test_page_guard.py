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
    page.evaluate("console.error('deliberate console error')")
    page.evaluate("setTimeout(() => { throw new Error('deliberate page error'); })")
    # The app's CSP (connect-src 'self') refuses this in the page itself, with a console error.
    page.evaluate("fetch('https://fonts.example.com/font.woff2').catch(() => null)")
    page.wait_for_timeout(100)
    problems = "\n".join(guard.problems)
    assert "console error: deliberate console error" in problems
    assert "page error: deliberate page error" in problems
    assert "Content Security Policy" in problems
    assert "https://fonts.example.com/font.woff2" in problems

    # A navigation is not the CSP's business: the guard's route refuses it and records it.
    page.evaluate("window.location.href = 'https://fonts.example.com/page'")
    page.wait_for_timeout(200)
    problems = "\n".join(guard.problems)
    assert "request to another host" in problems
    assert "https://fonts.example.com/page" in problems
    # The guard did its job; clear it so this test itself passes.
    guard.problems.clear()
