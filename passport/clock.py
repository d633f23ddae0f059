"""Time: one injectable clock and the one timestamp format of proofs and credentials."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from os import urandom

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rfc3339(moment: dt.datetime) -> str:
    """UTC with milliseconds, e.g. ``2026-11-25T10:00:00.123Z``: precise enough to order a signature against a
    key's revocation time."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def truncate_ms(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def uuid7(moment: dt.datetime | None = None) -> uuid.UUID:
    """A time-ordered UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then 74 random bits."""
    millis = int((moment or utc_now()).timestamp() * 1000)
    value = (millis & (2**48 - 1)) << 80 | int.from_bytes(urandom(10), "big") & (2**80 - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


_last_ordered = 0
_ordered_lock = threading.Lock()


def ordered_uuid7(moment: dt.datetime | None = None) -> uuid.UUID:
    """A UUIDv7 that increases within this process even inside one millisecond (RFC 9562 §6.2, method 2: the next
    value in the same millisecond). Log and audit entries are listed newest first by id; with random bits, two
    entries of one millisecond (an approval and the grant it creates) would be ordered by chance."""
    global _last_ordered
    with _ordered_lock:
        value = uuid7(moment).int
        if value >> 80 == _last_ordered >> 80 and value <= _last_ordered:
            value = _last_ordered + 1
        _last_ordered = value
    return uuid.UUID(int=value)


__all__ = ["Clock", "ordered_uuid7", "rfc3339", "truncate_ms", "utc_now", "uuid7"]
