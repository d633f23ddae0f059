"""Loading the demo: its organisations and API keys, its models and passports, then their lifecycles and who may
read what; or, on a database that already has it, only what is there. Also the three sample passports to open."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from passport.demo.access import _access
from passport.demo.data import MODELS, ORGANISATIONS, _item, _model_document, gtin
from passport.demo.lifecycles import _lifecycles
from passport.errors import Conflict
from passport.service.apikeys import create_api_key
from passport.service.context import ServiceContext
from passport.service.models import BatteryModels
from passport.service.organisations import create_organisation
from passport.service.passports import Passports


@dataclass
class DemoResult:
    passports: int
    keys: dict[str, str]
    samples: list[tuple[str, str]]  # (label, canonical Digital Link URI)
    created: bool


def _passports_exist(context: ServiceContext) -> bool:
    try:
        context.store.get_organisation("voltdrive")
    except Exception:
        return False
    return True


def load(context: ServiceContext, keys_file: Path | None = None, count: int | None = None) -> DemoResult:
    """Load the demo once; on a database that already has it, only report what is there."""
    if _passports_exist(context):
        keys = json.loads(keys_file.read_text()) if keys_file and keys_file.is_file() else {}
        return DemoResult(context.store.count_passports(), keys, _samples(context), False)
    keys = _organisations(context)
    if keys_file is not None:
        _write_secret(keys_file, json.dumps(keys, indent=2) + "\n")
    rng = random.Random(20270218)  # noqa: S311 - not for secrets: the same demo every time
    issued, models = _issue_all(context, rng, count)
    _lifecycles(context, issued, rng)
    _access(context, issued, models)
    return DemoResult(context.store.count_passports(), keys, _samples(context), True)


def _write_secret(path: Path, text: str) -> None:
    import os

    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _organisations(context: ServiceContext) -> dict[str, str]:
    keys: dict[str, str] = {}
    for slug, name, role in ORGANISATIONS:
        with contextlib.suppress(Conflict):
            create_organisation(context, slug, name)
        _, token = create_api_key(context, slug, role, "demo")
        keys[f"{role}:{slug}"] = token
    return keys


def _issue_all(
    context: ServiceContext, rng: random.Random, count: int | None
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Passports and model ids, by model identifier."""
    names = {slug: name for slug, name, _ in ORGANISATIONS}
    passports = Passports(context)
    issued: dict[str, list[str]] = {}
    models: dict[str, str] = {}
    scale = 1.0 if count is None else count / sum(spec.count for spec in MODELS)
    for spec in MODELS:
        model, _ = BatteryModels(context).register(spec.organisation, _model_document(spec, names[spec.organisation]))
        ids = []
        for index in range(1, max(1, round(spec.count * scale)) + 1):
            item = _item(spec, index, rng, names[spec.organisation])
            ids.append(passports.issue(spec.organisation, item, model.model_id).passport_id)
        issued[spec.identifier], models[spec.identifier] = ids, model.model_id
    return issued, models


def _samples(context: ServiceContext) -> list[tuple[str, str]]:
    """Three passports worth opening: an EV pack, an e-bike battery and a stationary unit, each still in service."""
    from passport.storage import SearchQuery

    wanted = (
        (gtin("0952012345678"), "EV traction pack (NMC)"),
        (gtin("0952012345679"), "E-bike battery (NCA)"),
        (gtin("0871234567890"), "Stationary storage (LFP)"),
    )
    found = []
    for code, label in wanted:
        rows = context.store.search(
            SearchQuery(gtin=code, status="original", include_ceased=False, limit=20), ["public"]
        )
        if rows:
            record = rows[len(rows) // 2][0]
            found.append((label, context.urls.digital_link(record.gtin, record.serial)))
    return found


def iter_roles() -> Iterator[tuple[str, str, str]]:
    yield from ORGANISATIONS
