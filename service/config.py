"""Settings, read from ``SKILLCRED_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


class Settings(BaseSettings):
    """Service configuration. Every field maps to ``SKILLCRED_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SKILLCRED_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///./var/skillcred.db"
    public_url: str = DEFAULT_PUBLIC_URL
    """External base URL: credential ids, badge URLs and the issuers' did:web are built from it."""

    kek: SecretStr | None = None
    """Key-encryption key (32 bytes, base64url) that encrypts issuers' private keys at rest."""
    kek_file: Path | None = None
    dev_kek_file: Path = Path("keys/dev-kek")
    """Where development creates its own KEK (mode 0600); refused with env=production."""

    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: SecretStr | None = None

    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(default=8 * 1_048_576, ge=1024)
    page_size_max: int = 100

    status_list_size: int = Field(default=131_072, ge=131_072, le=8 * 1_048_576)
    """Entries in each new status list (W3C Bitstring Status List: at least 131,072, for herd privacy)."""
    status_list_capacity: int | None = Field(default=None, ge=1)
    """Indexes a list hands out (at random) before a new list opens; default three quarters of
    ``status_list_size``, at most nine tenths (random allocation slows as a list fills)."""
    status_list_resign_interval_seconds: int = Field(default=300, ge=1, le=86_400)
    """A changed status list is re-signed at most once per interval and always within it; it is
    also the list's ``ttl`` and the most a cache may keep it."""
    status_list_background_resign: bool = True
    """Run the re-signer in each worker (off only in tests that drive re-signing themselves)."""

    expiry_reminder_days: int = Field(default=30, ge=1, le=3650)
    """An expiry reminder event is recorded this many days before a credential's ``validUntil``
    (``skillcred reminders``)."""

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("public_url must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _capacity_fits_the_list(self) -> Settings:
        if self.status_list_capacity is not None and self.status_list_capacity * 10 > self.status_list_size * 9:
            raise ValueError("status_list_capacity must be at most nine tenths of status_list_size")
        return self

    @property
    def effective_status_list_capacity(self) -> int:
        """How many indexes a new list hands out (``status_list_capacity`` or 3/4 of the size)."""
        return self.status_list_capacity or self.status_list_size * 3 // 4

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own :class:`Settings` instead)."""
    return Settings()
