"""The relational store: one declarative base for every domain, the one instant column type,
engines, migrations.

Each domain package keeps its Alembic revisions in ``cloud/<domain>/migrations/`` on a branch
labelled with its name; ``migrate`` upgrades all branch heads, so domains evolve independently.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, DateTime, MetaData, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

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


class Instant(TypeDecorator):
    """The column type of every instant of every domain: stored in UTC, read back aware UTC.

    PostgreSQL keeps it as ``timestamptz``. SQLite keeps no offset: the value is stored as the
    UTC wall time in SQLAlchemy's text form (``2026-03-02 07:00:00.000000``,
    ``SQLITE_INSTANT``), which sorts and compares as the instants do. A naive value is refused
    on the way in: an instant without an offset is a bug to fix, not a time to guess."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """UTC on the way in (naive on SQLite, which would drop any offset unconverted)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass an aware instant")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Aware UTC on the way out."""
        return None if value is None else stored_instant(value)


SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"  # what ``Instant`` stores on SQLite: the UTC wall time


def stored_instant(value: str | datetime) -> datetime:
    """A stored instant as aware UTC: SQLite's text read raw (parsed in C, the fast path of
    hot queries) or a driver's datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_D = "[0-9]"
_CANONICAL = f"{_D * 4}-{_D * 2}-{_D * 2} {_D * 2}:{_D * 2}:{_D * 2}.{_D * 6}"  # GLOB of the form


def rewrite_sqlite_instants(connection: Connection, instants: dict[str, Iterable[str]]) -> int:
    """Bring every SQLite value of the instant columns (table -> columns) into
    ``SQLITE_INSTANT``, for migrations: a value with an offset is converted to UTC, one without
    is UTC already (every writer passed UTC). PostgreSQL's ``timestamptz`` is exact already:
    nothing to do there."""
    if connection.dialect.name != "sqlite":
        return 0
    changed = 0
    for table, column in ((t, c) for t, columns in instants.items() for c in columns):
        rows = connection.execute(text(
            f'SELECT rowid, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL '
            f'AND NOT "{column}" GLOB :canonical'), {"canonical": _CANONICAL}).all()
        for rowid, value in rows:
            utc = stored_instant(str(value).strip())
            connection.execute(text(f'UPDATE "{table}" SET "{column}" = :value WHERE rowid = :id'),
                               {"value": utc.strftime(SQLITE_INSTANT), "id": rowid})
        changed += len(rows)
    return changed


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


def dialect_insert(session: Session, table):
    """An ``INSERT`` into ``table`` that can say ``on_conflict_do_nothing`` (or ``_update``)
    on the session's store: PostgreSQL and SQLite spell the clause alike, so a row that a
    concurrent writer may insert first is written by one statement on both."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


@contextmanager
def command_session(url: str) -> Iterator[Session]:
    """A session on an engine of its own, for a command that runs once; the engine is
    disposed of afterwards."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


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
