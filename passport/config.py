"""Typed settings, read from the environment (prefix ``PASSPORT_``). Built by ``create_app()`` and the CLI, never at
import time; tests build ``Settings(**overrides)``."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the service. ``docs/configuration.md`` lists them; a test keeps the two in step."""

    model_config = SettingsConfigDict(env_prefix="PASSPORT_", extra="ignore", frozen=True)

    database_url: str = Field(
        "sqlite:///./passport.db", description="SQLAlchemy URL of the database (SQLite file or PostgreSQL)."
    )
    database_read_url: str | None = Field(None, description="Optional read replica, used for public resolver reads.")
    keys_dir: Path = Field(Path("./keys"), description="Directory of the signing keystore.")
    key_passphrase: SecretStr | None = Field(
        None, description="Passphrase encrypting the private keys; required in production."
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public base URL: the QR payload, every public link and the did:web host derive from it.",
    )
    env: Environment = Field(Environment.DEVELOPMENT, description="development or production.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies whose X-Forwarded-For is believed, e.g. "
        '["127.0.0.1", "10.0.0.0/8"]. Empty: the peer address is the client.',
    )
    rate_limit_enabled: bool = Field(True, description="Rate limiting of the routes below, per client address.")
    rate_limit_storage: str = Field(
        "memory://",
        description="Where the counters live (the limits library's storage URI): memory:// per worker, or "
        "redis://host:6379 shared by every worker and host.",
    )
    rate_limit_resolver: str = Field(
        "600/minute", description="Public resolver and pages (/01/…, /p/…, /.well-known/gs1resolver)."
    )
    rate_limit_codes: str = Field("60/minute", description="QR codes and label sheets (CPU-heavy images and PDFs).")
    rate_limit_auth_failures: str = Field(
        "10/minute",
        description="Failed authentications (unknown, expired or revoked API keys, console sign-ins); past it, "
        "requests that present credentials get 429 until the window passes.",
    )

    @field_validator("rate_limit_resolver", "rate_limit_codes", "rate_limit_auth_failures")
    @classmethod
    def _limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError("a rate such as 600/minute, 10/second or 1000/hour") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


__all__ = ["Environment", "Settings"]
