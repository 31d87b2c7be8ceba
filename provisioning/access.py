"""What an identity's grants let it do, decided as Mosquitto's dynamic-security plugin decides.

Production's broker reads the grants of ``provisioning.identities`` from the generated
dynamic-security file; the demo's embedded broker asks these rules about the same identities,
so both brokers keep one set of rules from one source. Anything not granted is denied.
"""
from __future__ import annotations

from provisioning.identities import Identity

SEND, RECEIVE, SUBSCRIBE = "publishClientSend", "publishClientReceive", "subscribePattern"


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether a topic name matches a topic filter ([MQTT-4.7.1]); a filter starting with a
    wildcard never matches a ``$`` topic ([MQTT-4.7.2-1])."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    levels, wanted = topic.split("/"), topic_filter.split("/")
    for index, level in enumerate(wanted):
        if level == "#":
            return True  # also the parent level: "a/#" matches "a" [MQTT-4.7.1-2]
        if index >= len(levels) or level not in ("+", levels[index]):
            return False
    return len(levels) == len(wanted)


def filter_within(granted: str, requested: str) -> bool:
    """Whether every topic the ``requested`` subscription filter can match is one the
    ``granted`` pattern matches: a wildcard is allowed only where the grant has one as wide."""
    mine, theirs = granted.split("/"), requested.split("/")
    for index, level in enumerate(mine):
        if level == "#":
            return True
        if index >= len(theirs):
            return False
        if level == "+":
            if theirs[index] == "#":
                return False
        elif level != theirs[index]:
            return False
    return len(mine) == len(theirs)


def may_connect(identity: Identity, client_id: str) -> bool:
    """An identity bound to a client id connects under that id only (no wildcards, no taking
    over another client's session); cloud workers choose their own ids."""
    return identity.client_id is None or identity.client_id == client_id


def may_publish(identity: Identity, topic: str) -> bool:
    """Whether the identity may send a message (its Last Will included) on ``topic``."""
    return any(g.acltype == SEND and topic_matches(g.topic, topic) for g in identity.grants)


def may_receive(identity: Identity, topic: str) -> bool:
    """Whether a message on ``topic`` may be delivered to the identity, live or retained."""
    return any(g.acltype == RECEIVE and topic_matches(g.topic, topic) for g in identity.grants)


def may_subscribe(identity: Identity, topic_filter: str) -> bool:
    """Whether the identity may subscribe to ``topic_filter``."""
    return any(g.acltype == SUBSCRIBE and filter_within(g.topic, topic_filter)
               for g in identity.grants)
