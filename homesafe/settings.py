"""Settings from HOMESAFE_* environment variables (and an optional .env), the same for every command."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.retention import DEFAULT_RAW_DAYS, validate_raw_days

VAR_DIR = Path("var")
MIN_KEY_CHARS = 32
MIN_SECRET_CHARS = 16
KNOWN_DEFAULTS = frozenset({"change-me", "changeme", "password", "secret", "homesafe", "admin"})


class Settings(BaseSettings):
    """Everything a Homesafe process can be told; defaults are the embedded, no-server set-up."""

    model_config = SettingsConfigDict(env_prefix="HOMESAFE_", env_file=".env", extra="ignore")

    production: bool = Field(
        default=False,
        description="a real install: refuses to start without the keys a legal record needs",
    )
    mqtt_url: str | None = Field(
        default=None, description="mqtt://user:pass@host:port; unset means the embedded broker"
    )
    telemetry_url: str = Field(default=f"sqlite:///{VAR_DIR}/telemetry.db")
    database_url: str = Field(default=f"sqlite:///{VAR_DIR}/cases.db")
    timezone: str = "Europe/London"
    gateway_key: str | None = Field(
        default=None,
        validate_default=True,
        description="provisioning key from which each gateway's MQTT password derives",
    )
    mqtt_protocol: str = Field(default="5", description="'5' or '3.1.1' for an external broker")
    audit_key: str | None = Field(
        default=None,
        validate_default=True,
        description="HMAC key signing the audit log's daily checkpoints (required in production)",
    )
    # The landlord's contact details printed on every letter (docs/operations.md, "Settings").
    landlord_name: str | None = None
    landlord_phone: str | None = None
    landlord_email: str | None = None
    landlord_address: str | None = None
    # People-facing channels (docs/notifications.md, "Settings"): unset means off, and each
    # message that would have used the channel says so on its case.
    smtp_url: str | None = Field(default=None, description="smtp://user:pass@host:587 or smtps://")
    mail_from: str | None = Field(default=None, description="Damp team <damp@landlord.example>")
    notify_api_key: str | None = Field(default=None, description="GOV.UK Notify API key")
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_sms_template_id: str | None = None
    notify_letter_template_id: str | None = None
    staff_email: str | None = Field(default=None, description="the damp team's mailbox")
    public_url: str = "http://127.0.0.1:8000"
    webhook_allow_private: bool = False
    files_dir: str = Field(default=f"{VAR_DIR}/files", description="photos and documents")
    notify_interval_s: float = 10.0
    scheduler_metrics_port: int = Field(
        default=0, ge=0, le=65535, description="Prometheus /metrics of the scheduler; 0 = off"
    )
    detect_interval_s: float = 900.0
    sweep_interval_s: float = 60.0
    awareness_from_sensors: str = "on_detection"
    # Ingest (`homesafe ingest`); command-line flags override these.
    metrics_port: int = Field(
        default=9108, ge=0, le=65535, description="Prometheus /metrics; 0 = off"
    )
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="addresses whose X-Forwarded-For/-Proto the API believes (the TLS proxy)",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="the address /metrics listens on (0.0.0.0: every interface)",
    )
    spool_dir: str | None = Field(default=None, description="default var/spool/<client id>")
    spool_max_bytes: int | None = Field(default=None, gt=0)
    ingest_workers: int = Field(default=1, ge=1, le=64)
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # Retention (docs/operations.md): raw readings kept this many days, hourly rollups forever.
    retention_raw_days: int = Field(
        default=DEFAULT_RAW_DAYS, description="0 = keep raw readings forever; else at least 40"
    )
    retention_interval_s: float = Field(default=3600.0, gt=0)
    influx_rpc_address: str | None = Field(
        default=None, description="influxd's RPC bind address for backup and restore (host:8088)"
    )
    # Staff sign-in through the landlord's identity provider (docs/security.md, "OpenID
    # Connect"): off while the issuer is unset; local accounts work either way (break-glass).
    oidc_issuer: str | None = Field(
        default=None, description="the provider's issuer URL, exactly as its discovery says"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = Field(
        default=None, description="unset: a public client (PKCE alone)"
    )
    oidc_redirect_url: str | None = Field(
        default=None, description="default HOMESAFE_PUBLIC_URL + /login/oidc/callback"
    )
    oidc_groups_claim: str = Field(default="groups", min_length=1)
    oidc_role_map: str = Field(
        default="",
        description="group=role pairs, first match wins: dm-team=officer,compliance=compliance",
    )
    oidc_scopes: str = "openid profile email"
    oidc_provider_name: str = Field(
        default="your organisation's account", description="shown as 'Sign in with …'"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("gateway_key", "audit_key")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None  # compose passes `${HOMESAFE_AUDIT_KEY:-}`: empty when not given

    @field_validator("retention_raw_days")
    @classmethod
    def _raw_days(cls, value: int) -> int:
        return validate_raw_days(value)

    @field_validator("gateway_key")
    @classmethod
    def _gateway_key_in_production(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("production") and (not value or len(value) < MIN_KEY_CHARS):
            raise ValueError(f"production needs a key of at least {MIN_KEY_CHARS} characters")
        return value or None

    @field_validator("database_url", "mqtt_url", "telemetry_url")
    @classmethod
    def _no_default_password_in_production(
        cls, value: str | None, info: ValidationInfo
    ) -> str | None:
        # docker-compose.yml once defaulted every password to "change-me": a production install
        # refuses to start with a known or short password in any URL (docs/security.md).
        if value and info.data.get("production"):
            password = urlsplit(value).password
            if password is not None and (
                len(password) < MIN_SECRET_CHARS or password.lower() in KNOWN_DEFAULTS
            ):
                raise ValueError(
                    f"production needs a password of at least {MIN_SECRET_CHARS} characters, "
                    "not a default one"
                )
        return value

    @field_validator("audit_key")
    @classmethod
    def _audit_key_in_production(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Without a key, a rewritten chain with rewritten checkpoints or an emptied log cannot be
        # told from the original (docs/security.md): a production install must sign checkpoints.
        if info.data.get("production") and (not value or len(value) < MIN_KEY_CHARS):
            raise ValueError(f"production needs a key of at least {MIN_KEY_CHARS} characters")
        return value or None

    @field_validator("telemetry_url")
    @classmethod
    def _telemetry_scheme(cls, value: str) -> str:
        if not value.startswith(("influxdb://", "influxdbs://", "sqlite:///")):
            raise ValueError("must start with influxdb://, influxdbs:// or sqlite:///")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if not value.startswith(("postgresql", "sqlite")):
            raise ValueError("must be a postgresql+psycopg:// or sqlite:/// URL")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must start with mqtt:// or mqtts://")
        return value or None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("smtp://", "smtps://")):
            raise ValueError("must start with smtp:// or smtps://")
        return value or None

    @field_validator("public_url", "notify_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("oidc_issuer", "oidc_client_id", "oidc_client_secret", "oidc_redirect_url")
    @classmethod
    def _oidc_empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("oidc_role_map")
    @classmethod
    def _oidc_role_map(cls, value: str) -> str:
        if value.strip():
            from api.oidc import parse_role_map  # only when set: ingest starts without api

            parse_role_map(value)
        return value

    @field_validator("oidc_scopes")
    @classmethod
    def _oidc_scopes(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("the scopes must include openid")
        return " ".join(value.split())

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer is None:
            return self
        if not self.oidc_issuer.startswith(("https://", "http://")):
            raise ValueError("HOMESAFE_OIDC_ISSUER must be an https:// URL")
        if self.production and not self.oidc_issuer.startswith("https://"):
            raise ValueError("production needs an https:// HOMESAFE_OIDC_ISSUER")
        if not self.oidc_client_id:
            raise ValueError("HOMESAFE_OIDC_ISSUER is set: HOMESAFE_OIDC_CLIENT_ID is needed too")
        if not self.oidc_role_map.strip():
            raise ValueError(
                "HOMESAFE_OIDC_ISSUER is set: HOMESAFE_OIDC_ROLE_MAP must map at least one group"
            )
        redirect = self.oidc_redirect_url or f"{self.public_url}/login/oidc/callback"
        if not redirect.startswith(("https://", "http://")):
            raise ValueError("HOMESAFE_OIDC_REDIRECT_URL must be an http(s) URL")
        if self.production and not redirect.startswith("https://"):
            raise ValueError("production needs an https:// redirect URL for OpenID Connect")
        return self

    def oidc_redirect(self) -> str:
        """Where the identity provider sends people back (registered with it)."""
        return self.oidc_redirect_url or f"{self.public_url}/login/oidc/callback"

    @field_validator("mqtt_protocol")
    @classmethod
    def _protocol(cls, value: str) -> str:
        if value not in ("5", "3.1.1"):
            raise ValueError("must be '5' or '3.1.1'")
        return value
