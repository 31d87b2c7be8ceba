"""No request can write a log line of its own: a newline sent (encoded) in a request path, in
headers and in a login's username reaches the API process's log escaped inside one line, and
every line of the log is one well-formed ``ts=... level=... event=...`` record."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from cloud.accounts import service as accounts
from cloud.db import make_engine, make_sessionmaker
from cloud.registry import load_registry
from tests.accounts.conftest import (  # noqa: F401  (migrated_file is a fixture)
    ADMIN_TOKEN,
    PASSWORD,
    migrated_file,
)
from tests.logfmt import records
from tests.servers import free_port, http_ok, wait_for

EXECUTABLE = str(Path(sys.executable).with_name("etapalvelu"))
# a whole record, short enough to be kept whole in the audit's resource (120 characters)
FORGED = "ts=2026-01-01T00:00:00Z level=INFO event=accounts.audit actor=FORGED outcome=ok"


def add_advisor(url: str) -> None:
    """Porvoo's advisor, who may read Porvoo's day and no other site's."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        accounts.create_staff(session, load_registry(), username="adv-porvoo",
                              display_name="adv-porvoo", role="advisor", organisation="porvoo",
                              sites=["porvoo"], password=PASSWORD, now=datetime.now(UTC))
        session.commit()
    engine.dispose()


class Api:
    """``etapalvelu cloud api`` on a free port, its standard error in a file."""

    def __init__(self, tmp_path: Path, template: Path) -> None:
        shutil.copy(template, tmp_path / "cloud.sqlite")
        add_advisor(f"sqlite:///{tmp_path / 'cloud.sqlite'}")
        self.port, self.log = free_port(), tmp_path / "api.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETP_")}
        env |= {"ETP_DATABASE_URL": f"sqlite:///{tmp_path / 'cloud.sqlite'}",
                "ETP_ADMIN_TOKEN": ADMIN_TOKEN, "ETP_HEARTBEAT_S": "0.5",
                "ETP_WEB_TRUSTED_PROXIES": '["127.0.0.1"]'}
        self.process = subprocess.Popen(
            [EXECUTABLE, "cloud", "api", "--host", "127.0.0.1", "--port", str(self.port),
             "--name", f"api-{uuid.uuid4().hex[:6]}"],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("wb"))
        self.url = f"http://127.0.0.1:{self.port}"

    def records(self) -> list[dict[str, str]]:
        return records(self.log.read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def api(tmp_path, migrated_file):  # noqa: F811
    api = Api(tmp_path, migrated_file)
    try:
        wait_for(lambda: http_ok(f"{api.url}/healthz") or api.process.poll() is not None, 30,
                 "the API to serve")
        assert api.process.poll() is None, api.log.read_text()
        yield api
    finally:
        api.stop()


def test_a_newline_in_a_path_a_header_or_a_username_cannot_write_a_log_line(api):
    # a newline, and a line separator that survives URL parsing, before a forged record
    path = f"/api/bookings/sites/porvoo%0A%E2%80%A8{quote(FORGED)}/day"
    with httpx.Client(base_url=api.url, timeout=10) as client:
        assert client.post("/api/accounts/login", json={
            "username": "adv-porvoo", "password": PASSWORD}).status_code == 200
        client.cookies.clear()
        assert client.get(path).status_code == 401  # refused, and audited with the path
        assert client.get("/api/fleet", headers={
            "X-Forwarded-For": f"10.0.0.9%0A{FORGED}",
            "User-Agent": f'probe" {FORGED}'}).status_code == 401
        client.post("/login", data={"username": f"nobody\n{FORGED}", "password": "wrong"},
                    headers={"Origin": api.url})
    wait_for(lambda: "outcome=failed" in api.log.read_text(), 10, "the last request audited")

    lines = api.log.read_text().splitlines()  # at every line break Python knows
    assert not [line for line in lines if line.startswith(FORGED[:30])]
    assert len([line for line in lines if "actor=FORGED" in line]) == 1  # escaped, in one line
    logged = api.records()  # every line is one record: none was started by a request
    assert not [r for r in logged if r.get("actor") == "FORGED"]
    assert [r["path"] for r in logged if r["event"] == "http.request"] == [
        "/api/accounts/login", path, "/api/fleet", "/login"]
    audits = [r for r in logged if r["event"] == "accounts.audit"]
    [by_path] = [r for r in audits if r.get("resource", "").startswith("/api/bookings")]
    assert "\u2028" + FORGED[:40] in by_path["resource"]  # kept, as a value
    assert by_path["actor"] == "anonymous"
    [by_header] = [r for r in audits if r.get("resource") == "/api/fleet"]
    assert FORGED not in by_header.values()  # neither header is logged
    [by_login] = [r for r in audits if r["action"] == "login" and r["outcome"] == "failed"]
    assert by_login["actor"] == "-"  # never what was typed
