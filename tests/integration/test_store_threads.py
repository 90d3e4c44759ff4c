"""Connections are shared between threads, not leaked per thread."""

from __future__ import annotations

import threading

from kosiflow.store import open_database


def test_many_short_lived_threads_never_exhaust_the_pool(database_url: str) -> None:
    database = open_database(database_url)
    errors: list[BaseException] = []

    def one_unit() -> None:
        try:
            with database.read() as unit:
                list(unit.initiative_ids())
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    try:
        for _ in range(40):  # more threads than the pool holds (5 + 10 overflow)
            thread = threading.Thread(target=one_unit)
            thread.start()
            thread.join(timeout=60)
        assert errors == []
    finally:
        database.close()
