"""Use cases: open a unit of work, load, decide, append. The CLI and the API call only these.

Every command runs in one transaction: its events, the new projection and the idempotency record
commit together or not at all. A refusal raises :class:`CommandRefused` and writes nothing.
"""

from __future__ import annotations

from kosiflow.services.actions import AllowedActions, allowed_actions
from kosiflow.services.audit import AuditServices
from kosiflow.services.commands import CommandServices, WriteOptions
from kosiflow.services.deadlines import DeadlineServices, OverdueRecorded, SweepReport
from kosiflow.services.diff import Diff, DiffQueries
from kosiflow.services.dispatch import Dispatcher, DispatchRound, DispatchSettings
from kosiflow.services.migrations import MigrationPlan, MigrationServices, MigrationStep
from kosiflow.services.overview import (
    STATE_FILTERS,
    OverviewQueries,
    Standing,
    StandingPage,
    StateFilter,
    TrackStep,
    Workbench,
)
from kosiflow.services.people import PeopleServices
from kosiflow.services.queries import QueryServices
from kosiflow.services.results import (
    Clock,
    CommandResult,
    Page,
    Progress,
    RebuildReport,
    utc_now,
)
from kosiflow.services.retention import RetentionReport, RetentionServices, RetentionSetting
from kosiflow.services.sessions import SESSION_LIFETIME, SessionServices, SignedIn
from kosiflow.services.statistics import PhaseStatistics
from kosiflow.services.subscriptions import SubscriptionServices
from kosiflow.services.timeline import Timeline, TimelineEvent, TimelineQueries

__all__ = [
    "SESSION_LIFETIME",
    "STATE_FILTERS",
    "AllowedActions",
    "AuditServices",
    "Clock",
    "CommandResult",
    "Diff",
    "DispatchRound",
    "DispatchSettings",
    "Dispatcher",
    "MigrationPlan",
    "MigrationStep",
    "OverdueRecorded",
    "Page",
    "PhaseStatistics",
    "Progress",
    "RebuildReport",
    "RetentionReport",
    "RetentionSetting",
    "Services",
    "SignedIn",
    "Standing",
    "StandingPage",
    "StateFilter",
    "SweepReport",
    "Timeline",
    "TimelineEvent",
    "TrackStep",
    "Workbench",
    "WriteOptions",
    "allowed_actions",
    "utc_now",
]


class Services(
    DeadlineServices,
    RetentionServices,
    MigrationServices,
    CommandServices,
    OverviewQueries,
    QueryServices,
    AuditServices,
    DiffQueries,
    TimelineQueries,
    SessionServices,
    PeopleServices,
    SubscriptionServices,
):
    """kosiflow's use cases over one database and one workflow catalog."""
