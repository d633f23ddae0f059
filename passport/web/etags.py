"""ETags of passport representations and the If-Match precondition of writes (RFC 9110 §13)."""

from __future__ import annotations

import re

from passport.errors import PreconditionFailed, PreconditionRequired

_TAG = re.compile(r'"v(\d+)-([a-z_]+)"')


def etag(version: int, view: str) -> str:
    """Strong ETag of one version in one view (the representations differ by view, so do their tags)."""
    return f'"v{version}-{view}"'


def expected_version(if_match: str | None, current: int, *, required: bool = True) -> int:
    """The version an If-Match header names; 428 when missing, 412 when it is not the current version."""
    if if_match is None or not if_match.strip():
        if required:
            raise PreconditionRequired("send If-Match with the ETag of the version your change is based on")
        return current
    if if_match.strip() == "*":
        return current
    versions = {int(match.group(1)) for match in _TAG.finditer(if_match)}
    if current not in versions:
        raise PreconditionFailed(
            f"the passport is at version {current}; If-Match names {sorted(versions) or 'no version'}: read it "
            "again and re-apply your change")
    return current


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether If-None-Match matches ``tag`` (weak comparison, RFC 9110 §13.1.2)."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    return tag.removeprefix("W/") in {t.strip().removeprefix("W/") for t in if_none_match.split(",")}


__all__ = ["etag", "expected_version", "none_match"]
