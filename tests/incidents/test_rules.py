"""Pure rules: debounce, flapping, inhibition, silences, severity, routing, lifecycle."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml

from cloud.incidents.lifecycle import Handled, InvalidTransition, next_state, sla_report
from cloud.incidents.matrix import SAMPLE_MATRIX, MatrixError, load_matrix
from cloud.incidents.rules import (
    CRITICAL,
    MAJOR,
    MINOR,
    OPEN,
    RESOLVE,
    Condition,
    ConditionKey,
    DebouncePolicy,
    Silence,
    health_finding,
    inhibited,
    severity,
    silenced,
)
from cloud.sites.hours import OpeningHours

HKI = ZoneInfo("Europe/Helsinki")
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=HKI)
POLICY = DebouncePolicy(open_after=timedelta(seconds=60), resolve_after=timedelta(seconds=120),
                        flap_window=timedelta(minutes=5), flap_changes=6,
                        flap_open_after=timedelta(minutes=10))
OPENING = OpeningHours(holidays=holidays.Finland())  # the pilot's Mon-Fri 09-15, no building cap
SITES = ["porvoo", "imatra", "nurmes"]


def agent(state: str):
    return health_finding("porvoo", "r1", "agent", state, None)


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def test_a_condition_opens_only_after_holding_for_the_debounce_time():
    condition = Condition(agent("offline").key)
    condition.observe(agent("offline"), seconds(0), POLICY)
    assert condition.decide(seconds(59), POLICY) is None
    assert condition.decide(seconds(60), POLICY) == OPEN


def test_recovery_must_hold_before_an_incident_resolves():
    condition = Condition(agent("offline").key)
    condition.observe(agent("offline"), seconds(0), POLICY)
    condition.incident = 1
    condition.observe(agent("online"), seconds(100), POLICY)
    assert condition.decide(seconds(219), POLICY) is None
    assert condition.decide(seconds(220), POLICY) == RESOLVE


def test_a_reading_older_than_the_last_is_ignored():
    condition = Condition(agent("offline").key)
    condition.observe(agent("offline"), seconds(10), POLICY)
    condition.observe(agent("online"), seconds(5), POLICY)
    assert condition.active and condition.decide(seconds(70), POLICY) == OPEN


def test_flapping_inside_the_debounce_window_opens_nothing():
    condition = Condition(agent("online").key)
    condition.observe(agent("online"), seconds(0), POLICY)
    for i in range(100):
        condition.observe(agent("offline"), seconds(i * 0.5), POLICY)
        condition.observe(agent("online"), seconds(i * 0.5 + 0.25), POLICY)
        assert condition.decide(seconds(i * 0.5 + 0.3), POLICY) is None
    assert condition.flapping(seconds(51), POLICY)
    assert condition.decide(seconds(120), POLICY) is None


def test_lasting_flapping_becomes_one_incident_and_does_not_resolve_while_it_goes_on():
    condition = Condition(agent("online").key)
    decisions = []
    for i in range(0, 1500, 10):  # a change every 10 s for 25 minutes
        condition.observe(agent("offline" if i % 20 else "online"), seconds(i), POLICY)
        decision = condition.decide(seconds(i + 1), POLICY)
        decisions.append(decision)
        if decision == OPEN:
            condition.incident = 1
    assert decisions.count(OPEN) == 1
    assert RESOLVE not in decisions


def test_agent_offline_inhibits_the_device_conditions_of_its_room_only():
    doccam = ConditionKey("porvoo", "r1", "doccam", "health")
    assert inhibited(doccam, {("porvoo", "r1")})
    assert not inhibited(doccam, {("imatra", "r1")})
    assert not inhibited(agent("offline").key, {("porvoo", "r1")})


def test_a_silence_covers_its_room_or_device_during_its_window():
    doccam = ConditionKey("porvoo", "r1", "doccam", "health")
    room = Silence("porvoo", "r1", None, seconds(0), seconds(3600))
    terminal = Silence("porvoo", "r1", "terminal", seconds(0), seconds(3600))
    assert silenced(doccam, [room], seconds(10))
    assert not silenced(doccam, [room], seconds(3600))
    assert not silenced(doccam, [terminal], seconds(10))


def test_the_room_being_down_is_critical_in_or_shortly_before_opening_hours():
    lead = timedelta(hours=1)
    key = agent("offline").key
    assert severity(key, "offline", T0, OPENING, lead) == CRITICAL
    assert severity(key, "offline", T0.replace(hour=8, minute=15), OPENING, lead) == CRITICAL
    assert severity(key, "offline", T0.replace(hour=6), OPENING, lead) == MAJOR
    assert severity(key, "offline", T0.replace(hour=16), OPENING, lead) == MAJOR
    doccam = ConditionKey("porvoo", "r1", "doccam", "health")
    assert severity(doccam, "fault", T0, OPENING, lead) == CRITICAL
    assert severity(doccam, "degraded", T0, OPENING, lead) == MINOR
    button = ConditionKey("porvoo", "r1", "callbutton", "health")
    assert severity(button, "fault", T0, OPENING, lead) == MAJOR


def test_the_pilot_matrix_routes_as_agreed():
    matrix = load_matrix(SAMPLE_MATRIX, SITES)
    assert matrix.party_id("equipment", "porvoo") == "supplier"
    assert matrix.party_id("system", "nurmes") == "supplier"
    assert matrix.party_id("terminal_network", "imatra") == "valtori"
    assert matrix.party_id("workstation_network", "imatra") == "imatra-it"
    assert matrix.party_id("space", "nurmes") == "nurmes-property"
    assert matrix.party_id("furniture", "porvoo", "state") == "senaatti"
    assert matrix.party_id("signage", "porvoo", "host") == "porvoo-property"
    assert matrix.party_id("threat", "imatra") == "imatra-security"
    supplier = matrix.party("supplier")
    assert supplier.response_minutes == 30 and supplier.language == "fi"
    assert all(c.to.endswith("example.invalid") or c.type != "email"
               for p in matrix.data.parties.values() for c in p.channels)


def _matrix_file(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(SAMPLE_MATRIX.read_text())
    change(data)
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_matrix_with_a_gap_is_refused_at_load(tmp_path):
    path = _matrix_file(tmp_path, lambda d: d["routes"].pop("threat"))
    with pytest.raises(MatrixError, match="gap: no party covers 'threat' .* at site 'imatra'"):
        load_matrix(path, SITES)


def test_a_route_to_an_undefined_party_is_refused(tmp_path):
    path = _matrix_file(tmp_path, lambda d: d["parties"].pop("nurmes-it"))
    with pytest.raises(MatrixError, match="'workstation_network' .* 'nurmes' goes to undefined"):
        load_matrix(path, SITES)


def test_a_site_override_replaces_the_default_route(tmp_path):
    def override(data):
        data["sites"]["imatra"]["routes"] = {"threat": {"*": "supplier"}}
    matrix = load_matrix(_matrix_file(tmp_path, override), SITES)
    assert matrix.party_id("threat", "imatra") == "supplier"
    assert matrix.party_id("threat", "porvoo") == "porvoo-security"


def test_the_lifecycle_allows_only_its_moves():
    assert next_state("open", "notify") == "notified"
    assert next_state("notified", "acknowledge") == "acknowledged"
    assert next_state("acknowledged", "resolve") == "resolved"
    assert next_state("resolved", "reopen") == "open"
    assert next_state("resolved", "close") == "closed"
    with pytest.raises(InvalidTransition):
        next_state("closed", "acknowledge")
    with pytest.raises(InvalidTransition):
        next_state("acknowledged", "acknowledge")


def test_the_sla_report_gives_count_median_p90_and_breaches_per_party():
    minutes = [timedelta(minutes=m) for m in (5, 10, 20, 40, 100)]
    handled = [Handled("supplier", m, m * 2, m > timedelta(minutes=30)) for m in minutes]
    handled.append(Handled("valtori", None, None, False))
    supplier, valtori = sla_report(handled)
    assert (supplier.party, supplier.incidents, supplier.breaches) == ("supplier", 5, 2)
    assert supplier.acknowledge_median_min == 20 and supplier.acknowledge_p90_min == 100
    assert supplier.resolve_median_min == 40
    assert valtori.incidents == 1 and valtori.acknowledge_median_min is None


def test_the_check_command_refuses_a_matrix_with_a_gap_before_a_deploy(tmp_path):
    from click.testing import CliRunner

    from cloud.incidents.__main__ import main

    ok = CliRunner().invoke(main, ["check-matrix", str(SAMPLE_MATRIX)])
    assert ok.exit_code == 0 and "imatra: imatra-it" in ok.output
    path = _matrix_file(tmp_path, lambda d: d["routes"].pop("signage"))
    refused = CliRunner().invoke(main, ["check-matrix", str(path)])
    assert refused.exit_code == 1
    assert "gap: no party covers 'signage' (owner 'state') at site 'nurmes'" in refused.output
