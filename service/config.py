"""Settings, read from ``SKILLCRED_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("public_url must be an http(s) URL")
        return value

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own :class:`Settings` instead)."""
    return Settings()
