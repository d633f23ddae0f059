"""The documented examples: the three valid passports pass every check, and each file in
docs/examples/invalid/ fails exactly as the table in docs/examples/README.md says (rule, pointer, message)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from passport.errors import DocumentInvalid
from passport.rules import RULES, RuleContext
from passport.validation import check, errors_only, full_check, parse_passport, schema_problems

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
INVALID = EXAMPLES / "invalid"
README = EXAMPLES / "README.md"
VALID = {
    "passport-ev.json": "ev",
    "passport-lmt.json": "lmt",
    "passport-industrial.json": "stationary",
}
TABLE_HEADER = "| file | rule | pointer | expected message contains |"
MIN_INVALID = 12
RULE_CODES = frozenset(rule.code for rule in RULES)

# The day the examples were written. Two invalid examples carry dates in 2031 that must stay in the future, so
# the invalid ones are checked against this fixed clock; the valid ones against the real one as well.
WRITTEN = RuleContext(now=dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))


@dataclass(frozen=True)
class Row:
    """One row of the README's table of invalid examples."""

    file: str
    rule: str
    pointer: str
    message: str


def _cell(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text.startswith("`") and text.endswith("`"):
        return text[1:-1]
    return text


def documented_rows() -> list[Row]:
    """The rows of the invalid-examples table (empty when the README or the table is missing)."""
    if not README.is_file():
        return []
    lines = [line.rstrip() for line in README.read_text(encoding="utf-8").splitlines()]
    if TABLE_HEADER not in lines:
        return []
    rows = []
    for line in lines[lines.index(TABLE_HEADER) + 2 :]:
        if not line.startswith("|"):
            break
        cells = [_cell(cell) for cell in line.strip()[1:-1].split(" | ")]
        assert len(cells) == 4, f"README row does not have four cells: {line}"
        rows.append(Row(*cells))
    return rows


ROWS = documented_rows()


def test_readme_has_the_invalid_table() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert TABLE_HEADER in lines
    separator = lines[lines.index(TABLE_HEADER) + 1]
    assert set(separator) <= {"|", "-", ":", " "}


def test_table_and_directory_list_the_same_files() -> None:
    documented = [row.file for row in ROWS]
    on_disk = sorted(path.name for path in INVALID.glob("*.json"))
    assert len(documented) == len(set(documented)), "a file is documented twice"
    assert sorted(documented) == on_disk
    assert len(on_disk) >= MIN_INVALID


def test_table_covers_schema_and_business_rules() -> None:
    rules = {row.rule for row in ROWS}
    assert "schema" in rules
    assert len(rules - {"schema"}) >= 5


@pytest.mark.parametrize("row", [pytest.param(row, id=row.file) for row in ROWS])
def test_invalid_example_fails_as_documented(row: Row) -> None:
    raw = (INVALID / row.file).read_bytes()
    document = json.loads(raw)

    problems = full_check(document, WRITTEN)

    assert problems, "the document is valid"
    assert [p for p in problems if p.severity != "error"] == [], "warnings besides the documented error"
    assert {p.pointer for p in problems} == {row.pointer}
    assert any(row.message in p.message for p in problems), [p.message for p in problems]
    if row.rule == "schema":
        assert schema_problems(document), "the JSON Schema accepts the document"
        with pytest.raises(DocumentInvalid):
            parse_passport(raw)
    else:
        assert row.rule in RULE_CODES, f"{row.rule} is not a rule of passport/rules.py"
        assert schema_problems(document) == [], "the JSON Schema already rejects the document"
        assert {p.code for p in problems} == {row.rule}
        with pytest.raises(DocumentInvalid) as raised:
            check(raw, WRITTEN)
        assert row.rule in {p.code for p in errors_only(raised.value.problems)}


@pytest.mark.parametrize("name", sorted(VALID), ids=lambda name: str(name))
def test_valid_example_passes_every_check(name: str) -> None:
    raw = (EXAMPLES / name).read_bytes()
    document = json.loads(raw)

    assert schema_problems(document) == []
    assert full_check(document) == []
    assert full_check(document, WRITTEN) == []
    checked = check(raw)
    assert checked.warnings == []
    assert checked.passport.general.battery_category.value == VALID[name]
