"""A PostgreSQL schema of its own for a benchmark run (dropped afterwards)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def postgres_schema(url: str, prefix: str = "bench_api") -> Iterator[str]:
    """A fresh schema on the server at ``url``; yields the URL that uses it."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"{prefix}_{os.getpid()}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")
