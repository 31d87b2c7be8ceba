"""PostgreSQL restarted (fast shutdown, then started at once) while the ingest commits its
batches at 2,000 events a second: the batch cut off is retried, its PUBACKs wait for the
commit, and every event the broker accepted reaches the twin once. The scenario is the outage
benchmark's (``etapalvelu bench outage``) with no time away; the default suite runs it with
twelve seconds away (tests/cloud/test_ingest.py)."""
from __future__ import annotations

import pytest

from etapalvelu.bench.outage import run_outage

pytestmark = [pytest.mark.fault, pytest.mark.postgres]


def test_postgresql_restarted_mid_batch_loses_no_accepted_event(tmp_path):
    figures = run_outage(tmp_path, outage_s=0.0)
    assert figures["events"] > 5_000 and figures["lost"] == 0, figures
    assert figures["inbox_peak"] <= figures["inbox_bound"], figures
