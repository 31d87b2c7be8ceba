"""The site domain: when each remote-service point is open.

``hours.py`` is the pure model (remote-service hours capped by the building's hours, its dated
exceptions and Finnish public holidays); ``service.py`` builds it for a site from the registry
and the stored exceptions. Bookings, incident severity, readiness and the consoles all ask it.
"""
