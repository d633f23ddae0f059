"""``passport apikeys`` and ``passport import``: keys shown once and never listed, revocation, bulk import from
NDJSON and CSV files with a summary, exit codes, and re-runs that create nothing twice."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from passport.cli import app
from passport.cli import commands as _commands  # noqa: F401  (registers the sub-commands)
from passport.config import Settings
from passport.service.context import ServiceContext, open_context
from passport.service.models import BatteryModels, item_part, model_part
from passport.service.verification import verify_store
from passport.web.app import create_app
from tests.test_api_import import csv_text, flatten, lmt_passport

KEY = re.compile(r"^pp_[A-Za-z0-9_-]{43}$")
SUMMARY = re.compile(r"^import [0-9a-f-]{36}: (\d+) lines, (\d+) succeeded, (\d+) failed")
runner = CliRunner()
Run = Callable[..., tuple[int, str]]
Summary = tuple[str, ...]


def summary(output: str) -> Summary:
    """(lines, succeeded, failed) of the summary, which is the first line of the output."""
    found = SUMMARY.match(output)
    assert found, output
    return found.groups()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PASSPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PASSPORT_KEYS_DIR": str(tmp_path / "keys"),
            "PASSPORT_PUBLIC_BASE_URL": "http://testserver", "COLUMNS": "200"}


@pytest.fixture
def run(env: dict[str, str]) -> Run:
    """Run a command; (exit code, stdout, then stderr). Never a traceback."""

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), env=env)
        assert "Traceback" not in result.output + result.stderr
        return result.exit_code, result.stdout + result.stderr

    code, output = invoke("orgs", "create", "acme", "--name", "ACME")
    assert code == 0, output
    return invoke


@pytest.fixture
def context(env: dict[str, str], run: Run) -> Iterator[ServiceContext]:
    opened = open_context(Settings(database_url=env["PASSPORT_DATABASE_URL"], keys_dir=Path(env["PASSPORT_KEYS_DIR"]),
                                   public_base_url=env["PASSPORT_PUBLIC_BASE_URL"]))
    yield opened
    opened.close()


@pytest.mark.anyio
async def test_api_keys_are_shown_once_and_revocable(run: Run, context: ServiceContext) -> None:
    code, output = run("apikeys", "create", "--org", "acme", "--role", "manufacturer", "--quiet")
    assert code == 0
    assert output.endswith("\n")
    key = output.strip()
    assert KEY.match(key), output  # --quiet: the key and nothing else
    code, output = run("apikeys", "create", "--org", "acme", "--role", "authority", "--label", "market watch")
    assert code == 0
    assert "will not be shown again" in output
    second = next(line for line in output.splitlines() if line.startswith("pp_"))

    for args in (("apikeys", "list"), ("apikeys", "list", "--org", "acme"), ("apikeys", "list", "--json")):
        code, listing = run(*args)
        assert code == 0
        assert key not in listing
        assert second not in listing
        assert key[:10] in listing  # the prefix, to recognise it by
    listed = json.loads(run("apikeys", "list", "--json")[1])
    assert {item["role"] for item in listed} == {"manufacturer", "authority"}
    assert all(set(item) >= {"id", "prefix", "createdAt", "revokedAt"} and "key" not in item for item in listed)

    application = create_app(context.settings, context)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as http:
        headers = {"Authorization": f"Bearer {key}"}
        assert (await http.get("/api/v1/passports", headers=headers)).status_code == 200
        manufacturer = next(item["id"] for item in listed if item["role"] == "manufacturer")
        code, output = run("apikeys", "revoke", manufacturer)
        assert code == 0
        assert manufacturer in output
        refused = await http.get("/api/v1/passports", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert (await http.get("/api/v1/passports", headers={"Authorization": f"Bearer {second}"})).status_code == 200
    revoked = json.loads(run("apikeys", "list", "--json")[1])
    assert next(item for item in revoked if item["id"] == manufacturer)["revokedAt"]
    assert run("apikeys", "revoke", manufacturer)[0] == 1  # already revoked


@pytest.mark.parametrize(("args", "message"), [
    (("--org", "acme", "--role", "root"), "role 'root'"),
    (("--org", "nobody", "--role", "manufacturer"), "no organisation 'nobody'"),
])
def test_api_key_errors_are_one_line(run: Run, args: tuple[str, ...], message: str) -> None:
    code, output = run("apikeys", "create", *args)
    assert code == 1
    assert output.startswith("error: ")
    assert message in output


def test_import_ndjson(run: Run, context: ServiceContext, tmp_path: Path, example: Any) -> None:
    good = tmp_path / "fleet.ndjson"
    good.write_text("".join(json.dumps(lmt_passport(example, f"CLI-{n}")) + "\n" for n in range(3)))
    code, output = run("import", str(good), "--org", "acme", "--report", str(tmp_path / "report.ndjson"))
    assert code == 0, output
    assert summary(output) == ("3", "3", "0")
    report = [json.loads(line) for line in (tmp_path / "report.ndjson").read_text().splitlines()]
    assert [(r["line"], r["version"]) for r in report] == [(1, 1), (2, 1), (3, 1)]
    code, output = run("import", str(good), "--org", "acme")  # the same file: the same import
    assert code == 0
    assert "already imported" in output
    assert context.store.count_passports() == 3

    mixed = tmp_path / "mixed.jsonl"
    event = {"gtin": example("passport-lmt")["general"]["gtin"], "serialNumber": "CLI-0",
             "event": {"type": "status-change", "status": "waste"}}
    mixed.write_text(json.dumps(lmt_passport(example, "CLI-9")) + "\n{\"bad\": true}\n" + json.dumps(event) + "\n")
    code, output = run("import", str(mixed), "--org", "acme")
    assert code == 1  # a line failed
    assert summary(output) == ("3", "2", "1")
    assert run("import", str(mixed), "--org", "acme")[0] == 1  # re-run: the same result, nothing twice
    assert context.store.count_passports() == 4
    assert verify_store(context).versions == 5
    assert run("import", str(tmp_path / "missing.ndjson"), "--org", "acme")[0] == 1
    assert run("import", str(good), "--org", "nobody")[0] == 1


def test_import_csv_rows_of_a_model(run: Run, context: ServiceContext, tmp_path: Path, example: Any) -> None:
    lmt = example("passport-lmt")
    model, _ = BatteryModels(context).register("acme", model_part(lmt))
    rows = []
    for n in range(4):
        item = item_part(lmt_passport(example, f"ROW-{n}"))
        rows.append({"modelId": model.model_id, **flatten(item)})
    path = tmp_path / "rows.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    code, output = run("import", str(path), "--org", "acme")
    assert code == 0, output
    assert summary(output) == ("4", "4", "0")
    rows[1]["general.batchNumber"] = "bad batch ###"
    broken = tmp_path / "broken.csv"
    broken.write_text(csv_text(rows).replace("ROW-", "NEW-"), encoding="utf-8")
    code, output = run("import", str(broken), "--org", "acme")
    assert code == 1
    assert summary(output) == ("4", "3", "1")
    assert run("import", str(path), "--org", "acme")[0] == 0
    assert run("import", str(broken), "--org", "acme")[0] == 1
    assert context.store.count_passports() == 7
