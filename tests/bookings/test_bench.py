"""The bookings benchmark runs end to end on a small store and prints one JSON line."""
from __future__ import annotations

import json

from click.testing import CliRunner

from etapalvelu.bench.bookings import command


def test_the_benchmark_prints_its_figures_and_conditions():
    result = CliRunner().invoke(command, [
        "--sites", "2", "--rooms-per-site", "2", "--clients", "4", "--workers", "2",
        "--think-ms", "50", "--seconds", "1", "--bookers", "2"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["rooms"] == 4 and figures["availability_clients"] == 4
    assert figures["availability_requests"] > 0 and figures["bookings_made"] > 0
    assert 0 < figures["availability_p50_ms"] <= figures["availability_p99_ms"]
