"""Settings read from the environment.

DATABASE_URL      PostgreSQL URL (postgresql+psycopg://...) the app and imports connect
                  with; unset: the embedded server.
MIGRATE_DATABASE_URL  the URL of the role that owns the tables, used by `casemgr db
                  upgrade`/`downgrade`, `seed`, `demo`'s migration and seed, and `restore`;
                  unset: DATABASE_URL (casemgr/db_roles.py).
CASEMGR_REPORTS_DATABASE_URL  a read replica the report pages read their figures from
                  (casemgr/reports.py), in read-only transactions; unset: DATABASE_URL.
SECRET_KEY        signs sessions; required when CASEMGR_ENV=production.
CASEMGR_ENV       development (default) or production.
CASEMGR_DATA_DIR  where the embedded database, the development secret and the password
                  checks' slot files (casemgr/passwords.py) live.
CASEMGR_RATELIMIT_STORAGE  redis://host:6379/0 (or rediss://, redis+unix://): where the
                  counts of failed sign-ins live; unset: each worker's memory, which is
                  enough for one worker only.
CASEMGR_THROTTLE_PER_ACCOUNT, CASEMGR_THROTTLE_PER_ADDRESS  failed attempts allowed,
                  e.g. "5 per minute; 20 per hour".
MAIL_URL          outgoing mail: smtp://user:password@host:587 (STARTTLS when offered) or
                  smtps://user:password@host:465 (TLS from the start); required when
                  CASEMGR_ENV=production. Unset in development: messages go to the outbox.
MAIL_FROM         the sender of casemgr's mail (default: casemgr <no-reply@localhost>).
MAIL_OUTBOX       the development outbox folder (default: <data folder>/outbox).
CASEMGR_BASE_URL  the address people reach casemgr at (https://casemgr.example.org), used
                  in the links casemgr mails; unset, links use the address of the request.
CASEMGR_IMPORT_STALE_AFTER  seconds after which an import not heard from (no heartbeat)
                  counts as interrupted (default: 120).
CASEMGR_IMPORT_SPOOL_DIR  the folder an uploaded import file is written to while it is
                  imported (default: the system's temporary folder); it needs room for
                  the largest upload, and should not be a RAM disk.
CASEMGR_TIMEZONE  the district's time zone (an IANA name such as America/Chicago): the
                  day every rule runs on and every date is shown in (default:
                  America/New_York).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message is one line for the operator."""


def default_data_dir() -> Path:
    """A per-user data folder.

    The embedded PostgreSQL, when run by root, opens every parent of its data folder
    to other users, so root's data lives under /var/lib (already world-traversable)
    rather than under /root.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/casemgr")
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "casemgr"


def data_dir() -> Path:
    path = Path(os.environ.get("CASEMGR_DATA_DIR") or default_data_dir()).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def normalise_database_url(url: str, name: str = "DATABASE_URL") -> str:
    """Accept postgres://, postgresql:// and postgresql+psycopg:// alike; anything
    else is a configuration error."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"{name} is not a valid database URL") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigError(
            f"{name} must point to PostgreSQL, not {parsed.get_backend_name()!r}"
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def development_secret(folder: Path) -> str:
    """Generated once, kept in the data folder, readable by its owner only."""
    path = folder / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.encode())
    except Exception:
        os.close(fd)
        raise
    os.close(fd)
    return key


def proxy_count(value: str) -> int:
    """How many reverse proxies stand in front of casemgr and append X-Forwarded-For:
    only then is the address they forward believed (it is recorded with every online
    consent)."""
    text = value.strip()
    if not text.isdigit():
        raise ConfigError(f"CASEMGR_PROXIES must be a whole number of proxies (0 or more), not {value!r}")
    return int(text)


def time_zone(value: str) -> str:
    """An IANA time zone name the machine knows."""
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"CASEMGR_TIMEZONE must name a time zone such as America/Chicago, not {value!r}") from None
    return name


RATELIMIT_SCHEMES = ("memory", "redis", "rediss", "redis+unix")


def ratelimit_storage(value: str) -> str:
    """Where the throttling counters live: memory (one worker) or a Redis server."""
    url = value.strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in RATELIMIT_SCHEMES:
        shown = f"{scheme}://" if scheme else "no URL scheme"
        raise ConfigError(
            f"CASEMGR_RATELIMIT_STORAGE must be a redis://, rediss:// or redis+unix:// URL, not {shown}"
        )
    return url


def throttle_limits(name: str, value: str) -> str:
    """A list of limits in Flask-Limiter's words ("5 per minute; 20 per hour")."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f'{name} must read like "5 per minute; 20 per hour", not {value!r}') from None
    return value


def check_mail_url(url: str) -> str:
    """An smtp:// or smtps:// URL with a host; anything else is a configuration error."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ConfigError("MAIL_URL is not a valid URL") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("MAIL_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465")
    return url


def seconds(name: str, value: str) -> timedelta:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if not 0 < number < 10 ** 7:
        raise ConfigError(f"{name} must be a number of seconds greater than 0, not {value!r}")
    return timedelta(seconds=number)


def spool_dir(value: str) -> str:
    """The folder uploads are written to: made if missing; it must be writable."""
    path = Path(value).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"CASEMGR_IMPORT_SPOOL_DIR {value!r} cannot be made: {error.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"CASEMGR_IMPORT_SPOOL_DIR {value!r} is not a folder casemgr can write to")
    return str(path.resolve())


