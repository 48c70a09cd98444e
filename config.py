"""auditdocs configuration, read from AUDITDOCS_* environment variables with safe defaults."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    """Read an AUDITDOCS_* variable, treating an empty value as unset."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    """Parse the usual spellings of a boolean variable."""
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_secret_key(data_dir: Path) -> str:
    """Return the secret key: from the environment, else a file created once (mode 0600) in the data dir."""
    from_env = _env("AUDITDOCS_SECRET_KEY")
    if from_env:
        return from_env
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    try:
        # O_EXCL: when several workers start together only one creates the key; the others re-read it.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
    for _ in range(50):
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.02)  # another worker is between create and write
    raise RuntimeError(f"secret key file {key_file} is empty")


class Config:
    """Production/development settings; every path hangs off the data dir."""

    def __init__(self) -> None:
        self.DATA_DIR = Path(_env("AUDITDOCS_DATA_DIR") or ROOT / "storage").resolve()
        self.SQLALCHEMY_DATABASE_URI = _env(
            "AUDITDOCS_DATABASE_URL", f"sqlite:///{self.DATA_DIR / 'auditdocs.sqlite3'}"
        )
        self.SECRET_KEY: str | None = None  # resolved lazily in create_app (needs the data dir to exist)
        self.MAX_UPLOAD_MB = int(_env("AUDITDOCS_MAX_UPLOAD_MB", "100") or 100)
        self.ORG_NAME = _env("AUDITDOCS_ORG_NAME", "Programa Nacional Cuna Más (demo)")
        self.DEFAULT_LANGUAGE = _env("AUDITDOCS_DEFAULT_LANGUAGE", "es")
        self.TIMEZONE = _env("AUDITDOCS_TIMEZONE", "America/Lima")
        self.ALLOWED_EXTENSIONS = tuple(
            e.strip().lower().lstrip(".")
            for e in (_env("AUDITDOCS_ALLOWED_EXTENSIONS") or "").split(",")
            if e.strip()
        ) or None
        self.SESSION_COOKIE_SECURE = _env_bool("AUDITDOCS_SECURE_COOKIES", False)
        self.PREFERRED_URL_SCHEME = "https" if self.SESSION_COOKIE_SECURE else "http"
        self.BEHIND_PROXY = _env_bool("AUDITDOCS_BEHIND_PROXY", False)
        self.SESSION_IDLE_MINUTES = float(_env("AUDITDOCS_SESSION_IDLE_MINUTES", "30") or 30)
        self.SESSION_MAX_HOURS = float(_env("AUDITDOCS_SESSION_MAX_HOURS", "12") or 12)
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
        # How long a writer waits for another before the request answers 503 "busy, try again".
        self.DB_LOCK_TIMEOUT_MS = int(_env("AUDITDOCS_DB_LOCK_TIMEOUT_MS", "20000") or 20000)
        # Outgoing e-mail (approval requests, reset passwords): off while no host is set.
        self.SMTP_HOST = _env("AUDITDOCS_SMTP_HOST")
        self.SMTP_STARTTLS = _env_bool("AUDITDOCS_SMTP_STARTTLS", True)
        self.SMTP_PORT = int(_env("AUDITDOCS_SMTP_PORT") or (587 if self.SMTP_STARTTLS else 25))
        self.SMTP_USER = _env("AUDITDOCS_SMTP_USER")
        self.SMTP_PASSWORD = _env("AUDITDOCS_SMTP_PASSWORD")
        self.SMTP_FROM = _env("AUDITDOCS_SMTP_FROM", "auditdocs@localhost")
        self.SMTP_TIMEOUT = float(_env("AUDITDOCS_SMTP_TIMEOUT", "10") or 10)
        # The address people open the app at, for links in e-mails sent outside a request (the command line).
        self.BASE_URL = _env("AUDITDOCS_BASE_URL")
        # Text extraction for search: a thread in each web process ("thread") or only `auditdocs index --pending`
        # ("off"); characters kept per file (the rest is cut, and marked so); seconds one file may take.
        self.EXTRACT_WORKER = _env("AUDITDOCS_EXTRACT_WORKER", "thread")
        self.EXTRACT_MAX_CHARS = int(_env("AUDITDOCS_EXTRACT_MAX_CHARS", "1000000") or 1000000)
        self.EXTRACT_TIME_LIMIT = float(_env("AUDITDOCS_EXTRACT_TIME_LIMIT", "60") or 60)
        # Search index updates right after each commit ("sync") or only by `auditdocs reindex` ("off"); merges,
        # retries and the day's in-force changes in a thread of each web process ("thread") or not at all ("off").
        self.SEARCH_INDEXING = _env("AUDITDOCS_SEARCH_INDEXING", "sync")
        self.SEARCH_MAINTENANCE = _env("AUDITDOCS_SEARCH_MAINTENANCE", "thread")
        # Word packs: built by a thread in each web process ("thread") or only by `auditdocs worker` ("off");
        # how often an idle worker looks for jobs queued elsewhere; when a silent running job counts as abandoned.
        self.PACK_WORKER = _env("AUDITDOCS_PACK_WORKER", "thread")
        self.PACK_POLL_SECONDS = float(_env("AUDITDOCS_PACK_POLL_SECONDS", "5") or 5)
        self.PACK_STALE_MINUTES = float(_env("AUDITDOCS_PACK_STALE_MINUTES", "10") or 10)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; a long form must not expire mid-audit
    LANGUAGES = ("es", "en")
    TESTING = False


class TestConfig(Config):
    """Settings for the test-suite: data dir and database come from the fixtures."""

    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - tests only
        self.ORG_NAME = "Programa de prueba"
        self.EXTRACT_WORKER = "off"  # a test that wants the background reader turns it on
        self.SEARCH_MAINTENANCE = "off"  # tests call search.maintenance.maintainer_of(app).run_once()
        self.PACK_WORKER = "off"  # tests build queued packs with packs.worker.run_once(app)
