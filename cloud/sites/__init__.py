"""The site domain: when each remote-service point is open, and in which zone.

``hours.py`` is the pure model (remote-service hours capped by the building's hours, its dated
exceptions and Finnish public holidays), the one weekly-hours parser and the one zone rule
(``site_zone``); ``calendar.py`` the one Finnish public-holiday calendar; ``service.py`` builds
the model for a site from the registry and the stored exceptions. Bookings, incident severity,
readiness, the consoles and the support parties' SLA clocks all ask it.
"""
