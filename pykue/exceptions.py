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
        super().__init__(f"invalid {field} {shown(value)}: {reason}")


class InvalidStateError(InvalidJobError):
    def __init__(self, value: object, states: tuple[str, ...]) -> None:
        super().__init__("state", value, f"expected one of {', '.join(states)}")


def shown(value: object, limit: int = 200) -> str:
    """``repr(value)`` cut to ``limit`` characters; a value whose repr fails is still named,
    so building the error that reports it can never raise another one."""
    try:
        text = repr(value)
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply to show>"
    except ValueError:  # an int beyond sys.get_int_max_str_digits(), or holding one
        return f"<{type(value).__name__} holding an integer too long to show>"
    except Exception as error:
        return f"<{type(value).__name__} whose repr() raised {type(error).__name__}>"
    return text[:limit] + f"... ({len(text)} characters)" if len(text) > limit else text


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


class JobCancelled(PykueError):
    """Raised in a running task by ``job.progress()``, ``job.log()`` or ``job.check_cancelled()``
    once its job was cancelled: the job has already failed, and whatever the task does next
    is discarded."""

    def __init__(self, job_id: object, error: str) -> None:
        self.job_id = job_id
        self.error = error
        super().__init__(f"job {job_id} was cancelled: {error}")
