"""The summon loop's world for the alert banner's tests: its store (SQLite and PostgreSQL),
advisors with display names, API replicas as processes, the background services."""
from tests.calls.conftest import (  # noqa: F401 - fixtures used by the tests here
    background,
    cloud_env,
    database,
    migrated_file,
    sessions,
    sms_gateway,
    staff,
    start_replicas,
)
