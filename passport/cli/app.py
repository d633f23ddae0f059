"""The root typer application: sub-commands are registered by the modules that define them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from passport import __version__
from passport.errors import InvalidInput, PassportError
from passport.models.base import parse_datetime

app = typer.Typer(
    name="passport",
    help="Issue, sign, store and serve EU battery digital product passports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

# emoji=False: rich would turn the ":key:" of "did:key:" into an emoji
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line on stderr and exit."""
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def moment(text: str, option: str) -> dt.datetime:
    """An RFC 3339 time, or a date (midnight UTC)."""
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
        return parse_datetime(text)
    except (ValueError, InvalidInput):
        fail(f"{option}: a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z), not {text!r}", code=2)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the product's errors, and I/O errors, into one line and exit 1; never a traceback. Anything else is a
    bug: it is still one line (naming the exception, to report it), never a traceback."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own: usage errors, exits
            raise
        except PassportError as exc:
            fail(exc.detail)
        except OSError as exc:
            fail(os_error(exc))
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except Exception as exc:
            fail(f"unexpected {exc.__class__.__name__}: {one_line(str(exc))} (a bug: please report it)")

    return run


def os_error(exc: OSError) -> str:
    """'path: reason' of a failed file operation, in words a user acts on."""
    path = exc.filename or ""
    if isinstance(exc, FileExistsError) and path and not Path(path).is_dir():
        return f"{path}: exists and is not a directory"
    if isinstance(exc, BrokenPipeError):
        return "output closed early (broken pipe)"
    return f"{path}: {exc.strerror or exc}".lstrip(": ")


def one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no detail"


def version_callback(value: bool) -> None:
    if value:
        out.print(f"passport {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=version_callback, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Issue, sign, store and serve EU battery digital product passports."""


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point (``passport``) and ``python -m passport``."""
    from passport.cli import commands  # noqa: F401  (registers the sub-commands)

    return app(args=argv, prog_name="passport")
