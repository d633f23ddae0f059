"""An eddsa-jcs-2022 verifier written from the specifications alone, sharing no code with the product.

It must not import ``passport`` (a test parses this module to make sure). Sources:

- W3C Data Integrity EdDSA Cryptosuites v1.0, §3.3 ``eddsa-jcs-2022``: Verify Proof (3.3.2), Transformation
  (3.3.4), Hashing (3.3.5), Proof Configuration (3.3.6), Proof Verification (3.3.8);
- RFC 8785 (JSON Canonicalization Scheme) and ECMA-262 ``Number::toString`` / ``JSON.stringify``;
- the base58btc alphabet (draft-msporny-base58) with the multibase ``z`` prefix, and the Multikey
  ``ed25519-pub`` header 0xed 0x01 (W3C Controlled Identifiers);
- did:web (W3C CCG DID Web Method) for turning a DID into the URL of its DID document.

Only ``hashlib`` and ``cryptography`` (Ed25519, RFC 8032) do the cryptography."""

from __future__ import annotations

import hashlib
import math
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Invalid(Exception):
    """The credential does not verify; ``str()`` says why."""


# --- RFC 8785 ---------------------------------------------------------------------------------------------------

_SHORT_ESCAPES = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}


def _jcs_string(text: str) -> str:
    """ECMA-262 JSON.stringify QuoteJSONString for well-formed strings (RFC 8785 §3.2.2.2)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            raise Invalid("lone surrogate: not I-JSON")
        if code in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[code])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _shortest_digits(value: float) -> tuple[str, int]:
    """The digits ``s`` (no trailing zeros) and exponent ``n`` of ECMA-262 Number::toString step 5: value =
    0.s x 10^n with as few digits as read back as ``value``, and of those the decimal closest to ``value``.

    At each precision the correctly rounded decimal and its two neighbours are tried: next to a power of two the
    doubles are closer below than above, so the closest decimal may miss while a neighbour still reads back."""
    exact = Fraction(value)
    for precision in range(1, 18):
        mantissa, exponent = f"{value:.{precision - 1}e}".split("e")
        rounded, scale = int(mantissa.replace(".", "")), int(exponent) - (precision - 1)
        found = [
            (abs(Fraction(digits) * Fraction(10) ** scale - exact), digits)
            for digits in (rounded - 1, rounded, rounded + 1)
            if digits > 0 and float(f"{digits}e{scale}") == value
        ]
        if found:
            _, digits = min(found, key=lambda item: (item[0], item[1] % 2))
            return str(digits).rstrip("0"), len(str(digits)) + scale
    raise Invalid(f"no decimal form found for {value!r}")  # unreachable: 17 digits always read back


def _jcs_number(value: float | int) -> str:
    """ECMA-262 Number::toString of the IEEE 754 double (RFC 8785 §3.2.2.3)."""
    number = float(value)
    if isinstance(value, int) and float(value) != value:
        raise Invalid("integer not exactly representable as a double")
    if not math.isfinite(number):
        raise Invalid("NaN and infinities are not JSON")
    if number == 0:
        return "0"
    if number < 0:
        return "-" + _jcs_number(-number)
    s, n = _shortest_digits(number)
    k = len(s)
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + s
    exponent = n - 1
    sign = "+" if exponent >= 0 else "-"
    head = s[0] if k == 1 else s[0] + "." + s[1:]
    return f"{head}e{sign}{abs(exponent)}"


def _utf16_order(name: str) -> list[int]:
    units: list[int] = []
    for char in name:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            units += [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
        else:
            units.append(code)
    return units


def jcs(value: Any) -> str:
    """RFC 8785 canonical text (UTF-8 encode it for the bytes)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return _jcs_number(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, Mapping):
        names = sorted(value, key=_utf16_order)
        return "{" + ",".join(_jcs_string(name) + ":" + jcs(value[name]) for name in names) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(jcs(item) for item in value) + "]"
    raise Invalid(f"not a JSON value: {type(value).__name__}")


def jcs_bytes(value: Any) -> bytes:
    return jcs(value).encode("utf-8")


# --- multibase / Multikey ---------------------------------------------------------------------------------------

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        position = _BASE58.find(char)
        if position < 0:
            raise Invalid(f"not base58btc: {char!r}")
        number = number * 58 + position
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * zeros + body


def multibase_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise Invalid("only the base58btc multibase (z) is defined for this cryptosuite")
    return base58btc_decode(text[1:])


def ed25519_public_key(multikey: str) -> bytes:
    data = multibase_decode(multikey)
    if len(data) != 34 or data[:2] != b"\xed\x01":
        raise Invalid("not an Ed25519 Multikey (0xed01 header, 32 bytes)")
    return data[2:]


# --- DIDs -------------------------------------------------------------------------------------------------------


