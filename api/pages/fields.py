"""Reading form fields: required or optional text within the field's length (as the API's), the
version a form was rendered at. A bad value is a :class:`FormProblem` naming the field (422)."""

from api.limits import MAX_LENGTHS
from api.pages.errors import FormProblem
from api.pages.texts import field_problem


def required_text(value: str, field: str) -> str:
    """``value`` stripped; a FormProblem when it is blank or longer than the field takes."""
    limit = MAX_LENGTHS[field]
    text = value.strip()
    if not text:
        raise FormProblem(field, "required")
    if len(text) > limit:
        raise FormProblem(field, "too_long", limit=limit)
    return text


def optional_text(value: str, field: str) -> str | None:
    """``value`` stripped, None when blank; a FormProblem when longer than the field takes."""
    return required_text(value, field) if value.strip() else None


def version_of(value: str) -> int:
    """The version a form was rendered at (its hidden ``version`` field)."""
    text = value.strip()
    if not text.isdigit() or len(text) > 9:
        raise FormProblem("version", "invalid")
    return int(text)


def describe(problem: FormProblem, lang: str) -> str:
    """The problem as a sentence naming the field, in ``lang``."""
    return field_problem(lang, problem.field, problem.problem, **problem.params)
