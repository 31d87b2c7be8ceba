"""The one request edge, walked from outside: every input the API documents is bounded, every
route and page answers a refusal in the one shape (problem details for programs, a page in the
reader's language for people), free text refuses what no person types, and an id of another's
is told as a missing one."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from cloud.sessions import service as sessions
from tests.security.conftest import ADMIN
from tests.security.test_api_probes import booking_of, cookie_login

HUGE = 2**64 + 5
NASTY = ["a\x00b", "a\u202eb", "a\x1b[31mb"]
# routes that hold a stream open on success: walked with a site that does not exist
STREAMS = {"/api/live/events": {"site": "nowhere"}}


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _leaves(schema: dict, spec: dict, where: str):
    """Every scalar schema a request may carry under ``schema``, with where it is."""
    schema = _resolve(schema, spec)
    for key in ("anyOf", "oneOf", "allOf"):
        for i, part in enumerate(schema.get(key, [])):
            yield from _leaves(part, spec, f"{where}|{i}")
    if schema.get("type") == "array":
        yield from _leaves(schema.get("items", {}), spec, f"{where}[]")
    elif schema.get("type") == "object" or "properties" in schema:
        for name, part in schema.get("properties", {}).items():
            yield from _leaves(part, spec, f"{where}.{name}")
    elif schema.get("type") in ("integer", "string", "number"):
        yield where, schema


def _inputs(spec: dict):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                yield from _leaves(parameter["schema"], spec,
                                   f"{method.upper()} {path} {parameter['in']}:{parameter['name']}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield from _leaves(body["schema"], spec, f"{method.upper()} {path} body")


def _unbounded(schema: dict) -> str | None:
    if "enum" in schema or "const" in schema:
        return None
    if schema["type"] in ("integer", "number"):
        return None if "maximum" in schema and "minimum" in schema else "an unbounded number"
    if schema.get("format") in ("date", "date-time"):
        return None  # parsed and bounded by the one instant and day types
    if "maxLength" not in schema:
        return "a string without maxLength"
    if "pattern" not in schema and "format" not in schema:
        return "a string whose characters are not checked (no pattern)"
    return None


def test_every_documented_input_is_bounded_and_every_text_checked(app):
    spec = app.openapi()
    found = [f"{where}: {why}" for where, schema in _inputs(spec)
             if (why := _unbounded(schema))]
    assert found == []


def test_every_refusal_is_documented_as_the_one_problem_shape(app):
    spec = app.openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            default = operation["responses"]["default"]["content"]
            assert "application/problem+json" in default, (method, path)


def _filled(path: str, value) -> str:
    return re.sub(r"\{[^}]+\}", str(value), path)


def _walk(client, spec: dict, value):
    for path, operations in spec["paths"].items():
        for method in operations:
            params = STREAMS.get(path, {})
            yield method, path, client.request(method, _filled(path, value), headers=ADMIN,
                                                params=params, json={})


@pytest.mark.parametrize("value", [HUGE, "zz-nowhere"])
def test_every_api_route_refuses_in_the_one_problem_shape(client, app, value):
    for method, path, answer in _walk(client, app.openapi(), value):
        assert answer.status_code < 500, (method, path, answer.text)
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/problem+json", (method, path)
            problem = answer.json()
            assert problem["type"] == problem["reason"] and problem["status"] == \
                answer.status_code and problem["detail"], (method, path, problem)
            assert str(value) not in problem["detail"], (method, path)  # input never echoed


def _routes(routes, prefix: str = ""):
    """Every route with its full path, through the routers the app includes."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes, prefix + route.include_context.prefix
                               + included.prefix)
        else:
            yield prefix + getattr(route, "path", ""), route


def _page_routes(app):
    found = list(_routes(app.routes))
    assert any(path.startswith("/sessions/{") for path, _ in found)  # the walk sees pages
    for path, route in found:
        if path.startswith(("/api", "/static", "/metrics", "/healthz", "/readyz", "/docs")):
            continue
        for method in sorted(getattr(route, "methods", ()) or ()):
            if method in ("GET", "POST"):
                yield method, path


@pytest.mark.parametrize("value", [HUGE, "zz-nowhere"])
def test_every_page_refuses_with_a_page_in_the_readers_language(client, app, value):
    cookie_login(client, "admin")
    for method, path in _page_routes(app):
        if "{" not in path:
            continue
        answer = client.request(method, _filled(path, value) + "?lang=sv",
                                headers={"Accept": "text/html", "Origin": "http://testserver"},
                                follow_redirects=False)
        assert answer.status_code < 500, (method, path, answer.text[:300])
        if answer.status_code >= 400:
            assert answer.headers["content-type"].startswith("text/html"), (method, path)
            assert 'lang="sv"' in answer.text and "refusal" in answer.text, (method, path)


