"""Fixtures of the notify tests: a migrated SQLite store and real receivers."""
from __future__ import annotations

import pytest

from cloud.db import make_engine, make_sessionmaker, migrate
from tests.notify.receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def store(tmp_path):
    """A sessionmaker on a freshly migrated SQLite file."""
    url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def smtp():
    """A recording SMTP server (aiosmtpd) on a free port."""
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def http_receiver():
    """A recording HTTP server on a free port (SMS gateway, ticketing webhook)."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()
