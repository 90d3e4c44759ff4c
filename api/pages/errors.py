"""What a page request may end in besides a page: a sign-in first, or a refused form."""


class SignInRequired(Exception):
    """No valid session: the browser goes to the sign-in page, then back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRejected(Exception):
    """A form came without this session's token, or with another one (403; nothing changes)."""


class ReportsForbidden(Exception):
    """A viewer none of whose roles may see audit reports asked for one (403)."""


class FormProblem(Exception):
    """A form field's value is not acceptable (422): ``problem`` is a catalogue key."""

    def __init__(self, field: str, problem: str, **params: int) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.params = params
