"""The device rules on the real MicroPython interpreter, with made-up times (no I/O)."""
import json
import shutil
from pathlib import Path

import pytest

from tests.firmware.harness import FIRMWARE, run_micropython


def mp_json(code: str):
    """Run ``code`` (which sets ``result``) on MicroPython; return ``result`` via JSON."""
    return json.loads(run_micropython(code + "\nimport json\nprint(json.dumps(result))"))


def feed(module: str, make: str, samples: list[tuple[int, int]]):
    """Feed ``(time_ms, level)`` samples to the rule made by ``make``; the non-None outputs."""
    return mp_json(f"""
from {module} import *
rule = {make}
result = []
for now, level in {samples!r}:
    out = rule.update(now, bool(level))
    if out is not None:
        result.append([now, out])
""")


def test_a_bounce_shorter_than_the_debounce_is_not_a_press():
    samples = [(0, 0), (10, 1), (15, 0), (20, 1), (25, 0), (100, 0)]
    assert feed("button", "PressDetector(30, 2000, 0)", samples) == []


def test_a_short_press_is_a_press_when_released():
    samples = [(0, 0), (10, 1), (30, 1), (45, 1), (300, 1), (310, 0), (330, 0), (345, 0)]
    assert feed("button", "PressDetector(30, 2000, 0)", samples) == [[45, "down"],
                                                                    [345, "button_press"]]


def test_a_long_press_cancels_while_held_and_its_release_sends_nothing():
    samples = [(0, 1), (40, 1), (1000, 1), (2039, 1), (2040, 1), (3000, 1), (3010, 0),
               (3050, 0)]
    assert feed("button", "PressDetector(30, 2000, 0)", samples) == [[40, "down"],
                                                                    [2040, "button_cancel"]]


def test_a_button_held_at_wake_counts_from_the_wake():
    samples = [(0, 1), (100, 1), (110, 0), (150, 0)]
    assert feed("button", "PressDetector(30, 2000, 0, held=True)", samples) == [
        [150, "button_press"]]


def test_occupancy_ignores_blips_and_short_gaps():
    samples = [(0, 0), (100, 1), (150, 0), (400, 1), (900, 1), (1500, 1), (1501, 0),
               (3000, 0), (3400, 1), (3401, 0), (5000, 0), (6402, 0)]
    result = feed("presence", "OccupancyFilter(500, 3000, 0)", samples)
    # a 50 ms blip does not occupy; 500 ms of motion does; a 1.9 s gap does not vacate;
    # 3 s without motion after the last blip at 3400 does
    assert result == [[900, True], [6402, False]]


def test_occupancy_reports_vacant_after_boot_when_nothing_moves():
    result = feed("presence", "OccupancyFilter(500, 3000, 0)", [(0, 0), (2999, 0), (3000, 0)])
    assert result == [[3000, False]]


def test_the_2000_epoch_is_moved_to_unix_time_and_an_unset_clock_is_no_time():
    result = mp_json("""
import clock
nov_2025_since_2000_ms = (1764500000 - clock.Y2K_OFFSET_S) * 1000
result = [clock.unix_ms(nov_2025_since_2000_ms, clock.Y2K_OFFSET_S),
          clock.unix_ms(1764500000000, 0),
          clock.unix_ms(5230, clock.Y2K_OFFSET_S),
          clock.unix_ms(5230, 0),
          clock.port_epoch_offset_s()]
""")
    assert result == [1764500000000, 1764500000000, None, None, 0]  # the Unix port counts from 1970


def test_backoff_doubles_up_to_the_cap_and_spreads_over_its_upper_half():
    result = mp_json("""
from link import backoff_ms
result = [[backoff_ms(a, 100, 5000, n) for a in range(8)] for n in (0, 0.999)]
""")
    assert result[0] == [50, 100, 200, 400, 800, 1600, 2500, 2500]
    assert result[1] == [99, 199, 399, 799, 1599, 3198, 4997, 4997]


def test_the_retry_queue_and_sequence_survive_a_restart_and_keep_order(tmp_path):
    result = mp_json(f"""
from store import RetryQueue, Sequence
seq = Sequence("{tmp_path}/seq")
queue = RetryQueue("{tmp_path}/queue", limit=3)
for n in range(4):
    queue.push(seq.next(), "t/%d" % n, b"payload %d" % n)
seq, queue = Sequence("{tmp_path}/seq"), RetryQueue("{tmp_path}/queue", limit=3)  # a new boot
first = queue.peek()
queue.remove(first[0])
result = [seq.next(), len(queue), first[0], first[1], first[2].decode(), queue.peek()[1]]
""")
    # four pushed, the limit of three dropped the oldest; the sequence went on from 4
    assert result == [5, 2, "000000000002", "t/1", "payload 1", "t/2"]


def test_the_example_configurations_load_on_the_device(tmp_path):
    examples = Path(FIRMWARE / "examples")
    for name in ("callbutton", "occupancy"):
        root = tmp_path / name
        root.mkdir()
        shutil.copy(examples / f"{name}.json", root / "config.json")
        shutil.copy(examples / "secrets.json", root / "secrets.json")
        loaded = mp_json(f"""
import config
c = config.load("{root}")
result = [c.device, c.client_id, c.mqtt_username, c.broker_port, c.broker_tls]
""")
        assert loaded == [name, f"porvoo.r1.{name}", f"porvoo.r1.{name}", 8883, True]


@pytest.mark.parametrize("site", ["a+b", "#", "a/b", "", "UPPER", "x" * 33, "-lead"])
def test_a_site_name_that_cannot_be_a_topic_level_stops_the_device_at_boot(tmp_path, site):
    (tmp_path / "config.json").write_text(json.dumps(
        {"device": "callbutton", "site": site, "room": "r1",
         "broker": {"host": "mqtt.example.invalid"}}))
    assert mp_json(f"""
import config
try:
    config.load("{tmp_path}")
    result = "loaded"
except config.ConfigError as exc:
    result = str(exc)
""").startswith("site must be")
