"""The one way every process of the platform logs: events with fields, one logfmt line each.

Code logs an event, never a sentence: ``log = event_log(__name__)``, then
``log.info("incidents.opened", incident=12, site="porvoo")``. Event names are
``domain.event`` (lowercase, one dot). ``setup_logging`` gives the process one renderer for
every record, its own and its libraries' (uvicorn, alembic, amqtt...)::

    ts=2026-11-03T08:15:02.120Z level=INFO logger=cloud.incidents.engine process=engine@h1 \
event=incidents.opened incident=12 site=porvoo

A value is written bare when it holds only safe characters, otherwise in double quotes with
``\\``, ``"``, line breaks, control, format (direction, zero-width) and lone surrogate
characters escaped as JSON escapes them (``\\n``, ``\\u2028``...), so nothing a value
carries (a request path, a username, an exception's text) can start a line or forge a field,
and any JSON string parser reads a quoted value back. A traceback is one more such field
(``traceback="Traceback (most recent call last):\\n  File ..."``): one record is one physical
line, one journal entry. A field whose value is ``None`` is left out.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
HEAD = ("ts", "level", "logger", "process", "event")
RESERVED = frozenset((*HEAD, "message", "traceback", "stack"))
_BARE = re.compile(r"[A-Za-z0-9_.,:/@+%#~*!?()\[\]-]+")  # no space, quote, "=" or backslash
# C0 and C1 controls, DEL, line and paragraph separators, direction and zero-width format
# characters, lone surrogates, tag characters: escaped as \uXXXX, never written as they are
_UNSAFE = re.compile("[\"\\\\\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                     "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]")
_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_KEY_UNSAFE = re.compile(r"[^a-z0-9_]")


def _escaped(char: re.Match) -> str:
    """JSON's escapes, so any JSON string parser reads a quoted value back."""
    c = char.group()
    if c in _SHORT:
        return _SHORT[c]
    code = ord(c)
    if code > 0xFFFF:  # as JSON writes it: a UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def render_value(value: Any) -> str:
    """One value as logfmt: bare when safe, else quoted and escaped (never a line break)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        value = ",".join(str(item) for item in value)
    text = value if isinstance(value, str) else str(value)
    if _BARE.fullmatch(text):
        return text
    return '"' + _UNSAFE.sub(_escaped, text) + '"'


def render(fields: dict[str, Any]) -> str:
    """``key=value`` pairs in order, ``None`` values left out; keys reduced to ``[a-z0-9_]``."""
    return " ".join(f"{_KEY_UNSAFE.sub('_', key.lower()) or '_'}={render_value(value)}"
                    for key, value in fields.items() if value is not None)


class LogEvent:
    """A record's message: the event's name and fields (``str()`` gives them rendered, so
    ``caplog`` and foreign handlers show the same escaped text)."""

    __slots__ = ("fields", "name")

    def __init__(self, name: str, fields: dict[str, Any]) -> None:
        if not EVENT_NAME.fullmatch(name):
            raise ValueError(f"event names are domain.event in lowercase, not {name!r}")
        clash = RESERVED & fields.keys()
        if clash:
            raise ValueError(f"reserved field names: {sorted(clash)}")
        self.name, self.fields = name, fields

    def __str__(self) -> str:
        return render({"event": self.name, **self.fields})


class EventLog:
    """A logger of events: ``info(event, **fields)``, and ``debug``, ``warning``, ``error``,
    ``exception`` (an error with the exception being handled) and ``log(level, ...)``."""

    __slots__ = ("logger",)

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def log(self, level: int, event: str, /, **fields: Any) -> None:
        """Log ``event`` with ``fields`` at ``level``."""
        self._write(level, event, fields, False)

    def debug(self, event: str, /, **fields: Any) -> None:
        """Log ``event`` at DEBUG."""
        self._write(logging.DEBUG, event, fields, False)

    def info(self, event: str, /, **fields: Any) -> None:
        """Log ``event`` at INFO."""
        self._write(logging.INFO, event, fields, False)

    def warning(self, event: str, /, **fields: Any) -> None:
        """Log ``event`` at WARNING."""
        self._write(logging.WARNING, event, fields, False)

    def error(self, event: str, /, **fields: Any) -> None:
        """Log ``event`` at ERROR."""
        self._write(logging.ERROR, event, fields, False)

    def exception(self, event: str, /, **fields: Any) -> None:
        """Log ``event`` at ERROR with the exception being handled (a ``traceback`` field)."""
        self._write(logging.ERROR, event, fields, True)

    def _write(self, level: int, event: str, fields: dict, exc_info: bool) -> None:
        if self.logger.isEnabledFor(level):
            self.logger.log(level, LogEvent(event, fields), exc_info=exc_info, stacklevel=3)


def event_log(name: str) -> EventLog:
    """The event logger of module ``name`` (pass ``__name__``)."""
    return EventLog(name)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """``event`` and the fields of any record: a ``LogEvent``, a uvicorn access line, or
    another library's message (``event=<library>.log message="..."``)."""
    if isinstance(record.msg, LogEvent):
        return {"event": record.msg.name, **record.msg.fields}
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) \
            and len(record.args) == 5:
        # the client's address stays out: personal data, and the audit log keeps it
        _client, method, path, http_version, status = record.args
        return {"event": "http.request", "method": method, "path": path, "status": status,
                "http": http_version}
    library = _KEY_UNSAFE.sub("_", record.name.partition(".")[0].lower()) or "root"
    return {"event": f"{library}.log",
            "message": record.getMessage()}


class LogfmtFormatter(logging.Formatter):
    """Every record as one ``ts=... level=... logger=... process=... event=...`` line."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        fields = {"ts": ts.replace("+00:00", "Z"), "level": record.levelname,
                  "logger": record.name, "process": self.process, **record_fields(record)}
        if record.exc_info:
            fields["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return render(fields)


def setup_logging(level: str, process: str) -> None:
    """Log one line per record to standard error for ``process`` (``engine@host``,
    ``agent``...), every library's records included."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
