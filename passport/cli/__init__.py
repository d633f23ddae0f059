"""The ``passport`` command line (typer + rich). Errors are one clear line on stderr and a non-zero exit."""

from passport.cli.app import app, main

__all__ = ["app", "main"]
