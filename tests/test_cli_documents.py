"""``passport validate``, ``convert`` and ``schema``: output lines, exit codes, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from passport.cli import app
from passport.cli import commands as _commands  # noqa: F401  (registers the sub-commands)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_valid_examples_exit_zero() -> None:
    code, stdout, _ = run("validate", *map(str, sorted(EXAMPLES.glob("passport-*.json"))))
    assert code == 0, stdout
    assert "warning" not in stdout


@pytest.mark.parametrize("path", sorted((EXAMPLES / "invalid").glob("*.json")), ids=lambda p: p.name)
def test_each_invalid_example_exits_one_naming_the_pointer(path: Path) -> None:
    code, stdout, _ = run("validate", str(path))
    assert code == 1
    lines = [line for line in stdout.splitlines() if not line.startswith("warning:")]
    assert lines and all(line.startswith(f"{path}: /") for line in lines)


def test_ndjson_lines_are_numbered(tmp_path: Path) -> None:
    good = json.loads((EXAMPLES / "passport-ev.json").read_text())
    bad = json.loads((EXAMPLES / "passport-ev.json").read_text())
    bad["general"]["batteryMass"] = -1
    target = tmp_path / "batch.ndjson"
    target.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n")
    code, stdout, _ = run("validate", str(target))
    assert code == 1
    assert stdout.splitlines() == [f"{target}:3: /general/batteryMass: must be more than 0 (got -1)"]


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    document = json.loads((EXAMPLES / "passport-ev.json").read_text())
    document["carbonFootprint"]["batteryCarbonFootprint"] = 80.0
    target = tmp_path / "warn.json"
    target.write_text(json.dumps(document))
    code, stdout, _ = run("validate", str(target))
    assert code == 0
    assert stdout.startswith(f"warning: {target}: /carbonFootprint/carbonFootprintPerLifecycleStage: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{", "malformed JSON"), (b"\xff\xfe", "not valid UTF-8"), (b'{"a": 1, "a": 2}', "duplicate key"),
     (b'{"a": NaN}', "NaN is not allowed"), (b"[" * 5000 + b"]" * 5000, "nested deeper")],
)
def test_malformed_files_are_one_line_problems(tmp_path: Path, content: bytes, message: str) -> None:
    target = tmp_path / "bad.json"
    target.write_bytes(content)
    code, stdout, _ = run("validate", str(target))
    assert code == 1
    assert message in stdout


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = run("validate", str(tmp_path / "nope.json"))
    assert code == 2
    assert "no such file" in stderr


def test_convert_round_trip(tmp_path: Path) -> None:
    code, stdout, _ = run("convert", "--to", "batterypass", str(EXAMPLES / "passport-ev.json"))
    assert code == 0
    aspects = json.loads(stdout)
    assert "GeneralProductInformation" in aspects and len(aspects) == 7
    exported = tmp_path / "bp.json"
    exported.write_text(stdout)
    code, stdout, _ = run("convert", "--from", "batterypass", str(exported))
    assert code == 0
    assert json.loads(stdout)["general"]["gtin"] == "09520123456788"


def test_convert_needs_one_direction() -> None:
    code, _, stderr = run("convert", str(EXAMPLES / "passport-ev.json"))
    assert code == 2
    assert "exactly one of" in stderr


def test_convert_refuses_non_object(tmp_path: Path) -> None:
    target = tmp_path / "list.json"
    target.write_text("[]")
    code, _, stderr = run("convert", "--to", "batterypass", str(target))
    assert code == 1
    assert "expected a JSON object" in stderr


def test_schema_check_and_export(tmp_path: Path) -> None:
    assert run("schema", "check", "--dir", str(ROOT / "schemas"))[0] == 0
    code, _, stderr = run("schema", "check", "--dir", str(tmp_path))
    assert code == 1 and "out of date" in stderr
    assert run("schema", "export", "--dir", str(tmp_path))[0] == 0
    assert run("schema", "check", "--dir", str(tmp_path))[0] == 0


def test_version() -> None:
    code, stdout, _ = run("--version")
    assert code == 0 and stdout.startswith("passport ")
