"""Entry point: registers the command modules and maps every exception to an exit code."""

from __future__ import annotations

import os
import sys

import typer

from acrx.cli.root import app
from acrx.cancel import Interrupted
from acrx.exitcodes import ExitCode, exit_code_for

# Command modules register themselves on `app` when imported. They must stay light:
# product SDKs are imported inside the functions that use them.
from acrx.cli import commands  # noqa: E402,F401


def _one_line(exc: BaseException) -> str:
    try:
        from pydantic import ValidationError
    except ImportError:  # pragma: no cover
        ValidationError = None  # type: ignore[assignment]
    if ValidationError is not None and isinstance(exc, ValidationError):
        from acrx.config.errors import describe_validation_error

        return describe_validation_error(exc)
    from acrx.config.echo import ERROR_LIMIT, clean, cut

    # No raw control characters reach the terminal, and no echoed flag value floods it.
    text = str(exc).strip() or exc.__class__.__name__
    return cut(clean(" ".join(text.split())), ERROR_LIMIT)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code; used by main() and by tests."""
    from acrx.cli.signals import interrupt_signals

    with interrupt_signals():   # Ctrl-C/SIGTERM cancel the run; a second one stops it at once
        try:
            return _run(argv)
        except (KeyboardInterrupt, Interrupted):   # a signal landing while the error was being printed
            return int(ExitCode.INTERRUPTED)


def _wants_json(args: list[str]) -> bool:
    """-o json / --output json / -ojson / --output=json anywhere: errors then answer in JSON too."""
    for i, arg in enumerate(args):
        if arg in ("-o", "--output") and i + 1 < len(args) and args[i + 1] == "json":
            return True
        if arg in ("-ojson", "--output=json"):
            return True
    return False


def _error_envelope(exc: BaseException, code: ExitCode, message: str, field: str | None = None) -> None:
    """With -o json, the one document on stdout for a failure no command answered in JSON."""
    from acrx.render.envelope import KIND_ERROR, code_name, dumps, error_data

    error = error_data(exc, message, code_name(code))
    if field and not error.get("field"):
        error["field"] = field
    typer.echo(dumps(KIND_ERROR, {"exit_code": int(code), "error": error}))


def _click_field(exc: BaseException) -> str | None:
    param = getattr(exc, "param", None)
    opts = getattr(param, "opts", None)
    if opts:
        return max(opts, key=len)
    return getattr(exc, "option_name", None)


def _run(argv: list[str] | None) -> int:
    from acrx.cli.global_args import lift

    args = lift(list(sys.argv[1:] if argv is None else argv))   # `acrx plan --sandbox DIR` too
    verbose = any(a in ("-v", "-vv", "--verbose") for a in args)
    as_json = _wants_json(args)
    from acrx.render.envelope import printed

    before = printed()
    try:
        return _dispatch(args, verbose, as_json, before)
    finally:
        sys.stdout.flush()


def _dispatch(args: list[str], verbose: bool, as_json: bool, before: int) -> int:
    from acrx.render.envelope import printed

    try:
        result = app(args=args, prog_name="acrx", standalone_mode=False)
        return int(result or 0) if isinstance(result, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return ExitCode.INTERRUPTED
    except typer.TyperException as exc:  # typer's own usage errors (bad flag, missing option)
        if exc.__class__.__name__ == "NoArgsIsHelpError":
            exc.show()
            return ExitCode.OK
        from acrx.cli.options import bad_value_line

        line = bad_value_line(exc)   # a refused flag value: one line naming the flag, as every usage error
        typer.echo(f"error: {line}", err=True) if line else exc.show()
        if as_json and printed() == before:
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            _error_envelope(exc, ExitCode.USAGE, " ".join(message.split()), _click_field(exc))
        return ExitCode.USAGE
    except (KeyboardInterrupt, Interrupted, Exception) as exc:  # the one place errors become exit codes
        code = exit_code_for(exc)
        if verbose:
            import traceback  # only with -v: the import costs start-up time

            traceback.print_exc()
        if code not in (ExitCode.CHANGES_PENDING,):
            label = "interrupted" if code == ExitCode.INTERRUPTED else "error"
            line = _one_line(exc)
            if code == ExitCode.INTERRUPTED and line in ("interrupted", exc.__class__.__name__):
                typer.echo("interrupted", err=True)
            else:
                typer.echo(f"{label}: {line}", err=True)
            hint = getattr(exc, "hint", None)
            if hint:
                typer.echo(f"hint: {hint}", err=True)
        if as_json and printed() == before:
            _error_envelope(exc, code, _one_line(exc))
        return int(code)


def main() -> None:
    code = run()
    if code == ExitCode.INTERRUPTED:
        # Everything that matters is on disk already (one fsync'd journal line per event, the run
        # lock released): skip the interpreter's teardown, a second or more with the SDKs loaded,
        # so an interrupted run ends within the promised few seconds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
