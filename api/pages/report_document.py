"""The audit report as a self-contained HTML document (styles inlined, nothing loaded from
elsewhere), rendered without a request: printed to PDF by the report page and by ``kosiflow
report``. Its body is the same template the report page shows (``_report_body.html``)."""

from functools import partial

from markupsafe import Markup

from api.pages.rendering import ENVIRONMENT, STATIC
from api.pages.report_view import ReportView
from api.pages.texts import translate


def report_document(view: ReportView, lang: str) -> str:
    """The report ``view`` as one HTML file in ``lang``, with the pages' stylesheet inlined
    (its print rules make it a clean document)."""
    stylesheet = (STATIC / "kosiflow.css").read_text(encoding="utf-8")
    return ENVIRONMENT.get_template("report_document.html").render(
        t=partial(translate, lang),
        lang=lang,
        title=translate(lang, "report.title", title=view.title),
        view=view,
        # Our own stylesheet, inlined as it is (escaping would break its quotes).
        stylesheet=Markup(stylesheet),  # noqa: S704
    )
