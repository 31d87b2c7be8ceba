"""The wire contract on the device: topics and canonical payload bytes (schema version 1).

The canonical encoding is the one ``protocol.codec.encode`` produces: compact UTF-8 JSON,
fields in the model's order, optional fields left out when unset. MicroPython's dicts do not
keep insertion order, so every payload is written field by field here instead of through
``json.dumps``. Numbers that are not integers are written with at most three decimals, the
shortest form, so a float32 port and CPython give the same bytes. Values the contract would
reject raise ``ValueError`` here, so the device cannot send a message the cloud drops.
"""
import json

VERSION = 1
ROOT = "etp/v1"
MAX_PAYLOAD_BYTES = 4096
MAX_METRICS = 32
MAX_DETAIL = 200
HEALTH_STATES = ("ok", "degraded", "fault", "missing")
EVENT_TYPES = ("button_press", "button_cancel", "occupancy")
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_ID_CHARS = _LOWER + _LOWER.upper() + _DIGITS + "_-"
_CODE_CHARS = _LOWER + _DIGITS + "_"

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                  "\b": "\\b", "\f": "\\f"}


def topic(site, room, device, kind, command=None):
    """Topic ``etp/v1/{site}/{room}/{device}/{kind}`` (``kind='cmd'`` takes a command name)."""
    tail = "cmd/" + command if kind == "cmd" else kind
    return "%s/%s/%s/%s/%s" % (ROOT, site, room, device, tail)


def string(value):
    """A JSON string literal as orjson writes it: UTF-8 kept, control characters escaped."""
    out = ['"']
    for ch in value:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _check(ok, what):
    if not ok:
        raise ValueError(what)


def identifier(value):
    """An event or command id: 8-64 of A-Z a-z 0-9 _ -."""
    _check(isinstance(value, str) and 8 <= len(value) <= 64
           and all(ch in _ID_CHARS for ch in value), "bad id")
    return string(value)


def code(value):
    """A fault code, command or metric name: a-z first, then up to 39 of a-z 0-9 _."""
    _check(isinstance(value, str) and 1 <= len(value) <= 40 and value[0] in _LOWER
           and all(ch in _CODE_CHARS for ch in value), "bad code or name")
    return string(value)


def _detail(value):
    _check(isinstance(value, str) and len(value) <= MAX_DETAIL, "detail too long")
    return string(value)


def number(value):
    """A JSON number: integers as they are, other numbers rounded to three decimals."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    milli = int(round(value * 1000))
    sign = "-" if milli < 0 else ""
    milli = abs(milli)
    fraction = ("%03d" % (milli % 1000)).rstrip("0") or "0"
    return "%s%d.%s" % (sign, milli // 1000, fraction)


def boolean(value):
    """A JSON boolean."""
    return "true" if value else "false"


def _envelope(ts, seq):
    _check(0 <= ts < 2**53 and 0 <= seq < 2**53, "ts and seq must be 0 to 2**53")
    return '{"v":%d,"ts":%d,"seq":%d' % (VERSION, ts, seq)


def _finish(text):
    data = text.encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValueError("payload too large")
    return data


def event(ts, seq, event_id, kind, occupied=None, synced=True):
    """An ``Event``: ``kind`` is ``button_press``, ``button_cancel`` or ``occupancy``
    (then ``occupied`` is required). ``synced`` is false when ``ts`` counts ms since boot."""
    _check(kind in EVENT_TYPES, "unknown event type")
    data = '{"type":' + string(kind)
    if kind == "occupancy":
        _check(occupied in (True, False), "occupancy needs occupied")
        data += ',"occupied":' + boolean(occupied)
    data += "}"
    return _finish(_envelope(ts, seq) + ',"id":' + identifier(event_id) + ',"data":' + data
                   + ',"synced":' + boolean(synced) + "}")


def health(ts, seq, state, fault=None, detail=None):
    """A ``Health``: ``state`` is ``ok``, ``degraded``, ``fault`` or ``missing``; ``fault``
    is its code."""
    _check(state in HEALTH_STATES, "unknown health state")
    text = _envelope(ts, seq) + ',"state":' + string(state)
    if fault is not None:
        text += ',"code":' + code(fault)
    if detail is not None:
        text += ',"detail":' + _detail(detail)
    return _finish(text + "}")


def telemetry(ts, seq, metrics):
    """A ``Telemetry``: ``metrics`` is a list of ``(name, number)`` pairs, kept in order."""
    _check(1 <= len(metrics) <= MAX_METRICS, "telemetry needs 1-32 metrics")
    fields = ",".join(code(name) + ":" + number(value) for name, value in metrics)
    return _finish(_envelope(ts, seq) + ',"metrics":{' + fields + "}}")


def ack(ts, seq, command_id, command, ok, detail=None):
    """An ``Ack`` answering the command with ``command_id``."""
    text = (_envelope(ts, seq) + ',"id":' + identifier(command_id) + ',"cmd":' + code(command)
            + ',"ok":' + boolean(ok))
    if detail is not None:
        text += ',"detail":' + _detail(detail)
    return _finish(text + "}")


class Command:
    """A command received on ``.../cmd/{name}``: its ``name``, ``id`` and ``args``."""

    def __init__(self, name, command_id, args):
        self.name = name
        self.id = command_id
        self.args = args


def parse_command(topic_name, payload):
    """Parse a command message; return ``None`` when it is not a command this device can read."""
    parts = topic_name.split("/")
    if len(parts) != 7 or parts[5] != "cmd" or len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        obj = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(obj, dict) or obj.get("v") != VERSION:
        return None
    command_id = obj.get("id")
    args = obj.get("args", {})
    if not isinstance(command_id, str) or not isinstance(args, dict):
        return None
    return Command(parts[6], command_id, args)
