"""Times, durations, links and people as the pages show them, in German or English."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from api.pages.texts import translate
from kosiflow.engine import SYSTEM_ACTOR, RemovedText
from kosiflow.engine.events import Text


@dataclass(frozen=True, slots=True)
class When:
    """A moment: machine-readable for ``<time datetime>``, and as people read it."""

    iso: str
    text: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """Evidence as given; ``href`` only for an http(s) URL (anything else stays text)."""

    text: str
    href: str | None


def when(moment: datetime, lang: str) -> When:
    """``moment`` in UTC: ``14.06.2017, 10:00 UTC`` (de) or ``2017-06-14 10:00 UTC`` (en)."""
    utc = moment.astimezone(UTC)
    pattern = "%d.%m.%Y, %H:%M UTC" if lang == "de" else "%Y-%m-%d %H:%M UTC"
    return When(utc.isoformat(), utc.strftime(pattern))


def duration(span: timedelta, lang: str, *, precise: bool = True) -> str:
    """Whole days and hours, e.g. ``3 days 4 hours`` / ``3 Tage 4 Stunden`` (without
    ``precise``, hours only for less than a day)."""
    hours = int(span.total_seconds() // 3600)
    days, hours = divmod(max(hours, 0), 24)
    if days == 0 and hours == 0:
        return translate(lang, "duration.under_an_hour")
    parts = []
    if days:
        parts.append(translate(lang, "duration.day" if days == 1 else "duration.days", n=days))
    if hours and (precise or not days):
        parts.append(translate(lang, "duration.hour" if hours == 1 else "duration.hours", n=hours))
    return " ".join(parts)


def evidence(text: str) -> Evidence:
    """Evidence as a link when it is an http(s) URL with a host, else as plain text."""
    value = text.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return Evidence(text, None)
    is_web = parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)
    return Evidence(text, value if is_web and " " not in value else None)


def kept(value: Text, lang: str) -> str:
    """An evidence or note text as shown: itself, or the words of its removal (with the date
    it was removed under the retention policy)."""
    if not isinstance(value, RemovedText):
        return value
    if value.at is None:
        return translate(lang, "text.missing")
    return translate(lang, "text.removed", date=when(value.at, lang).text)


def evidence_of(value: Text, lang: str) -> Evidence:
    """Evidence as :func:`evidence` shows it; once removed, the words of its removal."""
    if isinstance(value, RemovedText):
        return Evidence(kept(value, lang), None)
    return evidence(value)


def person(names: Mapping[str, str], person_id: str, lang: str) -> str:
    """A person's display name; the system, an erased or an unknown person in words."""
    if person_id == SYSTEM_ACTOR:
        return translate(lang, "person.system")
    name = names.get(person_id)
    if name is None:
        return translate(lang, "person.unknown")
    return name or translate(lang, "person.erased")
