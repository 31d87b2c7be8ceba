"""The store's schema as the tests check it: what the migrations made against the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cloud.db import Base, make_engine


def schema_differences(url: str, *names: str) -> list:
    """The differences between the migrated store at ``url`` and the models that name one of
    ``names`` (a table, or a domain's table prefix): other domains' tables are theirs to
    check."""
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return [d for d in diff if any(name in repr(d) for name in names)]
