"""Typed settings, read from the environment (prefix ``PASSPORT_``). Built by ``create_app()`` and the CLI, never at
import time; tests build ``Settings(**overrides)``."""

from __future__ import annotations

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

    @field_validator("public_base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


__all__ = ["Environment", "Settings"]
