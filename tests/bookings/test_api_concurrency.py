"""Many callers at one slot through one real API process (uvicorn): the pool serves them all
and the database decides, so one is booked and every other gets a clear conflict, never an
error."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import httpx
import pytest
from sqlalchemy import func, select

from cloud.accounts import service as accounts
from cloud.accounts.settings import AccountSettings
from cloud.bookings.models import Booking
from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.registry import load_registry
from tests.servers import free_port, wait_for

TOKEN = "test-admin-token-of-the-api-process"
CALLERS = 200
AGENTS = 10  # phone agents of the tax authority, each with a session of their own


def next_working_day_at_ten() -> datetime:
    """10:00 in Helsinki on a working day at least two days ahead (the process runs on the
    real clock)."""
    day = datetime.now(UTC).astimezone(ZoneInfo("Europe/Helsinki")).date() + timedelta(days=2)
    while day.weekday() >= 5 or day in holidays.Finland():
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/Helsinki"))


def agent_sessions(url: str) -> list[str]:
    """Session tokens of the tax authority's phone agents (no password: opened directly)."""
    engine = make_engine(url)
    now, registry, tokens = datetime.now(UTC), load_registry(), []
    with make_sessionmaker(engine)() as session:
        for n in range(AGENTS):
            staff = accounts.create_staff(session, registry, username=f"tel-vero-{n}",
                                          display_name=f"agent {n}", role="phone_agent",
                                          organisation="vero", now=now)
            tokens.append(accounts.open_session(session, AccountSettings(), staff=staff,
                                                method="password", client=None,
                                                now=now).token)
        session.commit()
    engine.dispose()
    return tokens


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api_process(request, tmp_path):
    """``uvicorn`` serving the app on a loopback port, with the settings' pool sizes, on a
    store of SQLite and of the real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database("bk_api_race")
    migrate(url)
    port = free_port()
    env = {**os.environ, "ETP_DATABASE_URL": url, "ETP_ADMIN_TOKEN": TOKEN}
    with (tmp_path / "api.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "cloud.web.app:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None  # died: stop waiting, the test says why
    try:
        wait_for(answers, 30, "the API process")
        assert process.poll() is None, (tmp_path / "api.log").read_text()
        yield base, url, agent_sessions(url)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # a wedged process does not stop on SIGTERM
            process.kill()
            process.wait(10)


async def book_at_once(base: str, tokens: list[str], start: datetime) -> list[httpx.Response]:
    body = {"site": "porvoo", "service": "vero-taxation", "minutes": 30, "room": "r1",
            "channel": "phone_service", "start": start.isoformat()}
    limits = httpx.Limits(max_connections=CALLERS, max_keepalive_connections=CALLERS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=55) as client:
        return await asyncio.gather(*(
            client.post("/api/bookings", json={**body, "customer": {"name": f"C{n}"}},
                        headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"})
            for n in range(CALLERS)))


def test_two_hundred_concurrent_attempts_at_one_slot_book_it_once_and_refuse_the_rest_clearly(
        api_process):
    base, url, tokens = api_process
    answers = asyncio.run(asyncio.wait_for(
        book_at_once(base, tokens, next_working_day_at_ten()), 58))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and statuses.count(409) == CALLERS - 1, \
        {s: statuses.count(s) for s in set(statuses)}
    assert {a.json()["reason"] for a in answers if a.status_code == 409} == {"slot_taken"}
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
    engine.dispose()


def test_the_api_process_sizes_its_pools_from_the_environment(monkeypatch, tmp_path):
    from cloud.settings import CloudSettings
    from cloud.web.app import create_app

    monkeypatch.setenv("ETP_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("ETP_DATABASE_POOL__SIZE", "3")
    monkeypatch.setenv("ETP_DATABASE_POOL__MAX_OVERFLOW", "2")
    monkeypatch.setenv("ETP_AUDIT_POOL__SIZE", "1")
    app = create_app(CloudSettings())
    assert (app.state.engine.pool.size(), app.state.engine.pool._max_overflow) == (3, 2)
    assert app.state.audit_sessionmaker.kw["bind"].pool.size() == 1
