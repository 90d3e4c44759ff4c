"""The HTML page of a run, for a process owner to show in a meeting (Jinja2, autoescaped).

One self-contained page: no scripts, no external assets; failed scenarios open with their
reason in words, passed ones fold away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, StrictUndefined

from kosiflow.bdd.records import FeatureInfo, ScenarioRecord

_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Process specification: the last run",
        "generated": "Run of",
        "scenarios": "scenarios",
        "passed": "passed",
        "failed": "failed",
        "reason": "Why it failed",
        "via_api": "through the HTTP API",
        "example": "Example",
    },
    "de": {
        "title": "Ablauf-Spezifikation: der letzte Lauf",
        "generated": "Lauf vom",
        "scenarios": "Szenarien",
        "passed": "bestanden",
        "failed": "fehlgeschlagen",
        "reason": "Warum es scheiterte",
        "via_api": "über die HTTP-API",
        "example": "Beispiel",
    },
}

_MARKS = {"passed": "✓", "failed": "✗", "undefined": "?", "skipped": "○"}

_TEMPLATE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ w.title }}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1b1b1b;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .3rem; border-bottom: 2px solid #ddd; }
small, .meta { color: #555; font-weight: normal; }
.totals span { font-weight: bold; padding: .1rem .5rem; border-radius: .3rem; }
.ok { background: #e3f4e6; color: #145c24; }
.bad { background: #fbe4e4; color: #8a1414; }
details { border: 1px solid #ddd; border-left-width: .4rem; border-radius: .3rem;
          margin: .5rem 0; padding: .3rem .8rem; }
details.passed { border-left-color: #2e8b46; }
details.failed { border-left-color: #c62828; }
summary { cursor: pointer; font-weight: 600; }
.badge { font-size: .8rem; text-transform: uppercase; margin-right: .4rem; }
.reason { background: #fbe4e4; padding: .5rem .8rem; border-radius: .3rem; margin: .5rem 0; }
.reason pre { white-space: pre-wrap; margin: .3rem 0 0; font: inherit; }
ol { list-style: none; padding-left: 0; }
li { padding: .1rem 0; }
li.failed, li.undefined { color: #8a1414; font-weight: 600; }
li.skipped { color: #777; }
.mark { display: inline-block; width: 1.2rem; }
table { border-collapse: collapse; margin: .2rem 0 .2rem 1.6rem; font-size: .9rem; }
td { border: 1px solid #ccc; padding: .1rem .5rem; }
@media print { details { break-inside: avoid; } }
</style>
</head>
<body>
<h1>{{ w.title }}</h1>
<p class="meta">{{ w.generated }} {{ when }}</p>
<p class="totals"><span class="ok">{{ passed }} {{ w.passed }}</span>
<span class="bad">{{ failed }} {{ w.failed }}</span>
<span class="meta">{{ total }} {{ w.scenarios }}</span></p>
{% for feature in features %}
<section>
<h2>{{ feature.info.name or feature.info.uri }} <small>{{ feature.info.uri }}</small></h2>
{% if feature.info.description %}<p>{{ feature.info.description }}</p>{% endif %}
{% for s in feature.scenarios %}
<details class="{{ s.status }}"{% if s.status == "failed" %} open{% endif %}>
<summary><span class="badge">{{ w[s.status] }}</span>{{ s.name }}
{%- if s.example %} <small>({{ w.example }}: {% for k, v in s.example %}{{ k }} = {{ v }}
{%- if not loop.last %}, {% endif %}{% endfor %})</small>{% endif %}
{%- if s.via == "api" %} <small>{{ w.via_api }}</small>{% endif %}</summary>
{% if s.failing and s.failing.message %}
<div class="reason"><strong>{{ w.reason }}</strong><pre>{{ s.failing.message }}</pre></div>
{% endif %}
<ol>
{% for step in s.steps %}
<li class="{{ step.status }}"><span class="mark">{{ marks[step.status] }}</span>
<b>{{ step.keyword.strip() }}</b> {{ step.text }}
{% if step.table %}<table>{% for row in step.table %}<tr>{% for cell in row %}<td>{{ cell }}</td>
{%- endfor %}</tr>{% endfor %}</table>{% endif %}</li>
{% endfor %}
</ol>
</details>
{% endfor %}
</section>
{% endfor %}
</body>
</html>
"""

_ENVIRONMENT = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)


@dataclass(frozen=True, slots=True)
class _Feature:
    info: FeatureInfo
    scenarios: tuple[ScenarioRecord, ...]


def report_html(records: Sequence[ScenarioRecord], lang: str, when: datetime) -> str:
    """The page of a run: features in the order they ran, each with its scenarios and steps."""
    grouped: dict[str, list[ScenarioRecord]] = {}
    for record in records:
        grouped.setdefault(record.feature.uri, []).append(record)
    features = [_Feature(group[0].feature, tuple(group)) for group in grouped.values()]
    failed = sum(1 for r in records if r.status == "failed")
    return _ENVIRONMENT.from_string(_TEMPLATE).render(
        lang=lang,
        w=_WORDS[lang],
        when=when.strftime("%Y-%m-%d %H:%M UTC"),
        features=features,
        total=len(records),
        passed=len(records) - failed,
        failed=failed,
        marks=_MARKS,
    )
