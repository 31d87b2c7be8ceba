"""Probes at the API that once got through: cross-site changes, ids past the database's
integers, absurd spans and names, answers that told more than they should, pages without
security headers, fleet data for anyone with the admin token only, open metrics."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cloud.accounts.models import AuditEntry
from cloud.bookings import service as bookings
from cloud.bookings.service import BookingRules, Customer
from tests.accounts.conftest import NOW, PASSWORD, login
from tests.security.conftest import ADMIN

EVIL = {"Origin": "https://evil.example"}
OWN = {"Origin": "http://testserver"}


def booking_of(app, site="porvoo", service="kela-benefits") -> int:
    """A booking at 11:00 that has begun five minutes ago by the app's clock."""
    start = NOW + timedelta(hours=3)
    with app.state.sessionmaker() as session:
        booking = bookings.create_booking(
            session, BookingRules.load(app.state.registry), site=site, service=service,
            start=start, minutes=30, channel="on_site", customer=Customer(name="M"),
            actor="setup", now=NOW)
        session.commit()
    app.state.clock.now = start + timedelta(minutes=5)
    return booking.id


def incident_of(client, site="porvoo") -> int:
    answer = client.post("/api/incidents", headers=ADMIN, json={
        "site": site, "room": "r1", "category": "furniture", "owner": "host",
        "summary": "chair broken"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def cookie_login(client, username: str) -> None:
    """Log in as a browser does: the session rides on the cookie alone."""
    answer = client.post("/api/accounts/login", json={"username": username,
                                                      "password": PASSWORD}, headers=OWN)
    assert answer.status_code == 200 and "etp_session" in client.cookies


# --- cross-site request forgery ---------------------------------------------------------------

BODYLESS = [("incidents", "acknowledge"), ("incidents", "resolve"), ("bookings", "check-in"),
            ("bookings", "no-show")]


@pytest.mark.parametrize("kind,action", BODYLESS)
def test_a_cookie_authenticated_change_from_another_site_is_refused(client, app, kind, action):
    target = incident_of(client) if kind == "incidents" else booking_of(app)
    cookie_login(client, "admin")
    path = f"/api/{kind}/{target}/{action}"
    assert client.post(path, headers=EVIL).status_code == 403
    assert client.post(path).status_code == 403  # no Origin, no Referer: not provably ours
    assert client.post(path, headers={"Referer": "https://evil.example/x"}).status_code == 403
    assert client.post(path, headers=OWN).status_code == 200


def test_a_bearer_token_client_needs_no_origin(client, app):
    target = booking_of(app)
    assert client.post(f"/api/bookings/{target}/check-in", headers=ADMIN).status_code == 200


def test_a_login_posted_from_another_site_is_refused(client):
    answer = client.post("/api/accounts/login", headers=EVIL,
                         json={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 403 and "etp_session" not in client.cookies


# --- ids, spans, names --------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/bookings/{id}"), ("POST", "/api/bookings/{id}/check-in"),
    ("GET", "/api/incidents/{id}"), ("POST", "/api/incidents/{id}/acknowledge"),
    ("DELETE", "/api/incidents/silences/{id}"),
    ("DELETE", "/api/bookings/sites/porvoo/rooms/r1/closures/{id}")])
@pytest.mark.parametrize("row_id", [2**63, 2**64 + 5, 0, -1])
def test_an_id_outside_the_databases_integers_is_a_clear_422(client, method, path, row_id):
    answer = client.request(method, path.format(id=row_id), headers=ADMIN)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"][0] == "path"


@pytest.mark.parametrize("start,end,reason", [
    ("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "year is outside 2000-2099"),
    ("2001-01-01T00:00:00Z", "2098-12-31T00:00:00Z", "closure"),  # sane years, absurd span
])
def test_a_room_closure_of_millennia_or_of_a_century_is_refused(client, start, end, reason):
    answer = client.post("/api/bookings/sites/porvoo/rooms/r1/closures", headers=ADMIN, json={
        "start": start, "end": end, "reason": "forever"})
    assert answer.status_code == 422, answer.text
    assert reason in str(answer.json()["detail"])


def test_a_room_closure_can_be_ended_and_the_room_is_bookable_again(client):
    day = (NOW + timedelta(days=2)).date().isoformat()
    query = {"site": "porvoo", "service": "kela-benefits", "first": day, "last": day}
    free = client.get("/api/bookings/availability", params=query, headers=ADMIN).json()
    assert free
    closure = client.post("/api/bookings/sites/porvoo/rooms/r1/closures", headers=ADMIN, json={
        "start": (NOW + timedelta(days=1)).isoformat(),
        "end": (NOW + timedelta(days=30)).isoformat(), "reason": "renovation"}).json()
    assert client.get("/api/bookings/availability", params=query, headers=ADMIN).json() == []
    path = f"/api/bookings/sites/porvoo/rooms/r1/closures/{closure['closure']}"
    assert client.delete(path, headers=ADMIN).status_code == 204
    assert client.get("/api/bookings/availability", params=query, headers=ADMIN).json() == free
    assert client.delete(path, headers=ADMIN).status_code == 404


@pytest.mark.parametrize("silence,reason", [
    ({"site": "porvoo", "ends_at": "9999-01-01T00:00:00Z"}, "year is outside"),
    ({"site": "porvoo", "ends_at": "2099-01-01T00:00:00Z"}, "lasts at most"),
    ({"site": "espoo"}, "unknown site"),
    ({"site": "porvoo", "room": "r9"}, "no such room"),
    ({"site": "porvoo", "room": "r1", "device": "toaster"}, "device"),
])
def test_a_silence_of_millennia_or_of_rooms_that_do_not_exist_is_refused(client, silence,
                                                                          reason):
    now = datetime.now(UTC)
    body = {"starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat(),
            "reason": "maintenance", **silence}
    answer = client.post("/api/incidents/silences", headers=ADMIN, json=body)
    assert answer.status_code == 422 and reason in str(answer.json()["detail"]), answer.text


@pytest.mark.parametrize("name", ["Matti\x00Meikäläinen", "Matti \u202eninetsiäläkieM",
                                  "a\u2066b", "line\nbreak"])
def test_a_customer_name_with_control_or_direction_override_characters_is_refused(client,
                                                                                   name):
    start = (NOW + timedelta(days=2)).replace(hour=8, minute=0)
    answer = client.post("/api/bookings", headers=ADMIN, json={
        "site": "porvoo", "service": "kela-benefits", "start": start.isoformat(),
        "channel": "on_site", "customer": {"name": name}})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["body", "customer", "name"]
    assert name not in answer.text


# --- what a refusal tells -----------------------------------------------------------------------

@pytest.mark.parametrize("username", ["adv-imatra", "sup-elisa", "exp-kela"])
def test_another_sites_incident_and_a_missing_one_get_the_same_answer(client, app, username):
    existing = incident_of(client, "porvoo")
    headers = login(client, username)
    client.cookies.clear()
    there = client.get(f"/api/incidents/{existing}", headers=headers)
    missing = client.get(f"/api/incidents/{existing + 1000}", headers=headers)
    assert (there.status_code, there.json()) == (missing.status_code, missing.json())
    assert there.status_code == 404 and "porvoo" not in there.text


def test_another_sites_booking_and_a_missing_one_get_the_same_answer(client, app):
    existing = booking_of(app, "imatra", "poliisi-permits")
    headers = login(client, "adv-porvoo")
    client.cookies.clear()
    there = client.get(f"/api/bookings/{existing}", headers=headers)
    missing = client.get(f"/api/bookings/{existing + 1000}", headers=headers)
    assert (there.status_code, there.json()) == (missing.status_code, missing.json()) \
        == (404, {"type": "not_found", "title": "Not Found", "status": 404,
                  "detail": "no such booking", "reason": "not_found"})


# --- headers on every page ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/docs", "/openapi.json", "/static/status.js",
                                  "/api/accounts/me", "/metrics", "/no/such/page",
                                  "/api/incidents/links/unknown"])
def test_every_page_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_the_api_docs_load_every_asset_from_this_server(client):
    page = client.get("/docs").text
    assert "http" not in page.replace("http-equiv", "")
    for asset in ("/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css",
                  "/static/docs.js"):
        assert asset in page and client.get(asset).status_code == 200


# --- fleet, rooms and ingest for staff, scoped and audited -------------------------------------

def test_an_advisor_reads_the_fleet_of_their_own_sites_only(client, app):
    headers = login(client, "adv-porvoo")
    sites = [s["site"] for s in client.get("/api/fleet", headers=headers).json()["sites"]]
    assert sites == ["porvoo"]
    assert client.get("/api/rooms/porvoo/r1", headers=headers).status_code == 200
    other = client.get("/api/rooms/imatra/r1", headers=headers)
    missing = client.get("/api/rooms/espoo/r9", headers=headers)
    assert other.status_code == missing.status_code == 403 and other.json() == missing.json()
    assert client.get("/api/ingest/counters", headers=headers).status_code == 403
    with app.state.sessionmaker() as session:
        seen = [(e.action, e.outcome, e.resource) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.actor == "adv-porvoo",
                                     AuditEntry.action == "fleet.read"))]
    assert seen == [("fleet.read", "allowed", "site:porvoo"),
                    ("fleet.read", "allowed", "room:porvoo/r1"),
                    ("fleet.read", "refused", "room:imatra/r1"),
                    ("fleet.read", "refused", "room:espoo/r9")]


