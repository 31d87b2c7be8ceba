"""The demo as the issue promises it: logged in as Porvoo's sample advisor, ``etapalvelu sim
press porvoo r1`` rings the console live and ``etapalvelu sim cancel porvoo r1`` clears it."""
from __future__ import annotations

import subprocess
import sys

from etapalvelu.demo import DEMO_PASSWORD
from tests.calls.sse import SseClient
from tests.cloud.test_demo import call, demo_env, running_demo


def _sim(demo, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etapalvelu.cli", "sim", *args, "--api",
                           f"http://127.0.0.1:{demo.web}"], env=demo_env(), capture_output=True,
                          text=True, timeout=60, check=False)


def test_sim_press_rings_the_porvoo_advisors_console_in_the_demo_and_sim_cancel_clears_it(
        tmp_path):
    with running_demo(tmp_path) as demo:
        demo.wait_rooms_online()
        login = call(demo.web, "/api/accounts/login",
                     {"username": "demo-advisor", "password": DEMO_PASSWORD}, headers={})
        console = SseClient(f"http://127.0.0.1:{demo.web}/api/live/events", login["token"])
        try:
            assert console.wait_status() == 200
            console.wait("hello")
            pressed = _sim(demo, "press", "porvoo", "r1")
            assert pressed.returncode == 0, pressed.stderr
            rang = console.wait("call.pressed")
            assert (rang.data["site"], rang.data["room"]) == ("porvoo", "r1")
            cancelled = _sim(demo, "cancel", "porvoo", "r1")
            assert cancelled.returncode == 0, cancelled.stderr
            cleared = console.wait("call.cleared")
            assert cleared.data == {"call_id": rang.data["call_id"], "reason": "cancelled",
                                    "at": cleared.data["at"]}
        finally:
            console.close()
