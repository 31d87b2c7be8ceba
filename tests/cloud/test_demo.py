"""The README's first command, tried as a new user would: ``etapalvelu demo`` shows the pilot
rooms live in a browser, shares its database with the other commands, links to itself, stops
cleanly, and its broker takes each room's messages from that room's agent only."""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.settings import DEVELOPMENT_TOKEN
from etapalvelu.demo import DEMO_PASSWORD, DEMO_STAFF
from etapalvelu.demo_broker import CLOUD
from tests.pages import ARTEFACTS, LAPTOP, at_both_widths
from tests.servers import free_port, wait_for

ADMIN = {"Authorization": f"Bearer {DEVELOPMENT_TOKEN}"}
def call(port: int, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **(headers or ADMIN)})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


def online_rooms(port: int) -> set[str]:
    try:
        data = call(port, "/api/fleet")
    except OSError:
        return set()
    return {f"{r['site']}/{r['room']}" for s in data["sites"] for r in s["rooms"]
            if r["agent"] and r["agent"]["online"]}


def demo_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("ETP_")}


class Demo:
    """A running ``etapalvelu demo``."""

    def __init__(self, process, web: int, mqtt: int, data: Path, log: Path, started: float):
        self.process, self.web, self.mqtt, self.data = process, web, mqtt, data
        self.log, self.started = log, started

    def wait_rooms_online(self, timeout: float = 30) -> None:
        wait_for(lambda: online_rooms(self.web) == {"porvoo/r1", "imatra/r1", "nurmes/r1"},
                 timeout, "three pilot rooms online")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9


@contextmanager
def running_demo(cwd: Path, *args: str):
    web, mqtt = free_port(), free_port()
    log = cwd / "demo.log"
    started = time.monotonic()
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "etapalvelu.cli", "demo", "--port", str(web), "--mqtt-port",
             str(mqtt), *args], env=demo_env(), cwd=cwd, stdout=subprocess.DEVNULL,
            stderr=stderr, start_new_session=True)
    demo = Demo(process, web, mqtt, cwd / "var", log, started)
    try:
        yield demo
    finally:
        if process.poll() is None:
            demo.stop()


@pytest.fixture
def demo(tmp_path):
    with running_demo(tmp_path) as demo:
        yield demo


def test_demo_shows_the_three_pilot_rooms_online_within_ten_seconds(demo):
    demo.wait_rooms_online()
    assert time.monotonic() - demo.started < 10


def test_ctrl_c_stops_the_demo_without_a_traceback(demo):
    demo.wait_rooms_online()
    assert demo.stop() == 0
    assert "Traceback" not in demo.log.read_text()


def test_a_taken_port_gives_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "demo", "--port",
                                 str(port), "--mqtt-port", str(free_port())], env=demo_env(),
                                cwd=tmp_path, capture_output=True, text=True, timeout=60,
                                check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        (f"Error: cannot listen on 127.0.0.1:{port}: Address already in use (another process "
         "uses it? choose another port)")]


def test_staff_imported_with_the_cloud_command_log_in_to_the_demo(tmp_path):
    staff = tmp_path / "staff.yaml"
    staff.write_text("- {username: adv-test, display_name: A, role: advisor, "
                     "organisation: porvoo, sites: [porvoo]}\n")
    for command in (["import", str(staff)], ["set-password", "adv-test", "--password-stdin"]):
        done = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "cloud", "accounts",
                               *command], env=demo_env(), cwd=tmp_path, text=True,
                              input="a long enough password\n", capture_output=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr
    with running_demo(tmp_path) as demo:
        demo.wait_rooms_online()
        login = call(demo.web, "/api/accounts/login",
                     {"username": "adv-test", "password": "a long enough password"}, headers={})
        assert login["role"] == "advisor"


@pytest.mark.parametrize("username", DEMO_STAFF)
def test_every_demo_role_logs_in_with_the_password_the_readme_gives(demo, username):
    demo.wait_rooms_online()
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert username in readme and DEMO_PASSWORD in readme
    login = call(demo.web, "/api/accounts/login", {"username": username,
                                                   "password": DEMO_PASSWORD}, headers={})
    assert login["role"] == DEMO_STAFF[username][0]


def test_action_links_in_notifications_point_at_the_demo(demo):
    demo.wait_rooms_online()
    call(demo.web, "/api/incidents", {"site": "porvoo", "room": "r1", "category": "equipment",
                                      "severity": "critical", "summary": "screen dark"})

    def links() -> list[str]:
        with sqlite3.connect(demo.data / "etapalvelu.sqlite") as db:
            rows = db.execute("SELECT context FROM notify_message").fetchall()
        return [json.loads(c)[k] for (c,) in rows for k in ("ack_url", "resolve_url")
                if k in json.loads(c)]

    wait_for(lambda: links(), 15, "a notification with action links")
    assert all(link.startswith(f"http://127.0.0.1:{demo.web}/api/incidents/links/")
               for link in links())