def test_a_support_party_reads_every_room_and_the_ingest_counters(client):
    headers = login(client, "sup-elisa")
    fleet = client.get("/api/fleet", headers=headers).json()
    assert [s["site"] for s in fleet["sites"]] == ["porvoo", "imatra", "nurmes"]
    assert client.get("/api/ingest/counters", headers=headers).status_code == 200


@pytest.mark.parametrize("username", ["exp-kela", "tel-kela"])
def test_experts_and_phone_agents_see_no_fleet(client, username):
    headers = login(client, username)
    for path in ("/api/fleet", "/api/rooms/porvoo/r1", "/api/ingest/counters"):
        assert client.get(path, headers=headers).status_code == 403, path


def test_the_status_page_takes_no_token_from_its_address(client):
    script = client.get("/static/status.js").text
    assert "location" not in script and "localStorage" not in script
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"


# --- metrics ------------------------------------------------------------------------------------

def test_metrics_need_the_metrics_token(client, app):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=ADMIN).status_code == 200  # no metrics token set
    from pydantic import SecretStr

    app.state.web_settings.metrics_token = SecretStr("scrape-token-of-this-test")
    assert client.get("/metrics", headers=ADMIN).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-of-this-test"})
    assert answer.status_code == 200 and "etp_agent_online" in answer.text