class Config:
    ENV_NAME = "development"
    TESTING = False

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
    SQLALCHEMY_RECORD_QUERIES = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "casemgr_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # issue 11 item 8: every session ends 12 hours after signing in, and sooner when idle
    SESSION_LIFETIME = timedelta(hours=12)
    STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
    FAMILY_IDLE_TIMEOUT = timedelta(hours=2)
    # a printed invitation letter's claim code (issue 11 item 3)
    CLAIM_CODE_LIFETIME = timedelta(days=30)

    # issue 11 item 7: FAILED attempts allowed on the forms that take a password, code or
    # link (casemgr/throttle.py); a school's staff share one network address
    THROTTLE_PER_ACCOUNT = "5 per minute; 20 per hour"
    THROTTLE_PER_ADDRESS = "30 per minute; 300 per hour"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "casemgr"

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_SSL_STRICT = True

    # uploads (imports): a year of daily attendance for 50,000 students is ~400 MB of CSV
    MAX_CONTENT_LENGTH = 512 * 1024 * 1024
    # a member of a OneRoster .zip is refused once it decompresses past this size, or past
    # this many times its compressed size: a 100,000-student district's users.csv is ~30 MB
    # and CSV compresses about 5-20:1; a zip bomb passes 1000:1
    IMPORT_ZIP_MEMBER_MAX_BYTES = 2 * 1024 ** 3
    IMPORT_ZIP_MAX_RATIO = 200
    # an upload is written to a file in this folder (None: the system's temporary folder),
    # then imported by a thread of the web process, at most IMPORT_WORKERS at a time
    IMPORT_SPOOL_DIR = None
    IMPORT_IN_BACKGROUND = True
    IMPORT_WORKERS = 2
    # a running import not heard from for this long is interrupted (its process ended)
    IMPORT_STALE_AFTER = timedelta(minutes=2)

    MAIL_URL = None
    MAIL_FROM = "casemgr <no-reply@localhost>"
    MAIL_OUTBOX = None  # None: <data folder>/outbox
    MAIL_TIMEOUT = 20  # seconds to wait for the mail server
    BASE_URL = None
    # issue 11: how long an emailed link works
    INVITATION_LIFETIME = timedelta(days=7)
    PASSWORD_RESET_LIFETIME = timedelta(minutes=30)

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "America/New_York"
    LANGUAGES = ("en", "es")

    @classmethod
    def from_environ(cls, environ: os._Environ | dict | None = None) -> dict:
        """Settings that come from the environment, checked."""
        env = os.environ if environ is None else environ
        settings: dict = {}
        production = env.get("CASEMGR_ENV", "development") == "production"
        settings["ENV_NAME"] = "production" if production else "development"
        if env.get("DATABASE_URL"):
            settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(env["DATABASE_URL"])
        elif production:
            raise ConfigError("DATABASE_URL is required when CASEMGR_ENV=production")
        if env.get("MIGRATE_DATABASE_URL"):
            if not env.get("DATABASE_URL"):
                raise ConfigError("MIGRATE_DATABASE_URL is set without DATABASE_URL (the application role's URL)")
            settings["MIGRATE_DATABASE_URI"] = normalise_database_url(env["MIGRATE_DATABASE_URL"], "MIGRATE_DATABASE_URL")
        if env.get("CASEMGR_REPORTS_DATABASE_URL"):
            settings["REPORTS_DATABASE_URI"] = normalise_database_url(
                env["CASEMGR_REPORTS_DATABASE_URL"], "CASEMGR_REPORTS_DATABASE_URL")
        secret = env.get("SECRET_KEY")
        if production:
            if not secret or len(secret) < 32:
                raise ConfigError(
                    "SECRET_KEY (at least 32 characters) is required when CASEMGR_ENV=production"
                )
            settings["SESSION_COOKIE_SECURE"] = True
            settings["REMEMBER_COOKIE_SECURE"] = True
        settings["SECRET_KEY"] = secret or None
        if env.get("MAIL_URL"):
            settings["MAIL_URL"] = check_mail_url(env["MAIL_URL"])
        elif production:
            raise ConfigError("MAIL_URL (smtp://user:password@host:587 or smtps://...) is required when CASEMGR_ENV=production")
        if env.get("MAIL_FROM"):
            settings["MAIL_FROM"] = env["MAIL_FROM"]
        if env.get("MAIL_OUTBOX"):
            settings["MAIL_OUTBOX"] = env["MAIL_OUTBOX"]
        if env.get("CASEMGR_BASE_URL"):
            settings["BASE_URL"] = env["CASEMGR_BASE_URL"].rstrip("/")
        if env.get("CASEMGR_IMPORT_STALE_AFTER"):
            settings["IMPORT_STALE_AFTER"] = seconds("CASEMGR_IMPORT_STALE_AFTER", env["CASEMGR_IMPORT_STALE_AFTER"])
        if env.get("CASEMGR_IMPORT_SPOOL_DIR"):
            settings["IMPORT_SPOOL_DIR"] = spool_dir(env["CASEMGR_IMPORT_SPOOL_DIR"])
        if env.get("CASEMGR_TIMEZONE"):
            settings["BABEL_DEFAULT_TIMEZONE"] = time_zone(env["CASEMGR_TIMEZONE"])
        settings["PROXIES"] = proxy_count(env.get("CASEMGR_PROXIES", "0"))
        if env.get("CASEMGR_RATELIMIT_STORAGE"):
            settings["RATELIMIT_STORAGE_URI"] = ratelimit_storage(env["CASEMGR_RATELIMIT_STORAGE"])
        for name, key in (("CASEMGR_THROTTLE_PER_ACCOUNT", "THROTTLE_PER_ACCOUNT"),
                          ("CASEMGR_THROTTLE_PER_ADDRESS", "THROTTLE_PER_ADDRESS")):
            if env.get(name):
                settings[key] = throttle_limits(name, env[name])
        return settings
