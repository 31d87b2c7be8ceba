"""The benchmark command runs end to end on a small fleet and reports what it promises."""
from __future__ import annotations

import json
import subprocess
import sys


def test_bench_incidents_prints_one_json_line_with_its_figures():
    result = subprocess.run(
        [sys.executable, "-m", "etapalvelu.cli", "bench", "incidents", "--rooms", "20",
         "--rate", "100", "--faults", "5", "--interval", "0.05", "--debounce", "0.5"],
        capture_output=True, text=True, timeout=120, check=True)
    [line] = result.stdout.strip().splitlines()
    figures = json.loads(line)
    assert figures["incidents"] == 5 and figures["notifications_lost"] == 0
    assert figures["debounce_s"] == 0.5
    assert 0 < figures["detect_to_notify_p50_ms"] <= figures["detect_to_notify_p99_ms"]
