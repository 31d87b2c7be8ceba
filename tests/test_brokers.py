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


def test_an_agent_takes_one_broker_or_the_pair_as_a_list_or_a_comma_separated_string():
    from edge.config import Broker

    assert Broker(url="mqtt://a:1883").addresses == [("a", 1883)]
    pair = [("a", 1883), ("b", 1884)]
    assert Broker(url=["mqtt://a:1883", "mqtt://b:1884"]).addresses == pair
    assert Broker(url="mqtt://a:1883,mqtt://b:1884").addresses == pair
    with pytest.raises(ValueError, match="tls"):
        Broker(url=["mqtts://a:8883", "mqtts://b:8883"])


def test_the_cloud_takes_one_broker_or_the_pair_as_a_comma_separated_url():
    from cloud.settings import CloudSettings

    assert CloudSettings(broker_url="mqtt://a:1883").broker_urls == ["mqtt://a:1883"]
    assert CloudSettings(broker_url="mqtt://a:1883, mqtt://b:1884").broker_urls == [
        "mqtt://a:1883", "mqtt://b:1884"]
