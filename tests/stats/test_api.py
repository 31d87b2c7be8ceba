"""The statistics API through the real app on the seeded month: each role reads its scope,
small counts are suppressed outside the site's own staff, and the CSV and XLSX exports give
the same figures as the JSON."""
from __future__ import annotations

import io

import openpyxl
import pytest
from fastapi.testclient import TestClient

from cloud.accounts.settings import AccountSettings
from cloud.settings import CloudSettings
from cloud.stats.export import HIDDEN
from cloud.stats.figures import FAMILIES
from cloud.web.app import create_app
from tests.stats import seed
from tests.stats.seams import SOURCES


class Clock:
    def __call__(self):
        return seed.NOW


@pytest.fixture
def client(seeded):
    url, _, registry = seeded
    app = create_app(CloudSettings(database_url=url, admin_token="stats-test-admin-token"),
                     registry=registry)
    app.state.account_settings = AccountSettings(cookie_secure=False)
    app.state.clock = Clock()
    app.state.stats_sources = SOURCES
    with TestClient(app) as client:
        yield client


def login(client, username):
    answer = client.post("/api/accounts/login",
                         json={"username": username, "password": seed.PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def get(client, who, family, **params):
    return client.get(f"/api/stats/{family}", headers=login(client, who),
                      params={**seed.MONTH, **params})


def test_an_advisor_reads_their_own_site_unsuppressed_and_no_other(client):
    answer = get(client, "adv-porvoo", "visits").json()
    assert answer["suppressed"] is False and answer["time_zone"] == "Europe/Helsinki"
    (row,) = answer["rows"]
    assert row["site"] == "porvoo" and row["no_shows"] == 1 and row["suppressed"] == []
    assert get(client, "adv-porvoo", "visits", site="imatra").status_code == 403
    (other,) = get(client, "adv-imatra", "incidents").json()["rows"]
    assert other["site"] == "imatra" and other["opened"] == 1


def test_an_authoritys_staff_read_their_authority_only_with_small_counts_suppressed(client):
    (kela,) = get(client, "exp-kela", "visits", by="authority").json()["rows"]
    assert kela["authority"] == "kela" and kela["visits"] == 8 and kela["completed"] == 7
    assert kela["no_shows"] is None and kela["cancelled"] is None and kela["moved"] is None
    assert set(kela["suppressed"]) == {"no_shows", "cancelled", "moved"}
    assert get(client, "exp-kela", "visits", authority="vero").status_code == 403
    assert get(client, "tel-dvv", "visits", authority="kela").status_code == 403
    assert get(client, "exp-kela", "utilisation").status_code == 403  # no authority in it


def test_a_coordinator_reads_every_site_with_small_counts_suppressed(client):
    rows = get(client, "coord", "feedback", by=["site", "giver"]).json()["rows"]
    by_giver = {r["giver"]: r for r in rows}
    assert by_giver["expert"]["count"] is None and by_giver["expert"]["avg_score"] is None
    # the customers' 6 hides too: with the site's 10 it would give the experts' 4 away
    assert by_giver["customer"]["count"] is None and by_giver["customer"]["avg_score"] is None
    assert by_giver["customer"]["score_5"] is None  # three fives: a small count
    sites = {r["site"] for r in get(client, "coord", "utilisation").json()["rows"]}
    assert sites == {"porvoo", "imatra", "nurmes"}
    (calls,) = get(client, "coord", "calls").json()["rows"]
    assert calls["calls"] == 6 and calls["acknowledged"] == 5 and calls["ack_p90_s"] == 150
    assert calls["escalated"] is None


def test_the_csv_and_xlsx_exports_hold_the_same_figures_as_the_json(client):
    csv = get(client, "coord", "visits", by="authority", format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    header = lines[0].split(",")
    kela = dict(zip(header, next(line for line in lines if ",kela," in line).split(",")))
    # hidden as the JSON hides them: the no-shows are few; the 8 visits, with the 10 of the
    # month and the 8 booked, would give the two walk-ins of DVV and Vero away
    (json_kela,) = [r for r in get(client, "coord", "visits", by="authority").json()["rows"]
                    if r["authority"] == "kela"]
    assert kela["visits"] == kela["no_shows"] == HIDDEN and json_kela["visits"] is None
    assert all(kela[f] == HIDDEN for f in json_kela["suppressed"])
    assert [kela[f] for f in header if f not in json_kela["suppressed"]] == \
        ["" if json_kela[f] is None else str(json_kela[f]) for f in header
         if f not in json_kela["suppressed"]]
    xlsx = get(client, "admin", "utilisation", by=["site", "room"], format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["utilisation"]
    table = list(sheet.iter_rows(values_only=True))
    porvoo = dict(zip(table[0], next(r for r in table[1:] if r[1] == "porvoo")))
    assert {k: porvoo[k] for k in seed.UTILISATION["porvoo", "r1"]} == \
        seed.UTILISATION["porvoo", "r1"]


def test_a_grouping_the_family_does_not_have_is_refused_with_a_reason(client):
    answer = get(client, "admin", "calls", by="authority")
    assert answer.status_code == 422 and "calls groups by" in answer.text
    assert get(client, "admin", "calls", authority="kela").status_code == 422


def test_no_figure_names_a_customer_or_a_member_of_staff(client):
    personal = (seed.CUSTOMER.name, seed.CUSTOMER.phone, *seed.STAFF)
    for family, spec in FAMILIES.items():
        for fmt in ("json", "csv"):  # every dimension, every day: the finest the API gives
            text = get(client, "admin", family, by=list(spec.dims), period="day",
                       format=fmt).text
            assert not [p for p in personal if p in text], (family, fmt)
