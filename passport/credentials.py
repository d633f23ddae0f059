"""A passport version as W3C VC 2.0 credentials: one per view, each signed on its own (``eddsa-jcs-2022``) and
chained to the same view's credential of the previous version by ``previousVersionHash`` (DESIGN §4).

Chain verification raises :class:`~passport.errors.VerificationError` with one of the reasons
``versions-reordered``, ``version-missing``, ``previous-hash-mismatch``, ``malformed``, besides the proof reasons of
:mod:`passport.signing`."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from passport import jsonio
from passport.access import VIEW_ORDER, View, project
from passport.canonical import Prepared, digest, prepare
from passport.errors import VerificationError
from passport.signing import KeyResolver, PublicKeyInfo, Signer, sign_canonical, verify_proof
from passport.urls import Urls

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL_TYPE = "BatteryPassportCredential"
SUBJECT_TYPE = "BatteryPassport"


@dataclass(frozen=True)
class VersionSubject:
    """What identifies one version of one passport, the same in every view's credential."""

    passport_id: str  # bare UUID
    version: int
    gtin: str
    serial: str
    issuer: str  # did:web of the responsible economic operator
    valid_from: str  # RFC 3339, also the proof's creation time
    ceased: bool = False  # Art. 77(8): the battery was recycled; the passport is frozen, still verifiable


@dataclass(frozen=True)
class SignedVersion:
    credentials: dict[str, bytes]  # view -> canonical bytes of the signed credential, as stored and served
    full_hash: str  # hash of the full view's unsigned credential: identifies the version


def unsigned(credential: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in credential.items() if key != "proof"}


