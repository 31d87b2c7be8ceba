"""``etapalvelu bench sessions`` runs through the real signalling and prints one JSON line."""
from __future__ import annotations

import json

from click.testing import CliRunner

from etapalvelu.bench import bench


def test_the_sessions_benchmark_prints_setup_first_frame_and_cpu_in_one_json_line():
    result = CliRunner().invoke(bench, ["sessions", "--sessions", "2", "--cpu-seconds", "2"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["sessions"] == 2
    assert 0 < figures["setup_p50_ms"] <= figures["setup_p99_ms"] < 5000
    assert 0 < figures["first_frame_p99_ms"] < 5000
    assert figures["cpu_s_per_session_min"] > figures["server_cpu_s_per_session_min"] >= 0
