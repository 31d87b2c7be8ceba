"""Fixtures of the availability tests: the recording SMTP relay of the notification tests."""
from tests.notify.conftest import smtp  # noqa: F401 - a fixture, registered by its import
