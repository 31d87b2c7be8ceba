"""The public face of each remote-service point: what a customer reads before the visit.

``week.py`` turns the site's one opening-hours model (``cloud.sites.hours.OpeningHours``) into
the hours a point publishes: its regular week and the next four weeks' days, the special ones
(public holidays, the building's dated exceptions) marked; ``linked_data.py`` writes them as a
schema.org ``GovernmentOffice`` (JSON-LD) and ``ptv.py`` as a service location channel of the
Suomi.fi service catalogue (PTV, open API v11), so the page, search engines and the catalogue
read the same hours. ``pages.py`` serves ``/points`` and ``/points/{site}`` without login;
``cli.py`` prints the PTV document (``etapalvelu sites ptv SITE``).
"""