def test_a_date_beyond_the_calendar_in_the_booking_form_is_told_on_the_form(client):
    cookie_login(client, "adv-porvoo")
    answer = client.post("/console/advisor/bookings", headers={
        "Accept": "text/html", "Origin": "http://testserver"}, data={
        "site": "porvoo", "service": "kela-benefits", "date": "9999-12-31", "time": "10:00",
        "name": "Maija", "minutes": "30"})
    assert answer.status_code == 422 and "create-date" in answer.text


def _booking(client) -> int:
    return booking_of(client.app, "porvoo", "kela-benefits")


def _session_of(app, site: str, authority: str, service_id: str) -> int:
    now = app.state.clock()
    with app.state.sessionmaker() as db:
        opened = sessions.open_session(
            db=db, settings=app.state.session_settings, site=site, room="r1",
            authority=authority, service=service_id, slot_start=now,
            slot_end=now + timedelta(minutes=30), created_by="test", now=now)
        db.commit()
        return opened.id


@pytest.mark.parametrize("text", NASTY)
def test_free_text_refuses_control_and_direction_characters_everywhere(client, text):
    booking = _booking(client)
    day = "2025-11-20"
    sent = [
        ("POST", f"/api/bookings/{booking}/cancel", {"reason": text}),
        ("POST", "/api/bookings/sites/porvoo/rooms/r1/closures",
         {"start": "2025-11-20T08:00:00Z", "end": "2025-11-20T10:00:00Z", "reason": text}),
        ("PUT", f"/api/bookings/sites/porvoo/exceptions/{day}", {"hours": [], "reason": text}),
        ("POST", "/api/incidents/silences", {"site": "porvoo", "reason": text,
                                             "starts_at": "2025-11-20T08:00:00Z",
                                             "ends_at": "2025-11-20T10:00:00Z"}),
        ("POST", "/api/incidents", {"site": "porvoo", "category": "space", "summary": text}),
    ]
    for method, path, body in sent:
        answer = client.request(method, path, headers=ADMIN, json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert text not in answer.text


def test_an_unknown_site_in_a_report_is_refused_without_echoing_it(client):
    answer = client.post("/api/incidents", headers=ADMIN, json={
        "site": "atlantis-secret", "category": "space", "summary": "the door sticks"})
    assert answer.status_code == 422 and "atlantis" not in answer.text


@pytest.mark.parametrize("authorization", ["Basic YWRtaW46eA==", "Negotiate abc", "Bearer",
                                           "Bearer "])
def test_a_cookie_with_any_other_authorization_is_refused_not_answered_by_the_cookie(
        client, authorization):
    booking = _booking(client)  # (moves the app's clock to the visit)
    cookie_login(client, "adv-porvoo")  # the session rides on the cookie
    read = client.get("/api/accounts/me", headers={"Authorization": authorization})
    assert read.status_code == 401 and read.json()["reason"] == "not_authenticated"
    change = client.post(f"/api/bookings/{booking}/check-in",
                         headers={"Authorization": authorization})
    assert change.status_code in (401, 403)  # no Origin, no bearer: the cross-site check
    assert client.get("/api/accounts/me").status_code == 200  # the cookie alone still works


def test_a_third_party_refused_at_the_identity_providers_callback_reads_a_page_in_swedish(
        client):
    answer = client.get("/api/sessions/invite/callback?code=x&state=y&lang=sv",
                        headers={"Accept": "text/html"})
    assert answer.status_code in (403, 404)
    assert answer.headers["content-type"].startswith("text/html")
    shown = answer.text.split("<main")[1].split("</main>")[0]
    assert 'lang="sv"' in answer.text and "{" not in shown and "bad_" not in shown


def test_an_expert_on_another_authoritys_session_page_reads_a_page_not_json(client):
    session_id = _session_of(client.app, "imatra", "poliisi", "poliisi-permits")
    cookie_login(client, "exp-kela")
    answer = client.get(f"/sessions/{session_id}", headers={"Accept": "text/html"})
    missing = client.get(f"/sessions/{session_id + 1000}", headers={"Accept": "text/html"})
    assert answer.status_code == missing.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Sivua ei ole" in answer.text and "session.read" not in answer.text


@pytest.mark.browser
@pytest.mark.parametrize("lang,title", [("fi", "Tunnistautuminen ei onnistunut"),
                                        ("sv", "Identifieringen lyckades inte"),
                                        ("en", "The identification did not succeed")])
def test_the_refusal_page_reads_well_in_each_language_at_both_widths(chromium, app, lang,
                                                                     title):
    from tests.pages import browser_page, checked, served

    with served(app) as base, browser_page(chromium) as page:
        page.goto(f"{base}/sessions/invite/affirm?lang={lang}")  # no pending login: refused
        assert page.get_by_role("heading", level=1).inner_text() == title
        assert page.locator("html").get_attribute("lang") == lang
        assert page.get_by_role("link", name="Takaisin konsoliin").count() == 0  # not staff
        checked(page, f"refusal-{lang}")
