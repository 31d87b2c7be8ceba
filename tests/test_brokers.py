"""The broker list every client follows: the next broker on failure, the backoff per round."""
from __future__ import annotations

import pytest

from protocol.brokers import BrokerRotation, split_broker_urls


def test_a_single_url_and_a_comma_separated_pair_are_both_broker_lists():
    assert split_broker_urls("mqtt://a:1883") == ["mqtt://a:1883"]
    assert split_broker_urls("mqtts://a:8883, mqtts://b:8883") == ["mqtts://a:8883",
                                                                   "mqtts://b:8883"]


@pytest.mark.parametrize("urls", ["", "http://a", "mqtt://a:1883,mqtts://b:8883"])
def test_a_broker_list_that_cannot_work_is_refused(urls):
    with pytest.raises(ValueError):
        split_broker_urls(urls)


def test_a_failure_moves_to_the_next_broker_at_once_and_backs_off_once_per_round():
    rotation = BrokerRotation(2, 0.5, 30.0, rand=lambda: 1.0)
    rotation.connected(0.0)
    assert rotation.lost(1.0) == 0.5 and rotation.index == 1  # the standby, within the spread
    assert rotation.failed(2.0) == 0.5 and rotation.index == 0  # the round ends: its backoff
    assert rotation.failed(3.0) == 0.5 and rotation.index == 1
    assert rotation.failed(4.0) == 1.0 and rotation.index == 0  # the next round waits longer


def test_a_recently_seen_broker_is_retried_about_every_second_and_a_long_gone_one_slower():
    rotation = BrokerRotation(1, 0.25, 30.0, recent_s=120.0, recent_high=1.0, rand=lambda: 1.0)
    rotation.connected(0.0)
    waits = [rotation.lost(10.0)] + [rotation.failed(10.0 + n) for n in range(1, 12)]
    assert max(waits) == 1.0
    assert rotation.failed(200.0) == 30.0  # no broker for minutes: the long cap again
