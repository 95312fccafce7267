"""Alembic environment for the stashplex mirror.

`stashplex db upgrade` (and start-up) passes its own connection, already inside a transaction,
through `config.attributes["connection"]`; the alembic command line builds one from alembic.ini.
"""

from __future__ import annotations

from alembic import context

from stashplex.mirror.db import make_engine
from stashplex.mirror.models import Base

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = make_engine(
        url.removeprefix("sqlite+pysqlite:///").removeprefix("sqlite:///"), write=True
    )
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
