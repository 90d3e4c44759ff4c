"""Use cases: open a unit of work, load, decide, append. The CLI and the API call only these.

Every command runs in one transaction: its events, the new projection and the idempotency record
commit together or not at all. A refusal raises :class:`CommandRefused` and writes nothing.
"""

from __future__ import annotations

from kosiflow.services.audit import AuditServices
from kosiflow.services.commands import CommandServices, WriteOptions
from kosiflow.services.queries import QueryServices
from kosiflow.services.results import Clock, CommandResult, Progress, RebuildReport, utc_now
from kosiflow.services.statistics import PhaseStatistics

__all__ = [
    "AuditServices",
    "Clock",
    "CommandResult",
    "PhaseStatistics",
    "Progress",
    "RebuildReport",
    "Services",
    "WriteOptions",
    "utc_now",
]


class Services(CommandServices, QueryServices, AuditServices):
    """kosiflow's use cases over one database and one workflow catalog."""
