"""The live bus: events that must reach every open console now, whichever API replica holds
it, fanned out through the MQTT broker (ARCHITECTURE.md: the broker is the bus).

``LiveBus`` is one MQTT connection per process. ``await bus.publish(channel, event)`` (or
``bus.publish_threadsafe`` from a worker thread) sends a JSON object to the channel's topic
``etp/live/v1/<channel>``; every process's bus receives it back from the broker and hands it to
its in-process subscribers (``async with bus.subscribe("site/porvoo") as events``). A
subscriber's queue is bounded: one that falls behind is dropped (counted), never slowing the
others; a malformed message is counted and dropped.
"""
from cloud.live.bus import LIVE_ROOT, LiveBus, SubscriberDropped, channel_topic

__all__ = ["LIVE_ROOT", "LiveBus", "SubscriberDropped", "channel_topic"]
