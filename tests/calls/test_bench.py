"""``etapalvelu bench callbutton`` runs end to end on a small scale and prints one JSON line
with its figures and conditions."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.postgres
def test_the_callbutton_benchmark_prints_press_to_console_latencies_and_conditions():
    done = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "bench", "callbutton",
                           "--presses", "4", "--consoles", "2", "--telemetry", "200",
                           "--rooms", "25"], capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "callbutton" and figures["replicas"] == 2
    assert figures["consoles"] == 2 and figures["presses"] == 4
    assert 0 < figures["press_to_console_p50_ms"] <= figures["press_to_console_p99_ms"]
    assert figures["background_telemetry_msg_s"] > 100
