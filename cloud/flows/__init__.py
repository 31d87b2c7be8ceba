"""Journeys that cross domains, each written once: a reader finds a journey in one file, and
each step is a service function of the domain that owns the tables it touches."""
