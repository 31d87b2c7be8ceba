"""Every endpoint x every role x organisation, through the real app: a request outside the
caller's organisation or site is refused (403, audited); one inside it is not."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cloud.accounts.models import AuditEntry
from cloud.bookings import service as bookings
from cloud.bookings.service import BookingRules, Customer
from tests.accounts.conftest import ADMIN_TOKEN, NOW, STAFF, add_staff, login, make_app

# Two targets in different sites and authorities, each with its own booking.
TARGETS = {
    "porvoo-kela": {"site": "porvoo", "authority": "kela", "service": "kela-benefits",
                    "start": datetime(2025, 11, 12, 8, 0, tzinfo=UTC)},
    "imatra-poliisi": {"site": "imatra", "authority": "poliisi", "service": "poliisi-permits",
                       "start": datetime(2025, 11, 13, 8, 0, tzinfo=UTC)},
}

# Who may do each endpoint, written out independently of the code's rule table:
# "site" = an advisor of the target's site, "authority" = staff of the target's authority.
EVERYONE = {"advisor": "any", "expert": "any", "phone_agent": "any", "support": "any",
            "admin": "any"}
READ = {"advisor": "site", "expert": "authority", "phone_agent": "authority", "admin": "any"}
BOOK = {"advisor": "site", "phone_agent": "authority", "admin": "any"}
DESK = {"advisor": "site", "admin": "any"}
ADMIN_ONLY = {"admin": "any"}


def endpoints(t: dict, booking_id: int) -> list[tuple[str, str, str, dict, dict]]:
    """(method, route path, concrete path, request kwargs, who may)."""
    site, b = t["site"], booking_id
    day = {"first": "2025-11-17", "last": "2025-11-18"}
    later = t["start"].replace(day=20).isoformat()
    customer = {"name": "T. T.", "language": "fi"}
    return [
        ("GET", "/api/bookings/services", "/api/bookings/services", {"params": {"site": site}},
         EVERYONE),
        ("GET", "/api/bookings/availability", "/api/bookings/availability",
         {"params": {"site": site, "service": t["service"], **day}}, READ),
        ("POST", "/api/bookings", "/api/bookings", {"json": {
            "site": site, "service": t["service"], "start": later, "minutes": 30,
            "channel": "phone_service", "customer": customer}}, BOOK),
        ("POST", "/api/bookings/walk-in", "/api/bookings/walk-in", {"json": {
            "site": site, "service": t["service"], "customer": customer}}, DESK),
        ("GET", "/api/bookings/{booking_id}", f"/api/bookings/{b}", {}, READ),
        ("GET", "/api/bookings/{booking_id}/changes", f"/api/bookings/{b}/changes", {}, READ),
        ("POST", "/api/bookings/{booking_id}/move", f"/api/bookings/{b}/move",
         {"json": {"start": later}}, BOOK),
        ("POST", "/api/bookings/{booking_id}/cancel", f"/api/bookings/{b}/cancel",
         {"json": {"reason": "customer called"}}, BOOK),
        ("POST", "/api/bookings/{booking_id}/check-in", f"/api/bookings/{b}/check-in", {}, DESK),
        ("POST", "/api/bookings/{booking_id}/no-show", f"/api/bookings/{b}/no-show", {}, DESK),
        ("POST", "/api/bookings/{booking_id}/complete", f"/api/bookings/{b}/complete",
         {"json": {"realised_start": "2025-11-10T05:00:00Z",
                   "realised_end": "2025-11-10T05:20:00Z"}},
         {"advisor": "site", "expert": "authority", "admin": "any"}),
        ("GET", "/api/bookings/sites/{site}/day", f"/api/bookings/sites/{site}/day",
         {"params": {"day": "2025-11-12"}}, DESK),
        ("GET", "/api/bookings/authorities/{authority}",
         f"/api/bookings/authorities/{t['authority']}", {"params": day},
         {"expert": "authority", "phone_agent": "authority", "admin": "any"}),
        ("POST", "/api/bookings/sites/{site}/rooms/{room}/closures",
         f"/api/bookings/sites/{site}/rooms/r1/closures",
         {"json": {"start": "2025-12-01T07:00:00Z", "end": "2025-12-01T08:00:00Z",
                   "reason": "maintenance"}}, DESK),
        ("DELETE", "/api/bookings/sites/{site}/rooms/{room}/closures/{closure_id}",
         f"/api/bookings/sites/{site}/rooms/r1/closures/999999", {}, DESK),
        ("GET", "/api/bookings/sites/{site}/rooms/{room}/affected",
         f"/api/bookings/sites/{site}/rooms/r1/affected",
         {"params": {"start": "2025-11-12T00:00:00Z"}},
         {"advisor": "site", "support": "any", "admin": "any"}),
        ("PUT", "/api/bookings/sites/{site}/exceptions/{day}",
         f"/api/bookings/sites/{site}/exceptions/2025-12-02",
         {"json": {"hours": ["10:00-12:00"], "reason": "staff training"}}, DESK),
        ("POST", "/api/bookings/purge", "/api/bookings/purge", {}, ADMIN_ONLY),
        ("GET", "/api/accounts/me", "/api/accounts/me", {}, EVERYONE),
        ("GET", "/api/accounts/staff", "/api/accounts/staff", {}, ADMIN_ONLY),
        ("POST", "/api/accounts/staff", "/api/accounts/staff", {"json": {
            "username": f"new-{site}", "display_name": "N", "role": "expert",
            "organisation": "kela"}}, ADMIN_ONLY),
        ("GET", "/api/accounts/audit", "/api/accounts/audit", {}, ADMIN_ONLY),
    ]


PUBLIC = {("POST", "/api/accounts/login"), ("POST", "/api/accounts/logout")}


def expected_allowed(username: str, who: dict, target: dict) -> bool:
    role, organisation, sites = STAFF[username]
    scope = who.get(role)
    return scope == "any" or (scope == "site" and target["site"] in sites) or \
        (scope == "authority" and target["authority"] == organisation)


@pytest.fixture(scope="module")
def world(tmp_path_factory, migrated_file):
    app = make_app(tmp_path_factory.mktemp("matrix"), NOW, migrated_file)
    add_staff(app, NOW)
    rules = BookingRules.load(app.state.registry)
    ids = {}
    with app.state.sessionmaker() as session:
        for name, t in TARGETS.items():
            ids[name] = bookings.create_booking(
                session, rules, site=t["site"], service=t["service"], start=t["start"],
                minutes=30, channel="on_site", customer=Customer(name="M"), actor="setup",
                now=NOW).id
        session.commit()
    with TestClient(app) as client:
        headers = {name: login(client, name) for name in STAFF}
        client.cookies.clear()
        yield app, client, headers, ids


def test_the_matrix_covers_every_route_of_bookings_and_accounts(world):
    app = world[0]
    routes = {(method.upper(), path) for path, item in app.openapi()["paths"].items()
              if path.startswith(("/api/bookings", "/api/accounts"))
              and not path.startswith("/api/accounts/oidc") for method in item}
    listed = {(m, p) for m, p, *_ in endpoints(TARGETS["porvoo-kela"], 1)}
    assert routes - PUBLIC == listed


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("username", STAFF)
def test_every_request_outside_the_callers_scope_is_refused(world, username, target):
    app, client, headers, ids = world
    refused_before = _refusals(app, username)
    refused = 0
    for method, route, path, kwargs, who in endpoints(TARGETS[target], ids[target]):
        answer = client.request(method, path, headers=headers[username], **kwargs)
        if expected_allowed(username, who, TARGETS[target]):
            assert answer.status_code not in (401, 403), (route, answer.text)
            assert answer.status_code < 500, (route, answer.text)
        else:
            # a thing reached by its id is "not found", as a missing one; the rest "not allowed"
            assert (answer.status_code, answer.json()["reason"]) in (
                (403, "not_allowed"), (404, "not_found")), (method, route, answer.text)
            refused += 1
    assert _refusals(app, username) - refused_before == refused  # each refusal audited


def test_without_credentials_every_endpoint_answers_401(world):
    _, client, _, ids = world
    for method, route, path, kwargs, _ in endpoints(TARGETS["porvoo-kela"], ids["porvoo-kela"]):
        assert client.request(method, path, **kwargs).status_code == 401, route
    bad = {"Authorization": "Bearer not-a-session"}
    assert client.get("/api/accounts/me", headers=bad).status_code == 401
    token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert client.get("/api/accounts/me", headers=token).json()["role"] == "admin"


def test_a_booking_of_another_site_is_refused_even_by_guessing_its_id(world):
    _, client, headers, ids = world
    another = client.get(f"/api/bookings/{ids['imatra-poliisi']}", headers=headers["adv-porvoo"])
    missing = client.get("/api/bookings/999999", headers=headers["adv-porvoo"])
    assert another.status_code == missing.status_code == 404
    assert another.json() == missing.json()  # no hint whether the id exists


def _refusals(app, username: str) -> int:
    with app.state.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.actor == username, AuditEntry.outcome == "refused"))
