"""The relational store: one declarative base for every domain, engines, migrations.

Each domain package keeps its Alembic revisions in ``cloud/<domain>/migrations/`` on a branch
labelled with its name; ``migrate`` upgrades all branch heads, so domains evolve independently.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from cloud.settings import DatabasePool

CLOUD_DIR = Path(__file__).parent
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table of the cloud."""

    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str, *, pool: DatabasePool | None = None, **kwargs) -> Engine:
    """An engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL, whose connection
    pool is sized by ``pool`` (the settings' default when not given); ``kwargs`` go to
    ``create_engine`` and win over ``pool``."""
    pool = pool or DatabasePool()
    sized = {"pool_size": pool.size, "max_overflow": pool.max_overflow,
             "pool_timeout": pool.timeout_s}
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:  # an in-memory database lives in one connection: no pool to size
            sized = {}
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **(sized | kwargs))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **(sized | kwargs))


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable on commit but for power loss of the last ms
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def migration_locations() -> list[str]:
    """Every domain's revision folder."""
    return sorted(str(p) for p in CLOUD_DIR.glob("*/migrations") if p.parent.name != "migrations"
                  and p.is_dir())


def alembic_config(url: str):
    """The Alembic configuration for ``url`` (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(CLOUD_DIR / "migrations"))
    config.set_main_option("version_locations", " ".join(migration_locations()))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest revision of every domain."""
    from alembic import command

    make_engine(url).dispose()  # creates the SQLite folder when needed
    command.upgrade(alembic_config(url), "heads")
