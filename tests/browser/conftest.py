"""Browser fixtures: the app on a real port, headless Chromium, screenshots, strict pages."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)
from werkzeug.serving import make_server

from clinic import create_app
from clinic.extensions import db
from tests.conftest import IN_CI, make_test_config

# expect() waits as long as the page actions do (see open_page below).
expect.set_options(timeout=20_000)

BROWSER_DIR = Path(__file__).resolve().parent
SCREENSHOT_DIR = BROWSER_DIR / "screenshots"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
LOCAL_HOST = "127.0.0.1"

VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": ViewportSize(width=1280, height=800),
    "tablet": ViewportSize(width=768, height=1024),
    "phone": ViewportSize(width=390, height=844),
}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, so only mark the ones under tests/browser.
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------------------------------------
# Pages that complain fail the test


@dataclass
class PageGuard:
    """What the pages of one test did wrong: console errors, page errors, remote requests."""

    problems: list[str] = dataclass_field(default_factory=list)

    def watch(self, page: Page) -> None:
        """Record every console error and uncaught page error of a page."""
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            self.problems.append(
                f"console error: {message.text}" + (f" ({where})" if where else "")
            )

    def route(self, route: Route) -> None:
        """Let requests to the app through; refuse and record any other host."""
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname == LOCAL_HOST:
            route.continue_()
            return
        self.problems.append(f"request to another host (the app must work offline): {url}")
        route.abort("blockedbyclient")


GUARD_KEY = pytest.StashKey[PageGuard]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Fail a browser test whose pages logged errors or reached beyond 127.0.0.1."""
    try:
        result = yield
    except BaseException as error:
        guard = item.stash.get(GUARD_KEY, None)
        if guard and guard.problems:
            error.add_note("The browser also reported:\n  " + "\n  ".join(guard.problems))
        raise
    guard = item.stash.get(GUARD_KEY, None)
    if guard and guard.problems:
        pytest.fail(
            "The browser reported problems:\n  " + "\n  ".join(guard.problems), pytrace=False
        )
    return result


# ---------------------------------------------------------------------------------------------
# Chromium


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (or $CLINIC_CHROMIUM); skipped when missing, failed when CI=true."""
    path = os.environ.get("CLINIC_CHROMIUM", DEFAULT_CHROMIUM)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        message = f"Chromium not found at {path}: browser tests skipped"
        if IN_CI:
            pytest.fail(
                f"Chromium not found at {path}: CI=true, so the browser tests must run. "
                "Install Debian's chromium package or set CLINIC_CHROMIUM.",
                pytrace=False,
            )
        pytest.skip(f"{message} (install Debian's chromium or set CLINIC_CHROMIUM)")
    return path


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    """One Playwright driver for the whole run."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright, chromium_path: str) -> Iterator[Browser]:
    """Headless Chromium, launched once per run."""
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


# ---------------------------------------------------------------------------------------------
# The app on a real port


@pytest.fixture
def live_app(database_url: str) -> Iterator[Flask]:
    """The app on a fresh database (SQLite or PostgreSQL, as --backend says)."""
    app = create_app(make_test_config(database_url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """Serve the app on 127.0.0.1 on a free port; yield its base URL."""
    server = make_server(LOCAL_HOST, 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------------------------------------
# Pages


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(
    browser: Browser, live_server: str, request: pytest.FixtureRequest
) -> Iterator[NewPage]:
    """Open a page in a fresh browser context: new_page("desktop" | "tablet" | "phone")."""
    guard = PageGuard()
    request.node.stash[GUARD_KEY] = guard
    contexts: list[BrowserContext] = []

    def open_page(viewport: str = "desktop") -> Page:
        small = viewport != "desktop"
        context = browser.new_context(
            base_url=live_server,
            viewport=VIEWPORTS[viewport],
            is_mobile=viewport == "phone",
            has_touch=small,
            locale="en-GB",
            timezone_id="UTC",
        )
        # Generous: a loaded 2-core machine can take seconds to answer; tests wait on
        # conditions, never on fixed sleeps, so a long limit costs nothing when all is well.
        context.set_default_timeout(20_000)
        context.set_default_navigation_timeout(30_000)
        context.route("**/*", guard.route)
        context.on("page", guard.watch)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A desktop-sized page (1280 x 800) whose base URL is the live server."""
    return new_page("desktop")


def set_viewport(page: Page, viewport: str) -> None:
    """Resize a page to one of VIEWPORTS, keeping its sign-in."""
    page.set_viewport_size(VIEWPORTS[viewport])


def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of the page into tests/browser/screenshots/ and return its path."""
    page.wait_for_load_state("load")  # the stylesheet, not only the DOM
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    # A full-page shot keeps the first screen's viewport, so a sticky bar would be painted
    # halfway down the picture; let it sit at the end of its form instead. Set through the
    # DOM, not screenshot(style=...): that injects a <style> the app's CSP refuses.
    if full_page:
        page.evaluate(
            "document.querySelectorAll('.actions--sticky').forEach("
            "el => el.style.setProperty('position', 'static', 'important'))"
        )
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], Path]:
    """screenshot(name): a full-page PNG of the default page in tests/browser/screenshots/."""

    def take(name: str) -> Path:
        return save_screenshot(page, name)

    return take


def field(scope: Page | Locator, label: str) -> Locator:
    """Find a form control by its label, ignoring the "required" marker after the text."""
    return scope.get_by_label(re.compile(rf"^\s*{re.escape(label)}(\s+required)?\s*$"))
