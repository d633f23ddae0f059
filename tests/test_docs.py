"""Documentation unit tests: generated references are current, every command and setting is documented."""

from __future__ import annotations

from pathlib import Path

import typer

from passport.cli import app
from passport.cli import commands as _commands  # noqa: F401  (registers the sub-commands)
from passport.config import Settings
from passport.docgen import data_model_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_data_model_reference_is_current() -> None:
    assert (DOCS / "data-model.md").read_text(encoding="utf-8") == data_model_markdown(), (
        "docs/data-model.md is stale: run `passport schema docs`"
    )


def test_data_model_reference_covers_every_datapoint() -> None:
    text = data_model_markdown()
    assert "**missing**" not in text
    for dp in range(1, 72):
        assert f"\n| {dp} | `" in text


def _command_paths(group: typer.Typer, prefix: str = "passport") -> list[str]:
    paths = [f"{prefix} {command.name or (command.callback.__name__ if command.callback else '')}".strip()
             for command in group.registered_commands]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        paths += _command_paths(sub.typer_instance, f"{prefix} {sub.name}")
    return paths


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = _command_paths(app)
    assert len(commands) >= 5
    for command in commands:
        group_heading = " ".join(command.split()[:2])
        assert f"## {command}" in text or (f"## {group_heading}" in text and command in text), command


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`PASSPORT_{name.upper()}`" in text, name


def test_readme_shows_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text


def test_api_reference_is_current() -> None:
    from passport.web.apidoc import api_reference_markdown

    assert (DOCS / "api-reference.md").read_text(encoding="utf-8") == api_reference_markdown(), (
        "docs/api-reference.md is stale: run `passport schema docs`"
    )
