"""Incidents: detect room faults, route them to the responsible party, hold it to its SLA."""