def did_web_path(did: str) -> str:
    """The path of a did:web DID document on its host: ``did:web:h:orgs:acme`` -> ``/orgs/acme/did.json``."""
    if not did.startswith("did:web:"):
        raise Invalid(f"{did} is not did:web")
    _host, *path = did.removeprefix("did:web:").split(":")
    parts = [urllib.parse.unquote(part) for part in path]
    return "/" + "/".join(parts) + "/did.json" if parts else "/.well-known/did.json"


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document a did:key (Ed25519) expands to: one Multikey method named by the key itself."""
    multikey = did.removeprefix("did:key:")
    ed25519_public_key(multikey)
    method = {"id": f"{did}#{multikey}", "type": "Multikey", "controller": did, "publicKeyMultibase": multikey}
    return {"id": did, "verificationMethod": [method], "assertionMethod": [method["id"]]}


def public_key_of(did_document: Mapping[str, Any], method_id: str) -> bytes:
    """The raw Ed25519 key of verification method ``method_id``, which must be an assertion method of the DID
    document and controlled by it."""
    if method_id.split("#")[0] != did_document.get("id"):
        raise Invalid(f"{method_id} is not in the DID document of {did_document.get('id')}")
    if method_id not in (did_document.get("assertionMethod") or []):
        raise Invalid(f"{method_id} is not an assertion method")
    for method in did_document.get("verificationMethod") or []:
        if method.get("id") == method_id:
            if method.get("type") != "Multikey" or method.get("controller") != did_document["id"]:
                raise Invalid(f"{method_id}: not a Multikey controlled by {did_document['id']}")
            return ed25519_public_key(method["publicKeyMultibase"])
    raise Invalid(f"{method_id} is not listed in the DID document")


# --- eddsa-jcs-2022 ---------------------------------------------------------------------------------------------

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def verify(secured: Mapping[str, Any], did_document: Mapping[str, Any]) -> None:
    """vc-di-eddsa §3.3.2 Verify Proof, with the key taken from ``did_document``. Raises Invalid."""
    proof = secured.get("proof")
    if not isinstance(proof, Mapping) or not isinstance(proof.get("proofValue"), str):
        raise Invalid("no proof")
    # 1-3: the unsecured document, the proof options, the proof bytes
    unsecured = {name: value for name, value in secured.items() if name != "proof"}
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    signature = multibase_decode(proof["proofValue"])
    # 4: the proof's @context must be a prefix of the document's, and is what the document is hashed with
    if "@context" in options:
        wanted, have = options["@context"], secured.get("@context")
        wanted = wanted if isinstance(wanted, list) else [wanted]
        have = have if isinstance(have, list) else [have]
        if have[: len(wanted)] != wanted:
            raise Invalid("the document's @context does not start with the proof's")
        unsecured["@context"] = options["@context"]
    # 3.3.6 proof configuration checks
    if options.get("type") != "DataIntegrityProof" or options.get("cryptosuite") != "eddsa-jcs-2022":
        raise Invalid("not a DataIntegrityProof with cryptosuite eddsa-jcs-2022")
    if not _DATETIME.match(str(options.get("created", ""))):
        raise Invalid("created is not an XML Schema dateTimeStamp")
    if options.get("proofPurpose") != "assertionMethod":
        raise Invalid("the proof purpose is not assertionMethod")
    # 3.3.4-3.3.5: transform (JCS) and hash: SHA-256(proof config) || SHA-256(document)
    hash_data = hashlib.sha256(jcs_bytes(options)).digest() + hashlib.sha256(jcs_bytes(unsecured)).digest()
    # the key: the verification method of the issuer's DID document
    method_id = str(options.get("verificationMethod"))
    issuer = secured.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if isinstance(issuer_id, str) and issuer_id.startswith("did:") and method_id.split("#")[0] != issuer_id:
        raise Invalid(f"{method_id} is not a key of the issuer {issuer_id}")
    public_key = public_key_of(did_document, method_id)
    # 3.3.8: Ed25519 verification (RFC 8032)
    if len(signature) != 64:
        raise Invalid("an Ed25519 signature is 64 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, hash_data)
    except InvalidSignature:
        raise Invalid("the signature does not verify") from None


def chain_hash(credential: Mapping[str, Any]) -> str:
    """``previousVersionHash`` of the next version: SHA-256 of the JCS bytes of the credential without proof."""
    unsecured = {name: value for name, value in credential.items() if name != "proof"}
    return "sha256:" + hashlib.sha256(jcs_bytes(unsecured)).hexdigest()


def verify_chain(credentials: Sequence[Mapping[str, Any]], did_document: Mapping[str, Any]) -> None:
    """One view's credentials of one passport, version 1 first: each verifies, and each points to the one before."""
    previous: Mapping[str, Any] | None = None
    for number, credential in enumerate(credentials, start=1):
        verify(credential, did_document)
        subject = credential["credentialSubject"]
        if subject.get("version") != number:
            raise Invalid(f"expected version {number}, found {subject.get('version')}")
        expected = None if previous is None else chain_hash(previous)
        if subject.get("previousVersionHash") != expected:
            raise Invalid(f"version {number}: previousVersionHash does not name version {number - 1}")
        previous = credential
