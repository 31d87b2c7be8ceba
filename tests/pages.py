"""Pages in a real browser: Debian's Chromium driven by Playwright, the app served by uvicorn
on a free loopback port, screenshots at a laptop's and a phone's width under one artefacts
folder, and axe-core's accessibility check (WCAG 2.1 A and AA rules).

    def test_x(chromium, app):
        with served(app) as base, staff_page(chromium, base, "advisor", PASSWORD) as page:
            ...
            at_both_widths(page, "advisor-console")
            assert_accessible(page)
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from cloud.web.serve import uvicorn_config
from tests.servers import free_port, wait_for

ARTEFACTS = Path(os.environ.get("ETP_ARTEFACTS", Path(__file__).parents[1] / "var" / "artefacts"))
LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 360, "height": 740}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 "--autoplay-policy=no-user-gesture-required"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def chromium():
    """One Chromium per test module (a new context per page keeps tests apart). Not per
    session: Playwright's sync API runs an event loop in this thread while it lives, and the
    tests of other modules run loops of their own (``asyncio.run``, pytest-asyncio)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def served(app):
    """``app`` served on a free port as the processes serve it; yields its base URL."""
    base, stop = serve(app)
    try:
        yield base
    finally:
        stop()


def serve(app):
    """Serve ``app`` on a free loopback port in a thread; returns its base URL and the
    stopper."""
    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "uvicorn started")

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
    return f"http://127.0.0.1:{port}", stop


@contextmanager
def browser_page(chromium, *, viewport: dict = LAPTOP):
    """A page in a fresh browser context; fails the test on a script error or a refusal by
    the content security policy."""
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text else None)
    try:
        yield page
        assert not errors, errors
    finally:
        context.close()


def log_in(page, base: str, username: str, password: str, *, path: str = "/console") -> None:
    """Log in through the page's form as a person would, landing on ``path``."""
    page.goto(f"{base}{path}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()


@contextmanager
def staff_page(chromium, base: str, username: str, password: str, *, path: str = "/console",
               viewport: dict = LAPTOP):
    """A browser page logged in as ``username``, showing ``path``."""
    with browser_page(chromium, viewport=viewport) as page:
        log_in(page, base, username, password, path=path)
        yield page


def at_both_widths(page, name: str) -> None:
    """Screenshot the page at a laptop's and a phone's width; at the phone's nothing may
    stick out sideways (no horizontal scrolling)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or LAPTOP
    page.set_viewport_size(LAPTOP)
    page.screenshot(path=ARTEFACTS / f"{name}-laptop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=ARTEFACTS / f"{name}-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    cut = page.evaluate("""[...document.querySelectorAll('h1, h2')]
        .filter(h => h.clientWidth > 1 && h.scrollWidth > h.clientWidth + 1)  // not the hidden
        .map(h => h.textContent.trim())""")
    assert cut == [], f"{name}: headings wider than their box at a phone's width: {cut}"
    page.set_viewport_size(original)


def accessibility_violations(page) -> list[dict]:
    """axe-core's serious and critical violations of WCAG 2.1 A/AA on the page as shown."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"] if v.get("impact") in BLOCKING]


def checked(page, name: str) -> None:
    """axe-core at a laptop's and a phone's width, then the screenshots at both."""
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        assert_accessible(page)
    page.set_viewport_size(LAPTOP)
    at_both_widths(page, name)


def assert_accessible(page) -> None:
    """Fail on any serious or critical axe-core violation, naming each."""
    violations = accessibility_violations(page)
    assert not violations, violations
