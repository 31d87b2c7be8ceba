"""Reading the processes' log lines back, independently of the renderer: a line is
``key=value`` pairs separated by single spaces, a quoted value a JSON string."""
from __future__ import annotations

import json
import re

PAIR = re.compile(r'([a-z0-9_]+)=("(?:[^"\\]|\\.)*"|[^\s"=\\]+)')
HEAD = ("ts", "level", "logger", "process", "event")
EVENT = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


def parse_pairs(line: str) -> dict[str, str]:
    """The fields of one line; fails unless the whole line is ``key=value`` pairs."""
    fields, at = {}, 0
    for pair in PAIR.finditer(line):
        assert pair.start() == at, f"not a key=value at {at}: {line!r}"
        key, value = pair.groups()
        fields[key] = json.loads(value) if value.startswith('"') else value
        at = pair.end() + 1
    assert at == len(line) + 1, f"trailing text: {line!r}"
    return fields


def parse_record(line: str) -> dict[str, str]:
    """One record's fields; fails unless it begins with the record's head and names a
    ``domain.event``."""
    fields = parse_pairs(line)
    assert list(fields)[:5] == list(HEAD), f"not a record's head: {line!r}"
    assert EVENT.fullmatch(fields["event"]), line
    return fields


def records(text: str) -> list[dict[str, str]]:
    """Every line of a log as a record (each must be one)."""
    return [parse_record(line) for line in text.splitlines()]
