"""The one builder of every public URL: QR payloads (GS1 Digital Link), pages, credential ids, DIDs, contexts.
Everything derives from ``PASSPORT_PUBLIC_BASE_URL``; no other module concatenates a URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass(frozen=True)
class Urls:
    base: str  # e.g. https://passport.example.com, without a trailing slash

    def digital_link(self, gtin: str, serial: str) -> str:
        """The canonical GS1 Digital Link URI of a battery: what its QR code encodes."""
        return f"{self.base}/01/{gtin}/21/{quote(serial, safe='')}"

    def passport_page(self, passport_id: str) -> str:
        return f"{self.base}/p/{passport_id}"

    def credential_id(self, passport_id: str, version: int, view: str) -> str:
        return f"{self.base}/p/{passport_id}?version={version}&view={view}"

    def context(self) -> str:
        return f"{self.base}/contexts/battery-passport/v1"

    def did(self, organisation: str) -> str:
        """``did:web:{host%3Aport}[:path…]:orgs:{slug}`` (W3C did:web: a port is written %3A)."""
        parts = urlsplit(self.base)
        host = quote(parts.netloc, safe="")
        path = [segment for segment in parts.path.split("/") if segment]
        return ":".join(["did:web", host, *path, "orgs", organisation])

    def did_document(self, organisation: str) -> str:
        return f"{self.base}/orgs/{organisation}/did.json"

    def service_did(self) -> str:
        parts = urlsplit(self.base)
        path = [segment for segment in parts.path.split("/") if segment]
        return ":".join(["did:web", quote(parts.netloc, safe=""), *path])

    def api_passport(self, passport_id: str) -> str:
        return f"/api/v1/passports/{passport_id}"


def did_web_url(did: str) -> str:
    """Where a did:web DID document lives: https, or http for loopback hosts (development)."""
    if not did.startswith("did:web:"):
        raise ValueError(f"{did} is not a did:web identifier")
    host, *path = did.removeprefix("did:web:").split(":")
    host = unquote(host)
    scheme = "http" if host.split(":")[0].strip("[]") in {h.strip("[]") for h in LOOPBACK_HOSTS} else "https"
    suffix = "/".join(path) + "/did.json" if path else ".well-known/did.json"
    return f"{scheme}://{host}/{suffix}"


def organisation_of_did(did: str) -> str | None:
    """The organisation slug of one of our organisation DIDs (``…:orgs:{slug}``)."""
    parts = did.split(":")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "orgs" else None


__all__ = ["LOOPBACK_HOSTS", "Urls", "did_web_url", "organisation_of_did"]
