"""The statistics domain: what the pilot measures, as defined formulas over facts.

``facts`` holds the personal-data-free facts the figures are computed from and the seams of
the sources other domains provide; ``figures`` the pure figure functions (rows and ``now`` in,
figures out, no I/O); ``sources`` reads the facts through the other domains' service
functions; ``service`` answers a question (family, range, period, grouping, scope) and keeps
the facts the event log's retention would lose; ``daily`` writes the daily aggregates to
InfluxDB from the schedule; ``views`` the scoped REST API with ``export``'s CSV and XLSX;
``report`` (with ``charts``) the monthly pilot report; ``cli`` its command.
docs/statistics.md defines every figure.
"""
