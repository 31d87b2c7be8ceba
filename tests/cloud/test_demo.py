"""The README's first command: ``etapalvelu demo`` shows the pilot rooms live, in a browser."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from cloud.settings import DEVELOPMENT_TOKEN
from tests.servers import free_port, wait_for


def fleet(port: int) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/fleet",
                                     headers={"Authorization": f"Bearer {DEVELOPMENT_TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def online_rooms(port: int) -> set[str]:
    try:
        data = fleet(port)
    except OSError:
        return set()
    return {f"{r['site']}/{r['room']}" for s in data["sites"] for r in s["rooms"]
            if r["agent"] and r["agent"]["online"]}


@pytest.fixture
def demo(tmp_path):
    """``etapalvelu demo`` on free ports; yields (web port, broker URL)."""
    web, mqtt = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETP_")}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "etapalvelu.cli", "demo", "--port", str(web), "--mqtt-port",
         str(mqtt), "--data", str(tmp_path / "demo")], env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "demo.log", "wb"), start_new_session=True)
    try:
        yield web, f"mqtt://127.0.0.1:{mqtt}", started
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_demo_shows_the_three_pilot_rooms_online_within_ten_seconds(demo):
    web, _, started = demo
    wait_for(lambda: online_rooms(web) == {"porvoo/r1", "imatra/r1", "nurmes/r1"}, 30,
             "three pilot rooms online")
    assert time.monotonic() - started < 10


@pytest.mark.browser
def test_a_fault_injected_from_a_second_terminal_shows_on_the_status_page(demo):
    from playwright.sync_api import expect, sync_playwright

    web, broker_url, _ = demo
    wait_for(lambda: len(online_rooms(web)) == 3, 30, "rooms online")
    fault = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "sim", "fault", "porvoo",
                            "r1", "doccam", "unplugged", "--broker", broker_url],
                           capture_output=True, text=True, timeout=30)
    assert fault.returncode == 0, fault.stdout + fault.stderr
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{web}/#token={DEVELOPMENT_TOKEN}")
        room = page.locator('[data-room="porvoo/r1"]')
        expect(room).to_have_class("room unusable", timeout=10_000)
        expect(room.locator('tr[data-device="doccam"]')).to_contain_text("missing (unplugged)")
        expect(page.locator('[data-room="imatra/r1"]')).to_have_class("room ready")
        browser.close()
