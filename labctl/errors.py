"""Errors users see: one line naming the problem and the fix, and an exit code.

Exit codes are part of the CLI contract: 0 success, 1 a drill's verdict is
fail, 2 usage or input error, 3 infrastructure error.
"""

EXIT_OK = 0
EXIT_DRILL_FAILED = 1
EXIT_USAGE = 2
EXIT_INFRA = 3


class LabctlError(Exception):
    """An error with a one-line message for the user and an exit code."""

    exit_code = EXIT_INFRA

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(LabctlError):
    """Bad input: unknown names, malformed config, missing lab."""

    exit_code = EXIT_USAGE


class InfraError(LabctlError):
    """The machines, the cluster or a cloud API did not do what was asked."""

    exit_code = EXIT_INFRA


class NotAvailableError(InfraError):
    """A command whose backend is not part of this build yet."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not available yet: {what}")


class LabBusyError(UsageError):
    """Another mutating command holds the lab's lock."""


def one_line(text: str) -> str:
    """Collapse a multi-line message so errors stay one line."""
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
