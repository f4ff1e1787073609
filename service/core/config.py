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
    database_read_url: str | None = None
    """A PostgreSQL read replica (hot standby) of ``database_url`` for the public reads: the badge
    page and its images, the signed credential downloads, ``/status/{id}``, the DID documents and
    JWKS, ``POST /v1/verify``. Unset: everything reads the primary. A read uses the replica only
    when it holds every status and signing-key change the primary holds (a revocation is never read
    stale), when it lags no more than ``database_read_sticky_seconds``, and never for a request with
    an ``Authorization`` header or a read-after-write cookie; a replica that does not answer is
    skipped (docs/scaling.md). Name one server, not a load-balanced pool of replicas."""
    database_read_sticky_seconds: int = Field(default=10, ge=1, le=3600)
    """After a request that wrote, its client's reads go to the primary this long (the
    ``skillcred_read_primary`` cookie), and a hot standby whose replay lags more is not read."""
    public_url: str = DEFAULT_PUBLIC_URL
    """External base URL: credential ids, badge URLs and the issuers' did:web are built from it.
    Unset, ``skillcred serve`` and ``dev-serve`` use ``http://<--host>:<--port>`` (127.0.0.1 for a
    wildcard host). Changing it on an existing database needs ``skillcred issuers move-dids``, which
    moves every issuer's did:web to the new URL (``serve`` refuses to start until then)."""

    kek: SecretStr | None = None
    """Key-encryption key (32 bytes, base64url) that encrypts issuers' private keys at rest."""
    kek_file: Path | None = None
    dev_kek_file: Path = Path("keys/dev-kek")
    """Where development creates its own KEK (mode 0600); refused with env=production."""

    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: SecretStr | None = None

    api_docs: bool | None = None
    """Serve the interactive API documentation: Swagger UI at ``/docs`` and ReDoc at ``/redoc``,
    with their scripts and styles from the installed ``fastapi-offline`` package (no other host is
    contacted). Unset: on in development and test, off in production (``SKILLCRED_API_DOCS=true``
    turns them on there). ``/openapi.json`` is served either way."""

    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    unverified_account_hours: int = Field(default=48, ge=1, le=720)
    """A self-registered account whose address is not verified expires this many hours after its
    latest verification token was mailed (the token's own lifetime): it can no longer sign in, and
    until it is verified a new registration or an admin-created account for the address replaces it."""
    idempotency_hours: int = Field(default=24, ge=24, le=720)
    """How long an ``Idempotency-Key`` and the answer it got are kept (at least 24 hours; an hourly
    job deletes them then)."""
    terms_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    """The deployment's terms of service. Unset: ``/terms``, the service's own page saying what it
    does and promises; set, ``/terms`` redirects there and the Open Badges discovery document names it."""
    privacy_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    """The deployment's privacy policy. Unset: ``/privacy``, the service's own page saying what it
    stores, shows and deletes; set, ``/privacy`` redirects there and the discovery document names it."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(default=8 * 1_048_576, ge=1024)
    page_size_max: int = 100

    # --- overload: CPU-heavy work in flight per process, and how long a request waits for a slot ---
    request_threads: int = Field(default=40, ge=4, le=256)
    """Threads per worker process that run request handlers (AnyIO's thread limiter). Verification
    and pages are CPU-bound under one GIL: on 2 cores 8 threads served more requests per second
    with shorter tails than 40 (bench/http_load.py, docs/benchmarks.md), but the sync
    dependencies of a request take a thread too, so handlers that wait (row locks, slow remote
    did:web hosts) can leave none for new requests: the default stays 40. The
    database pool holds one connection per thread plus a few for side transactions
    (:class:`service.core.db.DatabaseLimits`), so on PostgreSQL a deployment needs
    ``workers x (request_threads + issuing_concurrency + 2)`` connections at most."""
    issuing_concurrency: int = Field(default=4, ge=1, le=64)
    """Issuances (signing) in flight at once per worker process; more wait for a slot. Issuing is
    CPU-bound: more threads signing at once only make each slower, and on SQLite slow the one
    holding the write lock."""
    verify_concurrency: int = Field(default=2, ge=1, le=64)
    """Verifications of submitted credentials (``POST /v1/verify``) in flight per worker process."""
    overload_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    """How long a request waits for an issuing or verification slot before it is answered
    503 with ``Retry-After`` (never a hang)."""

    # --- rate limits -----------------------------------------------------------------------------
    redis_url: str | None = None
    """Redis for the rate-limit counters (``redis://host:6379/0``), shared by every worker and
    host; unset, each process counts on its own."""
    rate_limits: bool = True
    """Rate limits and login backoff on (429 with ``Retry-After`` and ``RateLimit`` headers)."""
    rate_limit_namespace: str = "skillcred"
    """Prefix of this deployment's counters in Redis (deployments sharing one Redis differ)."""

    status_list_size: int = Field(default=131_072, ge=131_072, le=8 * 1_048_576)
    """Entries in each new status list (W3C Bitstring Status List: at least 131,072, for herd privacy)."""
    status_list_capacity: int | None = Field(default=None, ge=1)
    """Indexes a list hands out (at random) before a new list opens; default three quarters of
    ``status_list_size``, at most nine tenths (random allocation slows as a list fills)."""
    status_list_resign_interval_seconds: int = Field(default=300, ge=1, le=86_400)
    """A changed status list is re-signed at most once per interval and always within it; it is
    also the list's ``ttl`` and the most a cache may keep it."""
    status_list_background_resign: bool = True
    """The periodic job re-signs lists older than the interval (off only in tests that drive
    re-signing themselves)."""

    # --- jobs (service/jobs): the procrastinate queue ------------------------------------------
    jobs_in_process: bool = True
    """Run a job worker inside each ``skillcred serve`` process. On SQLite it must (the queue lives
    in the process); on PostgreSQL, turn it off once ``skillcred worker`` processes run."""
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    """Jobs a worker runs at once (``skillcred worker --concurrency`` overrides it)."""

    expiry_reminder_days: int = Field(default=30, ge=1, le=3650)
    """An expiry reminder event is recorded this many days before a credential's ``validUntil``
    (``skillcred reminders``)."""

    # --- evidence (service/evidence): blob store, upload, fetch and archive limits -------------
    blob_dir: Path = Path("var/blobs")
    """Where evidence bytes are stored, content-addressed by SHA-256 (``SKILLCRED_BLOB_DIR``)."""
    evidence_max_file_bytes: int = Field(default=10 * 1_048_576, ge=1024, le=1024 * 1_048_576)
    """Largest single evidence item: an upload, a text, a fetched URL body."""
    evidence_max_items: int = Field(default=20, ge=1, le=1000)
    """Items per evidence bundle."""
    evidence_max_bundle_bytes: int = Field(default=50 * 1_048_576, ge=1024, le=16 * 1024 * 1_048_576)
    """Stored bytes per evidence bundle, all items together (repository bundles included)."""
    evidence_fetch_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    """Time budget for fetching an evidence URL (DNS, redirects and body included)."""
    evidence_clone_timeout_seconds: float = Field(default=60.0, gt=0, le=1800)
    """Time budget for cloning an evidence repository."""
    evidence_max_repository_bytes: int = Field(default=25 * 1_048_576, ge=1024, le=16 * 1024 * 1_048_576)
    """Largest clone (its packed objects on disk) and stored git bundle of a repository item."""
    evidence_max_checkout_bytes: int = Field(default=200 * 1_048_576, ge=1024)
    """Largest working tree of a repository item at its pinned commit (what assessors check out)."""
    evidence_max_checkout_files: int = Field(default=20_000, ge=1)
    """Most files in a repository item's working tree at its pinned commit."""
    evidence_archive_max_entries: int = Field(default=2000, ge=1, le=1_000_000)
    """Most entries in an uploaded ZIP or tar.gz archive (nested archives' entries included)."""
    evidence_archive_max_uncompressed_bytes: int = Field(default=100 * 1_048_576, ge=1024)
    """Largest total uncompressed size of an uploaded archive (zip-bomb guard)."""
    evidence_archive_max_ratio: int = Field(default=100, ge=2, le=100_000)
    """Largest compression ratio of an uploaded archive above 1 MiB uncompressed (zip-bomb guard)."""
    evidence_account_max_bytes: int = Field(default=250 * 1_048_576, ge=1024, le=1024 * 1024 * 1_048_576)
    """Stored evidence bytes per account, all its bundles together (submitted and issued ones too)."""
    evidence_account_max_open_bundles: int = Field(default=20, ge=1, le=10_000)
    """Evidence bundles an account may have open (not yet submitted for assessment) at once."""
    evidence_account_max_items_per_day: int = Field(default=100, ge=1, le=100_000)
    """Evidence items an account may add in any 24 hours (items deleted since still count)."""
    evidence_account_fetches_per_hour: int = Field(default=30, ge=1, le=10_000)
    """URL fetches and repository clones an account may start per hour, failed ones included."""
    evidence_unsubmitted_bundle_days: int = Field(default=90, ge=0, le=3650)
    """``skillcred evidence-sweep`` deletes bundles never submitted for assessment and untouched for
    this many days, with their items (0: never)."""

    # --- assessment engine (service/assessment/engine): which assessor judges evidence ----------------
    assessor: Literal["offline", "llm"] = "offline"
    """``offline``: the deterministic assessor (no network, no key); ``llm``: an OpenAI-compatible
    chat-completions endpoint (``llm_base_url`` + ``llm_model``)."""
    llm_base_url: str | None = None
    """e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:11434/v1`` (Ollama)."""
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_samples: int = Field(default=3, ge=1, le=15)
    """Independent answers per assessment; the median level per criterion is kept."""
    llm_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    """Per request; the whole assessment may take three times ``llm_samples`` of these."""

    # --- resubmissions (service/assessment/submission.py): how often an earner may try -----------
    assessment_max_attempts: int = Field(default=3, ge=1, le=1000)
    """Submissions an earner may make for one achievement within ``assessment_attempt_window_days``
    (renewals included; an appeal is not a submission). Three: an honest earner whose first try
    falls short reads the levels and explanation, improves the evidence and tries again, and may
    still appeal; someone probing the assessor with variations of a text gets three answers a
    month instead of an oracle."""
    assessment_attempt_window_days: int = Field(default=30, ge=1, le=365)
    """The sliding window ``assessment_max_attempts`` counts in: a month, long enough that probing
    is slow, short enough that an earner who used up their tries is not locked out for a season."""
    assessment_cooldown_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    """Least time between two submissions by an earner for one achievement (0: none). A day is the
    time real improvement takes (new work, a repository, a testimonial), and it stops a burst of
    rewordings submitted minutes apart."""

    # --- outgoing mail (service/mail.py): one-time tokens for email verification and endorsements -
    smtp_host: str | None = None
    """SMTP server for outgoing mail; unset: development and test keep mail in an in-memory outbox
    (and return tokens in responses), production cannot deliver tokens (a warning at start)."""
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none`` (a local relay only)."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "SkillCred <no-reply@skillcred.local>"

    # --- webhooks (service/webhooks): signed deliveries of events to subscribers' URLs --------------
    webhooks_allow_private: bool = False
    """Development and tests only: webhook URLs may be plain ``http`` and loopback addresses
    (127.0.0.0/8, ::1). Refused with ``env=production``."""
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """Time budget of one delivery attempt: resolving, connecting, sending and reading the answer."""
    webhooks_retry_schedule_seconds: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    """Delays before each retry of a failed delivery (each spread by up to a quarter by jitter);
    after the last retry fails the delivery is ``failed`` and its subscription disabled. The
    default spans more than 24 hours. JSON list in ``SKILLCRED_WEBHOOKS_RETRY_SCHEDULE_SECONDS``."""

    @model_validator(mode="after")
    def _webhooks_private_targets_not_in_production(self) -> Settings:
        if self.webhooks_allow_private and self.is_production:
            raise ValueError("SKILLCRED_WEBHOOKS_ALLOW_PRIVATE is for development and tests; production refuses it")
        return self

    @model_validator(mode="after")
    def _llm_assessor_is_configured(self) -> Settings:
        if self.assessor == "llm" and not (self.llm_base_url and self.llm_model):
            raise ValueError("SKILLCRED_ASSESSOR=llm needs SKILLCRED_LLM_BASE_URL and SKILLCRED_LLM_MODEL")
        return self

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

    @property
    def api_docs_enabled(self) -> bool:
        """Whether ``/docs`` and ``/redoc`` are served (``api_docs``, default off in production only)."""
        return self.api_docs if self.api_docs is not None else not self.is_production


def local_public_url(host: str, port: int) -> str:
    """``http://<host>:<port>`` for a server bound to ``host``: a wildcard address (``0.0.0.0``,
    ``::``) becomes ``127.0.0.1`` (reachable from this machine), an IPv6 address gets brackets."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own :class:`Settings` instead)."""
    return Settings()
