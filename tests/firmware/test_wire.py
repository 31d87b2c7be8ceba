"""Every message the firmware makes is byte-for-byte the canonical encoding of the contract.

The firmware's encoder runs on the real MicroPython interpreter, fed the field values of each
valid vector of the kinds a device sends; its bytes must equal the vector's wire bytes.
"""
import json

import pytest

from protocol.codec import decode, encode
from protocol.payloads import Ack, Health, Telemetry
from protocol.topics import parse_topic
from protocol.vectors import load_vectors
from tests.firmware.harness import run_micropython

DEVICE_KINDS = ("event", "health", "telemetry", "ack")
VECTORS = [v for v in load_vectors() if v.valid and parse_topic(v.topic).kind in DEVICE_KINDS]
# invalid payloads of the kinds a device sends (bad topics are refused by the configuration)
# the link probe's network figures are the room agent's rules: no board sends network telemetry
INVALID = [v for v in load_vectors() if not v.valid and v.payload is not None
           and v.reason != "topic" and parse_topic(v.topic).kind in DEVICE_KINDS
           and parse_topic(v.topic).device != "network"]

# Reads one call per input line, [function, args...], and prints the bytes it makes as hex,
# or "refused" when the encoder raises ValueError.
ENCODE_ON_MICROPYTHON = """
import sys, json, binascii, wire
for line in sys.stdin:
    call = json.loads(line)
    name, args = call[0], call[1:]
    if name == "telemetry":
        args[2] = [tuple(pair) for pair in args[2]]
    try:
        print(binascii.hexlify(getattr(wire, name)(*args)).decode())
    except ValueError:
        print("refused")
"""


def firmware_encode(calls: list[list]) -> list[bytes | None]:
    """Encode on MicroPython; one call per list, ``[function, *args]``; None if refused."""
    stdin = "".join(json.dumps(call) + "\n" for call in calls)
    out = run_micropython(ENCODE_ON_MICROPYTHON, stdin).split()
    return [None if line == "refused" else bytes.fromhex(line) for line in out]


def call_for(kind: str, p: dict) -> list:
    """The firmware encoder call for the field values of payload ``p`` (fields the encoder
    has no parameter for are left out; a missing one raises ``KeyError``)."""
    if kind == "event":
        data = p["data"]
        return ["event", p["ts"], p["seq"], p["id"], data["type"], data.get("occupied"),
                p.get("synced", True)]
    if kind == "health":
        return ["health", p["ts"], p["seq"], p["state"], p.get("code"), p.get("detail")]
    if kind == "telemetry":
        return ["telemetry", p["ts"], p["seq"], list(p["metrics"].items())]
    return ["ack", p["ts"], p["seq"], p["id"], p["cmd"], p["ok"], p.get("detail")]


def test_vectors_cover_every_kind_a_device_sends():
    assert {parse_topic(v.topic).kind for v in VECTORS} == set(DEVICE_KINDS)
    assert {"valid-event-button-press", "valid-event-button-press-unsynced",
            "valid-event-button-cancel", "valid-event-occupied"} <= {v.name for v in VECTORS}


def test_firmware_encodes_every_device_vector_to_its_exact_bytes():
    calls = [call_for(parse_topic(v.topic).kind, v.payload) for v in VECTORS]
    made = firmware_encode(calls)
    assert len(made) == len(VECTORS)
    for vector, data in zip(VECTORS, made):
        assert data == vector.wire, vector.name
        decode(vector.topic, data)  # and the cloud parser accepts it


def test_firmware_cannot_produce_an_invalid_vector():
    producible = []
    for vector in INVALID:
        try:
            producible.append((vector, call_for(vector.topic.split("/")[5], vector.payload)))
        except KeyError:  # a required field is missing: the encoder has no way to leave it out
            continue
    assert {v.name for v, _ in producible} >= {"invalid-event-unknown-type",
                                               "invalid-health-bad-state",
                                               "invalid-negative-ts",
                                               "invalid-telemetry-bool-metric",
                                               "invalid-telemetry-empty"}
    made = firmware_encode([call for _, call in producible])
    for (vector, _), data in zip(producible, made, strict=True):
        if data is not None:  # what it made is valid, and not the vector (version, extra field)
            assert data != vector.wire, vector.name
            decode(vector.topic, data)


@pytest.mark.parametrize("call", [
    ["event", 1, 1, "short", "button_press", None, True],
    ["event", 1, 1, "has space-in-id", "button_press", None, True],
    ["event", 1, 1, "occ-0000000021-a1b2", "occupancy", None, True],
    ["health", 1, 1, "fault", "Bad-Code", None],
    ["health", 1, 1, "fault", "x", "d" * 201],
    ["ack", 1, 1, "cmd-4f1c2b7e9a", "ping!", True, None],
    ["telemetry", 1, 1, [["m%d" % n, n] for n in range(33)]],
    ["telemetry", 1, 2**53, [["a", 1]]],
], ids=lambda call: call[0])
def test_firmware_refuses_values_outside_the_contract(call):
    assert firmware_encode([call]) == [None]


@pytest.mark.parametrize("detail", ['say "hi"', "back\\slash", "line\nbreak\ttab",
                                    "bell\x07 and \x1f", "Fältet är tomt – ok", ""])
def test_free_text_is_escaped_like_the_canonical_encoder(detail):
    calls = [["ack", 1764500000000, 5, "cmd-4f1c2b7e9a", "ping", False, detail],
             ["health", 1764500000000, 6, "fault", "sensor", detail]]
    expected = [encode(Ack(ts=1764500000000, seq=5, id="cmd-4f1c2b7e9a", cmd="ping", ok=False,
                           detail=detail)),
                encode(Health(ts=1764500000000, seq=6, state="fault", code="sensor",
                              detail=detail))]
    assert firmware_encode(calls) == expected


def test_metric_numbers_are_written_as_the_canonical_encoder_writes_them():
    metrics = [["battery_v", 3.3], ["a", 0.1], ["b", -0.25], ["c", 41.0], ["d", -67], ["e", 0],
               ["f", 2.005], ["g", 1234.5]]
    made = firmware_encode([["telemetry", 1, 2, metrics]])[0]
    expected = encode(Telemetry(ts=1, seq=2, metrics=dict(metrics)))
    assert made == expected


def test_firmware_reads_the_advisors_acknowledgement_command():
    vector = next(v for v in load_vectors() if v.name == "valid-cmd-call-acknowledged")
    code = ("import sys, wire\n"
            "c = wire.parse_command(sys.argv[1] if len(sys.argv) > 1 else %r, %r)\n"
            "print(c.name, c.id, c.args['event'])" % (vector.topic, vector.wire))
    assert run_micropython(code).split() == ["call_acknowledged", "cmd-6b3e4d9a1c",
                                              vector.payload["args"]["event"]]


@pytest.mark.parametrize("payload", [b"not json", b"[1]", b'{"v":2,"id":"cmd-4f1c2b7e9a"}',
                                     b'{"v":1,"args":{}}', b'{"v":1,"id":"x","args":[]}'])
def test_firmware_ignores_commands_it_cannot_read(payload):
    code = "import wire\nprint(wire.parse_command(%r, %r))" % (
        "etp/v1/porvoo/r1/callbutton/cmd/call_acknowledged", payload)
    assert run_micropython(code).strip() == "None"
