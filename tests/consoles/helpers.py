"""Driving the consoles as staff do: a logged-in HTTP client for the forms, and keyboard
steps for the browser."""
from __future__ import annotations

from fastapi.testclient import TestClient

from tests.accounts.conftest import PASSWORD

ORIGIN = {"Origin": "http://testserver"}  # what a browser sends with a form


def logged_in(client: TestClient, username: str) -> TestClient:
    """Log ``client`` in through the page's form (the session cookie stays in it)."""
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "next": "/console"}, headers=ORIGIN,
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def post_form(client: TestClient, path: str, **fields):
    """Send a console's form as the browser does, without following the redirect."""
    return client.post(path, data=fields, headers=ORIGIN, follow_redirects=False)


def tab_to(page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
