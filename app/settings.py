"""The one place that reads the environment: a frozen settings object, grouped by concern."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# Piccolo finds its engine through this variable, whichever directory the process runs from.
os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")


def child_process_environment() -> dict[str, str]:
    """The environment `aplus run` hands to the web and worker processes it starts."""
    return dict(os.environ)


class SettingsError(RuntimeError):
    """Raised at startup when the configuration cannot work."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} doit être un nombre entier (reçu : {raw!r})") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "oui", "on"}


@dataclass(frozen=True)
class Settings:
    # "development" (generated secrets, /dev pages), "test", or "production" (strict).
    environment: str
    # Folder for local state: embedded PostgreSQL, generated secrets, captured mails, files.
    var_dir: Path
    # PostgreSQL URL; None means "start the embedded server under var_dir" (development only).
    database_url: str | None
    # Public address of the site, used to build links in e-mails.
    base_url: str
    # Signs CSRF cookies; required in production.
    secret_key: str
    # SMTP server: smtp://user:password@host:port (smtps:// for implicit TLS); None: catcher.
    smtp_url: str | None
    # Sender of every e-mail.
    mail_from: str
    # Where the development mail catcher writes what it receives (read by /dev/mails).
    dev_mail_dir: Path
    # File encryption keys "id:base64key", the first one encrypts, all of them decrypt.
    file_keys: tuple[tuple[str, bytes], ...]
    # Where encrypted files are stored.
    files_dir: Path
    # Upload limit per file, in bytes.
    max_file_bytes: int
    # Magic login link lifetime, in minutes.
    login_link_minutes: int
    # Session lifetime and sliding idle limit, in days.
    session_days: int
    session_idle_days: int
    # Login-link requests allowed per e-mail and per client address within the window.
    login_rate_per_email: int
    login_rate_per_address: int
    login_rate_window_minutes: int
    # Retention, in days (CGU): files after upload, personal data after archiving, audit events.
    files_retention_days: int
    personal_data_retention_days: int
    events_retention_days: int
    # Client address taken from X-Forwarded-For only when the socket peer is one of these.
    trusted_proxies: frozenset[str] = field(default_factory=frozenset)
    # Version of the CGU users must accept.
    cgu_version: str = "2024-01"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def dev_pages_enabled(self) -> bool:
        return self.environment != "production"

    @property
    def uses_https(self) -> bool:
        return self.base_url.startswith("https://")


def _persistent_secret(var_dir: Path, name: str, make) -> str:
    """Development secrets are generated once and kept under var/ so restarts keep sessions."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


def _parse_file_keys(raw: str) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, _, encoded = item.partition(":")
        try:
            key = base64.urlsafe_b64decode(encoded)
        except ValueError as exc:
            raise SettingsError(f"FILE_KEYS : clé {key_id!r} illisible (base64 attendu)") from exc
        if len(key) != 32:
            raise SettingsError(f"FILE_KEYS : la clé {key_id!r} doit faire 32 octets")
        keys.append((key_id, key))
    return tuple(keys)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    environment = env.get("APLUS_ENV", "development").strip() or "development"
    if environment not in {"development", "test", "production"}:
        raise SettingsError("APLUS_ENV doit valoir development, test ou production")
    production = environment == "production"
    var_dir = Path(env.get("APLUS_VAR_DIR", "var")).resolve()

    database_url = env.get("DATABASE_URL", "").strip() or None
    if production and not database_url:
        raise SettingsError("DATABASE_URL est obligatoire en production")

    secret_key = env.get("SECRET_KEY", "").strip()
    if not secret_key:
        if production:
            raise SettingsError("SECRET_KEY est obligatoire en production")
        secret_key = _persistent_secret(var_dir, "secret_key", lambda: secrets.token_urlsafe(48))

    raw_keys = env.get("FILE_KEYS", "").strip()
    if not raw_keys:
        if production:
            raise SettingsError("FILE_KEYS est obligatoire en production")
        raw_keys = _persistent_secret(
            var_dir,
            "file_keys",
            lambda: "dev1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        )
    file_keys = _parse_file_keys(raw_keys)
    if not file_keys:
        raise SettingsError("FILE_KEYS ne contient aucune clé")

    return Settings(
        environment=environment,
        var_dir=var_dir,
        database_url=database_url,
        base_url=env.get("BASE_URL", "http://localhost:8000").rstrip("/"),
        secret_key=secret_key,
        smtp_url=env.get("SMTP_URL", "").strip() or None,
        mail_from=env.get("MAIL_FROM", "Administration+ <ne-pas-repondre@aplus.localhost>"),
        dev_mail_dir=Path(env.get("DEV_MAIL_DIR", str(var_dir / "mails"))).resolve(),
        file_keys=file_keys,
        files_dir=Path(env.get("FILES_DIR", str(var_dir / "files"))).resolve(),
        max_file_bytes=_int(env, "MAX_FILE_BYTES", 10 * 1024 * 1024),
        login_link_minutes=_int(env, "LOGIN_LINK_MINUTES", 30),
        session_days=_int(env, "SESSION_DAYS", 30),
        session_idle_days=_int(env, "SESSION_IDLE_DAYS", 7),
        login_rate_per_email=_int(env, "LOGIN_RATE_PER_EMAIL", 5),
        login_rate_per_address=_int(env, "LOGIN_RATE_PER_ADDRESS", 30),
        login_rate_window_minutes=_int(env, "LOGIN_RATE_WINDOW_MINUTES", 10),
        files_retention_days=_int(env, "FILES_RETENTION_DAYS", 15),
        personal_data_retention_days=_int(env, "PERSONAL_DATA_RETENTION_DAYS", 90),
        events_retention_days=_int(env, "EVENTS_RETENTION_DAYS", 365),
        trusted_proxies=frozenset(
            p.strip() for p in env.get("TRUSTED_PROXIES", "").split(",") if p.strip()
        ),
        cgu_version=env.get("CGU_VERSION", "2024-01"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def require_database_url() -> str:
    """The database URL, or a clear error when nothing started the embedded server."""
    url = get_settings().database_url
    if not url:
        raise SettingsError(
            "DATABASE_URL n'est pas défini : lancez `aplus run` (PostgreSQL embarqué) "
            "ou définissez DATABASE_URL."
        )
    return url