def mqtt_client(port: int, username: str | None = None, password: str | None = None,
                client_id: str | None = None):
    """A connected paho client and its (connect reasons, messages)."""
    reasons, messages = [], []
    client = paho.Client(CallbackAPIVersion.VERSION2,
                         client_id=client_id or f"t-{uuid.uuid4().hex[:12]}",
                         protocol=paho.MQTTv311)
    if username:
        client.username_pw_set(username, password)
    client.on_connect = lambda c, u, f, reason, p: reasons.append(str(reason))
    client.on_message = lambda c, u, m: messages.append((m.topic, m.payload))
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_for(lambda: reasons, 5, "CONNACK")
    return client, reasons, messages


def test_the_demo_broker_takes_no_anonymous_clients_and_no_cross_room_messages(demo):
    demo.wait_rooms_online()
    anonymous, reasons, _ = mqtt_client(demo.mqtt)
    assert reasons == ["Not authorized"]
    anonymous.loop_stop()
    passwords = json.loads((demo.data / "broker-passwords.json").read_text())
    assert (demo.data / "broker-passwords.json").stat().st_mode & 0o077 == 0
    watcher, _, seen = mqtt_client(demo.mqtt, CLOUD, passwords[CLOUD])
    subscribed = threading.Event()
    watcher.on_subscribe = lambda *_: subscribed.set()
    watcher.subscribe("etp/v1/+/+/+/#", qos=1)
    assert subscribed.wait(5)
    # the board's identity (bound to its own name as client id); the running agent keeps its own
    button = "porvoo.r1.callbutton"
    porvoo, reasons, _ = mqtt_client(demo.mqtt, button, passwords[button], client_id=button)
    assert reasons == ["Success"]
    forbidden = ["etp/v1/imatra/r1/agent/status", "etp/v1/imatra/r1/terminal/health",
                 "etp/v1/porvoo/r1/agent/cmd/inject_fault", "etp/v1/imatra/r1/callbutton/event",
                 "etp/v1/porvoo/r1/agent/status"]
    mark = uuid.uuid4().hex.encode()  # tells our messages from the real agents'
    for topic in forbidden:
        porvoo.publish(topic, mark, qos=1).wait_for_publish(5)
    porvoo.publish("etp/v1/porvoo/r1/callbutton/ack", mark, qos=1).wait_for_publish(5)
    # one connection delivers in order: a forbidden message let through arrives before this
    wait_for(lambda: ("etp/v1/porvoo/r1/callbutton/ack", mark) in seen, 5, "the allowed message")
    assert [topic for topic, payload in seen if payload == mark] == [
        "etp/v1/porvoo/r1/callbutton/ack"]
    for client in (watcher, porvoo):
        client.disconnect()
        client.loop_stop()


@pytest.mark.browser
def test_a_fault_injected_through_the_cloud_shows_on_the_status_page_after_login(demo):
    from playwright.sync_api import expect, sync_playwright

    demo.wait_rooms_online()
    fault = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "sim", "fault", "porvoo",
                            "r1", "doccam", "unplugged", "--api", f"http://127.0.0.1:{demo.web}"],
                           capture_output=True, text=True, timeout=30, env=demo_env(), check=False)
    assert fault.returncode == 0, fault.stdout + fault.stderr
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport=LAPTOP)
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"http://127.0.0.1:{demo.web}/")
        expect(page.get_by_label("Käyttäjätunnus")).to_be_visible()  # the one login page
        at_both_widths(page, "status-login")
        page.get_by_label("Käyttäjätunnus").fill("demo-advisor")
        page.get_by_label("Salasana").fill(DEMO_PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        room = page.locator('[data-room="porvoo/r1"]')
        expect(room).to_have_class("room unusable", timeout=10_000)
        expect(room.locator('tr[data-device="doccam"]')).to_contain_text("puuttuu (unplugged)")
        expect(page.locator('[data-room="imatra/r1"]')).to_have_count(0)  # not the advisor's
        assert "token" not in page.url
        at_both_widths(page, "status-page")
        assert not [e for e in errors if "Content Security Policy" in e]
        browser.close()


@pytest.mark.browser
def test_the_api_docs_render_with_no_network_but_the_demo(demo):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        own = f"http://127.0.0.1:{demo.web}/"
        elsewhere = []

        def only_the_demo(route):
            if route.request.url.startswith(own):
                return route.continue_()
            elsewhere.append(route.request.url)
            return route.abort()

        page.route("**/*", only_the_demo)
        wait_for(lambda: online_rooms(demo.web), 30, "the demo's API")
        page.goto(own + "docs")
        expect(page.get_by_text("/api/accounts/login").first).to_be_visible(timeout=10_000)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTEFACTS / "api-docs.png")
        assert elsewhere == []
        browser.close()
