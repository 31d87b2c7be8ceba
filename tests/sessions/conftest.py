"""Fixtures of the session tests: the real app served by uvicorn on a migrated store (SQLite,
and PostgreSQL where time or concurrency matters) with its live bus on a real Mosquitto,
staff of every role, a clock that runs with real time and can jump, the development OIDC
provider and coturn on loopback."""
from __future__ import annotations

import asyncio
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from cloud.accounts.settings import AccountSettings
from cloud.db import migrate
from cloud.sessions.settings import SessionSettings
from cloud.settings import CloudSettings
from cloud.web.app import create_app
from etapalvelu.dev_identity import Provider
from etapalvelu.localservers import Server, binary, wait_for
from tests.accounts.conftest import ADMIN_TOKEN, PASSWORD, add_staff
from tests.pages import serve

# Monday 10 November 2025, 10:00 in Helsinki: inside the service hours
NOW = datetime(2025, 11, 10, 8, 0, tzinfo=UTC)
TURN_SECRET = "test-turn-secret-of-this-run"
TERMINAL_SECRET = "test-terminal-secret-of-this-run"


class RunningClock:
    """The app's clock: runs with real time from ``start`` and can jump ahead."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)

    def jump_to(self, instant: datetime) -> None:
        """From now on the clock reads ``instant`` and runs on from there."""
        self._start, self._t0 = instant, time.monotonic()


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory):
    """A SQLite file migrated once; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "cloud.sqlite"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path, migrated_file) -> str:
    """A fresh migrated SQLite store."""
    shutil.copy(migrated_file, tmp_path / "cloud.sqlite")
    return f"sqlite:///{tmp_path / 'cloud.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, sqlite_url) -> str:
    """A migrated, empty store on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    name = f"se_{request.node.name}".translate(str.maketrans("[]-", "___")).lower()[:60]
    url = request.getfixturevalue("postgres").create_database(name)
    migrate(url)
    return url


@dataclass
class Live:
    """The served app and the means to drive it as its users do."""

    app: object
    base: str
    clock: RunningClock
    settings: SessionSettings
    tokens: dict = field(default_factory=dict)

    @property
    def ws(self) -> str:
        """The base URL of the signalling socket."""
        return self.base.replace("http://", "ws://")

    def client(self) -> httpx.Client:
        """An HTTP client of the app."""
        return httpx.Client(base_url=self.base, timeout=10)

    def staff(self, username: str) -> dict:
        """The bearer header of a logged-in member of staff."""
        if username not in self.tokens:
            with self.client() as client:
                answer = client.post("/api/accounts/login",
                                     json={"username": username, "password": PASSWORD})
                assert answer.status_code == 200, answer.text
                self.tokens[username] = {"Authorization": f"Bearer {answer.json()['token']}"}
        return self.tokens[username]

    def open_walk_in(self, *, site="porvoo", room="r1", authority="kela", service="kela-benefits",
                     by="adv-porvoo", minutes=30) -> dict:
        """A walk-in's session in a room now."""
        with self.client() as client:
            answer = client.post("/api/sessions", headers=self.staff(by), json={
                "site": site, "room": room, "authority": authority, "service": service,
                "minutes": minutes})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def join_staff(self, session_id: int, username: str = "exp-kela") -> dict:
        """A member of staff's credential for the session."""
        with self.client() as client:
            answer = client.post(f"/api/sessions/{session_id}/join",
                                 headers=self.staff(username))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def join_terminal(self, session_id: int | None, *, site="porvoo", room="r1",
                      token_of: tuple[str, str] | None = None) -> httpx.Response:
        """The room terminal's join (``token_of``: prove another room than it names)."""
        from cloud.sessions.service import room_token

        proven = token_of or (site, room)
        with self.client() as client:
            return client.post("/api/sessions/terminal/join", json={
                "site": site, "room": room, "session_id": session_id,
                "room_token": room_token(self.settings, site=proven[0], room=proven[1])})


def make_live(url: str, broker, *, with_staff: bool = True,
              **session_settings) -> tuple[Live, callable]:
    """The app on ``url`` with staff (``with_staff``), its live bus on ``broker``, served."""
    app = create_app(CloudSettings(database_url=url, admin_token=ADMIN_TOKEN,
                                   broker_url=broker.url))
    app.state.account_settings = AccountSettings(cookie_secure=False)
    settings = SessionSettings(**{"watch_period_s": 0.05, "cookie_secure": False,
                                  "terminal_secret": TERMINAL_SECRET, **session_settings})
    app.state.session_settings = settings
    # real time: the identity provider's tokens are checked against it
    clock = app.state.clock = RunningClock(datetime.now(UTC))
    if with_staff:
        add_staff(app, NOW)
    base, stop = serve(app)
    wait_for(lambda: app.state.live_bus.connected.is_set(), 10, "live bus connected")
    return Live(app, base, clock, settings), stop


@pytest.fixture
def live(sqlite_url, broker):
    """The app on SQLite."""
    served, stop = make_live(sqlite_url, broker)
    yield served
    stop()


@pytest.fixture
def live_db(database, broker):
    """The app on SQLite and on PostgreSQL."""
    served, stop = make_live(database, broker)
    yield served
    stop()


@dataclass
class Coturn(Server):
    """coturn on loopback with the REST-API shared secret (``use-auth-secret``)."""

    secret: str = TURN_SECRET

    def prepare(self) -> None:
        low = 40000 + self.port % 20000
        lines = [f"listening-port={self.port}", "listening-ip=127.0.0.1", "relay-ip=127.0.0.1",
                 f"min-port={low}", f"max-port={low + 200}", "use-auth-secret",
                 f"static-auth-secret={self.secret}", "realm=etapalvelu.example.invalid",
                 "fingerprint", "no-tls", "no-dtls", "no-cli", "no-multicast-peers",
                 # the test's peers are on loopback; production denies it (docs/sessions.md)
                 "allow-loopback-peers", f"pidfile={self.workdir}/turnserver.pid",
                 f"userdb={self.workdir}/turndb", "log-file=stdout", "simple-log"]
        (self.workdir / "turnserver.conf").write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [binary("turnserver"), "-c", str(self.workdir / "turnserver.conf")]


@pytest.fixture
def coturn(tmp_path):
    """A fresh coturn for one test."""
    with Coturn(tmp_path / "coturn") as server:
        yield server


@pytest.fixture
def identity():
    """The development OIDC provider, as the third parties' identity provider."""
    with Provider("sessions-client", "sessions-client-secret") as provider:
        provider.claims = {"acr": "http://ftn.ficora.fi/2017/loa3", "name": "Tulkki Testinen"}
        yield provider


def with_identity(live: Live, provider: Provider) -> None:
    """Point the app's third-party login at ``provider``."""
    live.app.state.session_settings = live.settings = live.settings.model_copy(update={
        "oidc_issuer": provider.issuer, "oidc_client_id": provider.client_id,
        "oidc_client_secret": SecretStr(provider.client_secret),
        "oidc_redirect_url": f"{live.base}/api/sessions/invite/callback"})


def in_own_loop(scenario, timeout: float = 120) -> None:
    """Run a test's coroutine on an event loop of a thread of its own: the page tests'
    Chromium (Playwright's sync API) keeps an event loop running in the main thread for the
    rest of the run, where no second loop may start."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(scenario)
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            failure.append(error)

    worker = threading.Thread(target=run, name="session-scenario")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"the scenario did not finish in {timeout} s")
    if failure:
        raise failure[0]
