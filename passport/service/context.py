"""What every service operation needs, built once from the settings: store, keystore, URL builder, clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from passport.clock import Clock, utc_now
from passport.config import Environment, Settings
from passport.errors import ConfigurationError
from passport.keystore import FileKeystore
from passport.storage import Store, open_store
from passport.urls import Urls


@dataclass
class ServiceContext:
    settings: Settings
    store: Store
    keystore: FileKeystore
    urls: Urls
    clock: Clock = field(default=utc_now)

    def close(self) -> None:
        self.store.close()


def check_settings(settings: Settings) -> None:
    """Refuse configurations that would be unsafe in production."""
    if settings.env is Environment.PRODUCTION and not settings.key_passphrase:
        raise ConfigurationError("PASSPORT_KEY_PASSPHRASE is required when PASSPORT_ENV=production")


def keystore_for(settings: Settings) -> FileKeystore:
    secret = settings.key_passphrase.get_secret_value().encode() if settings.key_passphrase else None
    return FileKeystore(settings.keys_dir, secret)


def open_context(settings: Settings, *, clock: Clock = utc_now, migrate: bool = True) -> ServiceContext:
    check_settings(settings)
    return ServiceContext(
        settings=settings,
        store=open_store(settings.database_url, migrate=migrate),
        keystore=keystore_for(settings),
        urls=Urls(settings.public_base_url),
        clock=clock,
    )


__all__ = ["ServiceContext", "check_settings", "keystore_for", "open_context"]
