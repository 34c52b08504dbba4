"""One tree of errors, so callers can catch everything pykue raises with ``PykueError``."""
from __future__ import annotations


class PykueError(Exception):
    """Base class of every error pykue raises."""


class InvalidJobError(PykueError, ValueError):
    """A job field was given a value Kue's format cannot hold; nothing was written."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        try:
            shown = repr(value)
        except RecursionError:
            shown = f"<{type(value).__name__} nested too deeply to show>"
        if len(shown) > 200:
            shown = shown[:200] + f"... ({len(shown)} characters)"
        super().__init__(f"invalid {field} {shown}: {reason}")


class InvalidStateError(InvalidJobError):
    def __init__(self, value: object) -> None:
        super().__init__("state", value, "expected one of inactive, active, complete, failed, delayed")


class JobNotFoundError(PykueError, LookupError):
    def __init__(self, job_id: object, reason: str = "") -> None:
        self.job_id = job_id
        super().__init__(f'job "{job_id}" doesnt exist' + (f": {reason}" if reason else ""))


class JobFailedError(PykueError):
    """Raised by ``Job.wait`` when the job failed for good; carries the stored error."""

    def __init__(self, job_id: object, error: str | None) -> None:
        self.job_id = job_id
        self.error = error
        first_line = (error or "").splitlines()[0] if error else "unknown error"
        super().__init__(f"job {job_id} failed: {first_line}")


class ConfigurationError(PykueError, ValueError):
    """A connection or queue option is malformed."""


class TaskNotFoundError(PykueError, LookupError):
    pass
