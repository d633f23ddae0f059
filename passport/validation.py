"""Checking documents before they are issued: the Pydantic model on the hot path, the published JSON Schema for
``passport validate`` and third parties, and the business rules for both. Every finding becomes a
:class:`~passport.errors.Problem` with the JSON pointer of the field and a plain-language message."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from passport import jsonio
from passport.errors import DocumentInvalid, Problem
from passport.models.passport import Passport
from passport.rules import RuleContext, check_rules
from passport.schema import schema_document


@dataclass(frozen=True)
class Checked:
    """A document that passed: the model and any warnings."""

    passport: Passport
    warnings: list[Problem] = field(default_factory=list)


def pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901 JSON pointer of a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


_PYDANTIC_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of the battery passport",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "finite_number": "must be a finite number",
}


def _pydantic_problem(error: ErrorDetails) -> Problem:
    kind = error["type"]
    message = _PYDANTIC_MESSAGES.get(kind)
    if message is None:
        message = error["msg"]
        if kind == "enum":
            expected = (error.get("ctx") or {}).get("expected", "")
            message = f"must be one of {expected}"
        elif kind == "string_pattern_mismatch":
            message = f"{error['input']!r} does not have the required format"
        elif kind == "value_error":
            message = f"{error['input']!r} is not a valid value"
        else:
            message = message[0].lower() + message[1:]
    return Problem(pointer(error["loc"]), message, "error", kind)


def model_problems(error: ValidationError) -> list[Problem]:
    return [_pydantic_problem(e) for e in error.errors(include_url=False)]


def parse_passport(document: bytes | Mapping[str, Any]) -> Passport:
    """The Pydantic model of a wire document (JSON bytes or an already parsed object); raises DocumentInvalid."""
    data = document if isinstance(document, bytes) else jsonio.dumps_for_validation(document)
    try:
        return Passport.model_validate_json(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise DocumentInvalid(model_problems(exc)) from None


def check(document: bytes | Mapping[str, Any], context: RuleContext | None = None) -> Checked:
    """Validate a document with the model and the business rules; raise DocumentInvalid listing every error."""
    passport = parse_passport(document)
    findings = check_rules(passport, context)
    errors = [p for p in findings if p.severity == "error"]
    if errors:
        raise DocumentInvalid(findings)
    return Checked(passport, findings)


# --- the published JSON Schema ------------------------------------------------------------------------------


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[SchemaError]:  # noqa: ARG001
    """``pattern`` with ECMA-262 semantics, as JSON Schema specifies: ``$`` matches only at the very end (Python's
    ``re`` also lets it match before a final newline, which would accept "09520123456788\n")."""
    if not isinstance(instance, str):
        return
    python_pattern = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    if re.search(python_pattern, instance) is None:
        yield SchemaError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


def ecma_validator(schema: Mapping[str, Any]) -> Any:
    """A draft 2020-12 validator with format assertion and ECMA-262 patterns (also for propertyNames)."""
    return _Validator(schema, format_checker=FormatChecker())


@cache
def schema_validator(name: str = "passport") -> Any:
    """The validator of a published schema."""
    return ecma_validator(schema_document(name))


def _schema_message(error: SchemaError) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "required":
        missing = [key for key in value if isinstance(error.instance, dict) and key not in error.instance]
        return f"{missing[0] if missing else 'a field'} is required"
    if kind == "additionalProperties":
        return "unknown field(s): " + ", ".join(
            sorted(k for k in error.instance if k not in (error.schema.get("properties") or {}))
        )
    if kind == "type":
        return f"must be of type {value}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }
        return f"must be {words[str(kind)]} {value} (got {error.instance})"
    if kind == "enum":
        return "must be one of " + ", ".join(repr(v) for v in value)
    if kind == "pattern":
        return f"{error.instance!r} does not have the required format"
    if kind == "format":
        return f"{error.instance!r} is not a valid {value}"
    return str(error.message)


def _leaf_errors(error: SchemaError) -> Iterable[SchemaError]:
    """For anyOf (optional fields), report what the non-null branch says rather than 'is not valid under any'."""
    if error.validator == "anyOf" and error.context:
        relevant = [e for e in error.context if e.validator != "type" or e.validator_value != "null"]
        for sub in relevant:
            yield from _leaf_errors(sub)
    else:
        yield error


def schema_problems(document: Any, name: str = "passport") -> list[Problem]:
    """What the published JSON Schema says about a document (jsonschema library, format checks on)."""
    problems = []
    for error in schema_validator(name).iter_errors(document):
        for leaf in _leaf_errors(error):
            problems.append(Problem(pointer(leaf.absolute_path), _schema_message(leaf), "error", str(leaf.validator)))
    return sorted(problems, key=lambda p: p.pointer)


def full_check(document: Any, context: RuleContext | None = None) -> list[Problem]:
    """Every problem of a parsed document: JSON Schema first; when it passes, the business rules.

    This is what ``passport validate`` reports. Should the model refuse what the schema accepted (they are
    tested to agree), that is reported too rather than hidden."""
    problems = schema_problems(document)
    if problems:
        return problems
    try:
        return check(document, context).warnings
    except DocumentInvalid as exc:
        return exc.problems


def errors_only(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


__all__ = [
    "Checked",
    "check",
    "ecma_validator",
    "errors_only",
    "full_check",
    "model_problems",
    "parse_passport",
    "pointer",
    "schema_problems",
    "schema_validator",
]
