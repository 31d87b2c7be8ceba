"""The room agent: device adapters, durable outbox, MQTT link, CLI (``etapalvelu edge``)."""
