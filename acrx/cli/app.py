"""Entry point: registers the command modules and maps every exception to an exit code."""

from __future__ import annotations

import sys
import traceback

import typer

from acrx.cli.root import app
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
    text = str(exc).strip() or exc.__class__.__name__
    return " ".join(text.split())


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code; used by main() and by tests."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = any(a in ("-v", "-vv", "--verbose") for a in args)
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
        exc.show()
        return ExitCode.USAGE
    except (KeyboardInterrupt, Exception) as exc:  # the one place errors become exit codes
        code = exit_code_for(exc)
        if verbose:
            traceback.print_exc()
        if code not in (ExitCode.CHANGES_PENDING,):
            label = "interrupted" if code == ExitCode.INTERRUPTED else "error"
            line = _one_line(exc) if code != ExitCode.INTERRUPTED else "interrupted"
            typer.echo(f"{label}: {line}" if label != "interrupted" else line, err=True)
            hint = getattr(exc, "hint", None)
            if hint:
                typer.echo(f"hint: {hint}", err=True)
        return int(code)


def main() -> None:
    sys.exit(run())
