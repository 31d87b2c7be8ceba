"""Log lines (``etapalvelu.logs``): whatever a value holds, a record is one line whose fields
read back as they were given; every log call of cloud/, edge/ and etapalvelu/ names a
``domain.event`` and passes its data as fields."""
from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etapalvelu.logs import LogfmtFormatter, event_log
from tests.logfmt import EVENT, parse_record

ROOT = Path(__file__).resolve().parent.parent
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
# file -> why it stays for now; empty: none left
KNOWN_EXCEPTIONS: dict[str, str] = {}


def line_of(record: logging.LogRecord) -> str:
    return LogfmtFormatter("test@host").format(record)


def record_of(logger: str, event: str, exc_info=None, **fields) -> logging.LogRecord:
    """What ``event_log(logger).info(event, **fields)`` hands its handlers."""
    caught: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record)

    handler, log = Catch(), event_log(logger)
    log.logger.addHandler(handler)
    log.logger.setLevel(logging.DEBUG)
    try:
        if exc_info:
            try:
                raise exc_info
            except type(exc_info):
                log.exception(event, **fields)
        else:
            log.info(event, **fields)
    finally:
        log.logger.removeHandler(handler)
    [record] = caught
    return record


@given(st.text())
def test_any_text_in_a_field_stays_in_one_line_and_reads_back_as_it_was(text):
    line = line_of(record_of("cloud.test", "accounts.audit", actor=text, action="login"))
    assert len(line.splitlines()) == 1 and "\n" not in line
    fields = parse_record(line)
    assert (fields["actor"], fields["action"]) == (text, "login")


@pytest.mark.parametrize("separator", ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x85",
                                       "\u2028", "\u2029", "\x00", "\x1b[2J"])
def test_no_line_break_or_control_character_is_written_as_it_is(separator):
    forged = f"porvoo{separator}ts=2026-01-01T00:00:00Z level=INFO event=x.y actor=FORGED"
    line = line_of(record_of("cloud.test", "accounts.audit", resource=forged))
    assert separator not in line and len(line.splitlines()) == 1
    assert parse_record(line)["resource"] == forged


def test_direction_overrides_and_lone_surrogates_are_escaped():
    line = line_of(record_of("cloud.test", "accounts.audit", actor="\u202eevil\ud800"))
    assert "\\u202e" in line and "\\ud800" in line
    assert parse_record(line)["actor"] == "\u202eevil\ud800"


def test_a_record_heads_with_time_level_logger_process_and_its_event():
    line = line_of(record_of("cloud.incidents.engine", "incidents.opened", incident=12,
                             site="porvoo", silenced=False, reason=None, rooms=["r1", "r2"]))
    assert line.split(" ", 5)[1:] == [
        "level=INFO", "logger=cloud.incidents.engine", "process=test@host",
        "event=incidents.opened", "incident=12 site=porvoo silenced=false rooms=r1,r2"]
    assert line.startswith("ts=") and line.split(" ")[0].endswith("Z")


def test_a_traceback_is_one_escaped_field_of_the_same_line():
    line = line_of(record_of("cloud.test", "ingest.batch_failed",
                             exc_info=ValueError("bad\nts=2026 level=INFO"), size=3))
    assert len(line.splitlines()) == 1
    fields = parse_record(line)
    assert fields["traceback"].startswith("Traceback (most recent call last):\n")
    assert fields["traceback"].endswith("ValueError: bad\nts=2026 level=INFO")


def test_another_librarys_message_is_one_escaped_field():
    record = logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1,
                               "Invalid HTTP request %s", ("a\nts=forged",), None)
    fields = parse_record(line_of(record))
    assert (fields["event"], fields["message"]) == ("uvicorn.log",
                                                    "Invalid HTTP request a\nts=forged")


def test_uvicorns_access_line_is_an_http_request_without_the_clients_address():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("10.0.0.9:5000", "GET", "/api/fleet?x=%0A", "1.1", 200), None)
    fields = parse_record(line_of(record))
    assert {k: fields[k] for k in ("event", "method", "path", "status", "http")} == {
        "event": "http.request", "method": "GET", "path": "/api/fleet?x=%0A", "status": "200",
        "http": "1.1"}
    assert "10.0.0.9" not in line_of(record)


@pytest.mark.parametrize("event, fields", [("opened", {}), ("Incidents.Opened", {}),
                                           ("incidents.engine.started", {}),
                                           ("incidents.opened", {"level": "x"})])
def test_an_event_without_a_domain_or_with_a_head_field_is_refused(event, fields):
    with pytest.raises(ValueError):
        event_log("cloud.test").error(event, **fields)


def log_calls(path: Path):
    """Every ``log.<level>(...)`` call of a source file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "log"
                and node.func.attr in LEVELS | {"log"}):
            yield node


def sources() -> list[Path]:
    return [p for part in ("cloud", "edge", "etapalvelu") for p in (ROOT / part).rglob("*.py")]


def plain_log_calls() -> set[str]:
    """Files with a log call that is not ``log.<level>("domain.event", **fields)``, or a
    module logger of plain ``logging``."""
    found = set()
    for path in sources():
        name = str(path.relative_to(ROOT))
        if "log = logging.getLogger(" in path.read_text(encoding="utf-8"):
            found.add(name)
        for call in log_calls(path):
            args = call.args[1:] if call.func.attr == "log" else call.args
            if not (len(args) == 1 and isinstance(args[0], ast.Constant)
                    and isinstance(args[0].value, str) and EVENT.fullmatch(args[0].value)):
                found.add(name)
    return found


def test_every_log_call_names_a_domain_event_and_passes_fields():
    found = plain_log_calls()
    assert found - set(KNOWN_EXCEPTIONS) == set()
    assert set(KNOWN_EXCEPTIONS) <= found, "a known exception is fixed: drop it from the list"