def credential_hash(credential: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the JCS bytes of a credential without its proof: what the next version points to."""
    return digest(unsigned(credential))


def build_credential(
    urls: Urls, subject: VersionSubject, view: View, passport_view: Mapping[str, Any], previous_hash: str | None
) -> dict[str, Any]:
    credential_subject: dict[str, Any] = {
        "id": urls.digital_link(subject.gtin, subject.serial),
        "type": SUBJECT_TYPE,
        "passportId": f"urn:uuid:{subject.passport_id}",
        "version": subject.version,
        "view": view.value,
    }
    if previous_hash is not None:
        credential_subject["previousVersionHash"] = previous_hash
    if subject.ceased:
        credential_subject["passportStatus"] = "ceased"
    credential_subject["passport"] = (Prepared(passport_view) if isinstance(passport_view, Prepared)
                                      else dict(passport_view))
    return {
        "@context": [VC_CONTEXT, urls.context()],
        "id": urls.credential_id(subject.passport_id, subject.version, view.value),
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": subject.issuer,
        "validFrom": subject.valid_from,
        "credentialSubject": credential_subject,
    }


def sign_version(
    urls: Urls,
    signer: Signer,
    subject: VersionSubject,
    document: Mapping[str, Any],
    previous: Mapping[str, bytes] | None,
) -> SignedVersion:
    """Sign every view of ``document`` (full wire form). ``previous``: the stored credentials of version N-1."""
    credentials: dict[str, bytes] = {}
    full_hash = ""
    # readied for canonicalisation once, not once per view: a projection keeps only readied members
    readied = prepare(document)
    for view in VIEW_ORDER:
        previous_hash = credential_hash(_load(previous[view.value])) if previous else None
        projected = project(readied, view)
        passport_view = Prepared(projected) if isinstance(readied, Prepared) else projected
        credential = build_credential(urls, subject, view, passport_view, previous_hash)
        # each view canonicalised once: its hash (signed, and the full view's the version hash) and its stored bytes
        unsigned_bytes, signed_bytes = sign_canonical(credential, signer, subject.valid_from)
        if view is View.FULL:
            full_hash = "sha256:" + hashlib.sha256(unsigned_bytes).hexdigest()  # = digest(credential)
        credentials[view.value] = signed_bytes
    return SignedVersion(credentials, full_hash)


def _load(data: bytes) -> dict[str, Any]:
    # the strict reader, as verification reads them: an integer literal JCS wrote for a double of 2^53 or more reads
    # back as that double (json.loads would give an int, which cannot be canonicalised again, and the passport could
    # never be revised)
    return jsonio.loads(data)  # type: ignore[no-any-return]


def issuer_of(credential: Mapping[str, Any]) -> str:
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not isinstance(issuer_id, str):
        raise VerificationError("malformed", "the credential names no issuer")
    return issuer_id


def verify_credential(
    credential: Mapping[str, Any], resolve: KeyResolver, *, unsigned_hash: bytes | None = None
) -> PublicKeyInfo:
    """The proof verifies, with a key of the credential's issuer when the issuer is a DID.

    Every credential of this product has a DID issuer, so its key must be controlled by that DID. An issuer that is
    not a DID (an https URL, as in the W3C vc-di-eddsa test vectors) names no controller to compare the key with:
    requiring one made the W3C vector fail with ``issuer-key-mismatch``; only its proof is checked then."""
    issuer_id = issuer_of(credential)
    return verify_proof(credential, resolve, issuer=issuer_id if issuer_id.startswith("did:") else None,
                        document_hash=unsigned_hash)


def subject_of(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or not isinstance(subject.get("version"), int):
        raise VerificationError("malformed", "the credential has no battery passport subject")
    return subject


def check_successor(
    previous: Mapping[str, Any] | None, credential: Mapping[str, Any], previous_hash: str | None = None
) -> None:
    """``credential`` may follow ``previous`` (None: it must be version 1) in one view's chain: the next version
    number, the same passport and view, and ``previousVersionHash`` naming ``previous`` (whose
    :func:`credential_hash` the caller may pass when it has it)."""
    subject = subject_of(credential)
    version, label = subject["version"], f"{subject.get('passportId')} view {subject.get('view')}"
    before = subject_of(previous)["version"] if previous is not None else 0
    if previous is not None and version <= before:
        raise VerificationError("versions-reordered", f"{label}: version {version} follows version {before}")
    if version != before + 1:
        raise VerificationError("version-missing", f"{label}: version {before + 1} is missing before {version}")
    claimed = subject.get("previousVersionHash")
    if previous is None:
        if claimed is not None:
            raise VerificationError("malformed", f"{label}: version 1 cannot point to a previous version")
        return
    earlier = subject_of(previous)
    if (earlier.get("passportId"), earlier.get("view")) != (subject.get("passportId"), subject.get("view")):
        raise VerificationError("malformed", f"{label}: a chain mixes passports or views")
    if claimed != (previous_hash or credential_hash(previous)):
        raise VerificationError(
            "previous-hash-mismatch", f"{label} version {version}: previousVersionHash does not match version {before}"
        )


def check_order(credentials: Sequence[Mapping[str, Any]]) -> None:
    """``versions-reordered`` unless the version numbers only ascend. Checked over the whole chain first: walking
    it pair by pair, versions 1, 3, 2 stop at the gap between 1 and 3 and were reported as ``version-missing``,
    the same reason as a removed version."""
    numbers = [subject_of(credential)["version"] for credential in credentials]
    for before, after in itertools.pairwise(numbers):
        if after <= before:
            subject = subject_of(credentials[0])
            label = f"{subject.get('passportId')} view {subject.get('view')}"
            raise VerificationError("versions-reordered", f"{label}: version {after} follows version {before}")


def verify_chain(credentials: Sequence[Mapping[str, Any]], resolve: KeyResolver) -> None:
    """One view's credentials of one passport, in the order given: every proof verifies, the versions run 1, 2, 3
    … without gap or reordering, and each points to the hash of the one before."""
    check_order(credentials)
    previous: Mapping[str, Any] | None = None
    for credential in credentials:
        verify_credential(credential, resolve)
        check_successor(previous, credential)
        previous = credential


__all__ = [
    "CREDENTIAL_TYPE",
    "SignedVersion",
    "VersionSubject",
    "build_credential",
    "check_order",
    "check_successor",
    "credential_hash",
    "issuer_of",
    "sign_version",
    "subject_of",
    "unsigned",
    "verify_chain",
    "verify_credential",
]
