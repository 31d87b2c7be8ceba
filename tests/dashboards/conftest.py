"""The cloud tests' fixtures (an ingest worker on the test's broker and database) for the
presence points the operations dashboard reads."""
from tests.cloud.conftest import cloud_settings, database_url, publisher, start_worker

__all__ = ["cloud_settings", "database_url", "publisher", "start_worker"]
