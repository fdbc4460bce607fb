"""Exit codes, and the one place exceptions become them."""

from __future__ import annotations

from enum import IntEnum

from acrx import cancel, errors


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    CHANGES_PENDING = 3
    VERIFY_FAILED = 4
    INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> ExitCode:
    if isinstance(exc, (cancel.Interrupted, KeyboardInterrupt)):  # Ctrl-C, SIGTERM, a cancelled wait
        return ExitCode.INTERRUPTED
    if isinstance(exc, errors.ChangesPending):
        return ExitCode.CHANGES_PENDING
    if isinstance(exc, errors.VerificationFailed):
        return ExitCode.VERIFY_FAILED
    if isinstance(exc, errors.UsageError):
        return ExitCode.USAGE
    try:
        from pydantic import ValidationError
    except ImportError:  # pragma: no cover
        ValidationError = ()  # type: ignore[assignment]
    if isinstance(exc, ValidationError):
        return ExitCode.USAGE
    return ExitCode.ERROR
