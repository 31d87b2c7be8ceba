"""The wire contract on the device: topics and canonical payload bytes (schema version 1).

The canonical encoding is the one ``protocol.codec.encode`` produces: compact UTF-8 JSON,
fields in the model's order, optional fields left out when unset. MicroPython's dicts do not
keep insertion order, so every payload is written field by field here instead of through
``json.dumps``. Numbers that are not integers are written with at most three decimals, the
shortest form, so a float32 port and CPython give the same bytes.
"""
import json

VERSION = 1
ROOT = "etp/v1"
MAX_PAYLOAD_BYTES = 4096

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
    if ts < 0 or seq < 0:
        raise ValueError("ts and seq must not be negative")
    return '{"v":%d,"ts":%d,"seq":%d' % (VERSION, ts, seq)


def _finish(text):
    data = text.encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValueError("payload too large")
    return data


def event(ts, seq, event_id, kind, occupied=None, synced=True):
    """An ``Event``: ``kind`` is ``button_press``, ``button_cancel`` or ``occupancy``
    (then ``occupied`` is required). ``synced`` is false when ``ts`` counts ms since boot."""
    data = '{"type":' + string(kind)
    if kind == "occupancy":
        data += ',"occupied":' + boolean(occupied)
    data += "}"
    return _finish(_envelope(ts, seq) + ',"id":' + string(event_id) + ',"data":' + data
                   + ',"synced":' + boolean(synced) + "}")


def health(ts, seq, state, code=None, detail=None):
    """A ``Health``: ``state`` is ``ok``, ``degraded``, ``fault`` or ``missing``."""
    text = _envelope(ts, seq) + ',"state":' + string(state)
    if code is not None:
        text += ',"code":' + string(code)
    if detail is not None:
        text += ',"detail":' + string(detail)
    return _finish(text + "}")


def telemetry(ts, seq, metrics):
    """A ``Telemetry``: ``metrics`` is a list of ``(name, number)`` pairs, kept in order."""
    if not metrics:
        raise ValueError("telemetry needs at least one metric")
    fields = ",".join(string(name) + ":" + number(value) for name, value in metrics)
    return _finish(_envelope(ts, seq) + ',"metrics":{' + fields + "}}")


def ack(ts, seq, command_id, command, ok, detail=None):
    """An ``Ack`` answering the command with ``command_id``."""
    text = (_envelope(ts, seq) + ',"id":' + string(command_id) + ',"cmd":' + string(command)
            + ',"ok":' + boolean(ok))
    if detail is not None:
        text += ',"detail":' + string(detail)
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
