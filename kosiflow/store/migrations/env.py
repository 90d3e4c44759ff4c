"""Alembic environment: kosiflow runs migrations from code (``kosiflow.store.upgrade``).

The caller passes an open connection, inside its transaction, in ``config.attributes``.
Developers may also run the ``alembic`` command with ``sqlalchemy.url`` set in their own ini.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kosiflow.store.engines import create_store_engine
from kosiflow.store.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("run migrations with kosiflow.store.upgrade() or set sqlalchemy.url")
    engine = create_store_engine(url)
    try:
        with engine.connect() as own:
            _run(own)
            own.commit()
    finally:
        engine.dispose()


_main()
