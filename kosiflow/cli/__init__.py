"""The ``kosiflow`` command line: a thin front over :mod:`kosiflow.services`.

Exit codes: 0 done, 1 refused or conflict (every reason printed), 2 bad input.
"""

from __future__ import annotations

from kosiflow.cli import (
    admin,
    audit,
    initiatives,
    lifecycle,
    report,
    retention,
    serve,
    specs,
    subscriptions,
)
from kosiflow.cli.app import app

__all__ = ["app", "main"]
_COMMANDS = (
    admin,
    audit,
    initiatives,
    lifecycle,
    report,
    retention,
    serve,
    specs,
    subscriptions,
)  # importing them registers their commands on ``app``


def main() -> None:
    """Entry point of the ``kosiflow`` script."""
    app()
