"""Deploy-time configuration, read from the environment.

Everything here can be set as an environment variable of the same name.
When DATABASE_URL or REDIS_URL is unset, embedded servers under VAR_DIR are
started instead (see app/embedded.py). VITRINE_ENV (development or
production) decides what only development may have: the demo merchant with
its published password, and a session secret kept in var/.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from app import embedded

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production")


class ConfigError(RuntimeError):
    """The deploy configuration cannot work; the message says what to set."""


def load_config(overrides: dict | None = None) -> dict:
    overrides = dict(overrides or {})
    env = {**os.environ, **{k: v for k, v in overrides.items() if isinstance(v, str)}}
    vitrine_env = deploy_env(env)
    var_dir = Path(overrides.get("VAR_DIR") or env.get("VAR_DIR") or ROOT / "var").resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret_key = _secret_key(env, vitrine_env, var_dir)  # before any server starts: refuse early

    owner_url = normalize_db_url(env.get("DATABASE_URL") or embedded.postgres_url(var_dir / "pg"))
    databases = {"main": owner_url}
    for key, url in json.loads(env.get("DATABASES") or "{}").items():
        if key != "main":
            databases[key] = normalize_db_url(url)

    app_user = env.get("APP_DB_USER", "vitrine_app")
    app_password = env.get("APP_DB_PASSWORD")
    app_urls = {key: app_role_url(url, app_user, app_password) for key, url in databases.items()}

    config = {
        "VITRINE_ENV": vitrine_env,
        "VAR_DIR": var_dir,
        "SECRET_KEY": secret_key,
        "PLATFORM_HOST": env.get("PLATFORM_HOST", "localhost").lower(),
        "PREFERRED_URL_SCHEME": env.get("URL_SCHEME", "http"),
        "REDIS_URL": env.get("REDIS_URL") or embedded.redis_url(var_dir / "redis"),
        # Owner URLs run migrations and provisioning; everything else
        # connects as APP_DB_USER, which owns nothing and is subject to RLS.
        "DATABASES": databases,
        "APP_DB_USER": app_user,
        "APP_DB_PASSWORD": app_password,
        "SQLALCHEMY_DATABASE_URI": app_urls["main"],
        "SQLALCHEMY_BINDS": {f"tenant:{key}": url for key, url in app_urls.items()},
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "POOL_CAPACITY": int(env.get("POOL_CAPACITY", "100")),
        "STORE_CACHE_TTL": float(env.get("STORE_CACHE_TTL", "60")),
        # Log-in: attempts per (email, client address) before that pair is locked for the window;
        # failures per address across emails; failures per email across addresses before it is
        # only slowed down (one attempt per 2, 4, 8… seconds, at most LOGIN_SLOWDOWN_MAX_DELAY).
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10/300"),
        "LOGIN_ADDRESS_RATE_LIMIT": env.get("LOGIN_ADDRESS_RATE_LIMIT", "100/300"),
        "LOGIN_SLOWDOWN": env.get("LOGIN_SLOWDOWN", "20/3600"),
        "LOGIN_SLOWDOWN_MAX_DELAY": int(env.get("LOGIN_SLOWDOWN_MAX_DELAY", "15")),
        # Mails people can make us send (sign-up, password reset, invitations): per recipient, per client address.
        "MAIL_RATE_LIMIT": env.get("MAIL_RATE_LIMIT", "5/3600"),
        "MAIL_ADDRESS_RATE_LIMIT": env.get("MAIL_ADDRESS_RATE_LIMIT", "30/3600"),
        # Shoppers' sign-ups at one store, per client address.
        "REGISTER_RATE_LIMIT": env.get("REGISTER_RATE_LIMIT", "30/3600"),
        # Merchant sessions (seconds): unused for SESSION_IDLE_TIMEOUT, or older than SESSION_LIFETIME, they end.
        "SESSION_IDLE_TIMEOUT": int(env.get("SESSION_IDLE_TIMEOUT", str(24 * 3600))),
        "SESSION_LIFETIME": int(env.get("SESSION_LIFETIME", str(14 * 24 * 3600))),
        "SIGNUP_LINK_TTL": int(env.get("SIGNUP_LINK_TTL", str(24 * 3600))),
        "PASSWORD_RESET_TTL": int(env.get("PASSWORD_RESET_TTL", "3600")),
        "INVITATION_TTL": int(env.get("INVITATION_TTL", str(7 * 24 * 3600))),
        "INVITATION_PENDING_LIMIT": int(env.get("INVITATION_PENDING_LIMIT", "20")),  # per store
        # Base of links in mails (e.g. https://vitrine.example.com); empty: the address the request came to.
        "PLATFORM_URL": env.get("PLATFORM_URL", "").rstrip("/"),
        "PROXY_HOPS": int(env.get("PROXY_HOPS", "0")),
        # CSV imports fetch Image Src URLs; private addresses only when this is on (tests, development).
        "IMPORT_ALLOW_PRIVATE_URLS": env.get("IMPORT_ALLOW_PRIVATE_URLS", "0").lower() in ("1", "true", "yes"),
        # One image URL gets this many seconds in all (redirects included), however slowly it drips.
        "IMPORT_FETCH_DEADLINE": float(env.get("IMPORT_FETCH_DEADLINE", "60")),
        # DNS servers ("ip" or "ip:port", comma-separated) for domain checks and image fetches; empty = the system's.
        "DNS_RESOLVERS": [each.strip() for each in env.get("DNS_RESOLVERS", "").split(",") if each.strip()],
        "DNS_TIMEOUT": float(env.get("DNS_TIMEOUT", "5")),  # seconds per lookup
        "SMTP_URL": env.get("SMTP_URL", ""),
        # Card payments: real Stripe with a real key, else the local emulator (app/payments/emulator).
        **stripe_settings(env),
        "SMTP_CA_FILE": env.get("SMTP_CA_FILE", ""),  # PEM CA bundle for an SMTP server with a private CA
        "SEARCH_WRITER_TIMEOUT": float(env.get("SEARCH_WRITER_TIMEOUT", "30")),
        # The most active products a collection may have for a search within it (their ids are read whole).
        "SEARCH_COLLECTION_LIMIT": int(env.get("SEARCH_COLLECTION_LIMIT", "10000")),
        # A CSV import works for about this long, then queues its next step behind other stores' work.
        "IMPORT_STEP_SECONDS": float(env.get("IMPORT_STEP_SECONDS", "10")),
        # A running import step renews its lease; one not renewed for this long lost its worker.
        "IMPORT_LEASE_SECONDS": float(env.get("IMPORT_LEASE_SECONDS", "120")),
        # Outbox rows that fail wait EFFECTS_RETRY_BASE seconds, doubling each time up to EFFECTS_RETRY_MAX; after
        # EFFECTS_MAX_ATTEMPTS failures a row is a dead letter, shown on the dashboard's "Failed jobs" page.
        "EFFECTS_RETRY_BASE": float(env.get("EFFECTS_RETRY_BASE", "5")),
        "EFFECTS_RETRY_MAX": float(env.get("EFFECTS_RETRY_MAX", "3600")),
        "EFFECTS_MAX_ATTEMPTS": int(env.get("EFFECTS_MAX_ATTEMPTS", "25")),
        # Merchant webhooks: loopback endpoints only when this is on (development by default, tests); seconds
        # between a delivery's attempts (19 attempts over about 43 hours); an endpoint failing
        # WEBHOOK_DISABLE_AFTER attempts in a row, for at least WEBHOOK_DISABLE_HOURS, is disabled.
        "WEBHOOK_ALLOW_PRIVATE_URLS": env.get("WEBHOOK_ALLOW_PRIVATE_URLS",
                                              "1" if vitrine_env == "development" else "0").lower() in ("1", "true", "yes"),
        "WEBHOOK_RETRY_SCHEDULE": [float(each) for each in env.get(
            "WEBHOOK_RETRY_SCHEDULE", "60,300,1800,3600,7200" + ",10800" * 13).split(",") if each.strip()],
        "WEBHOOK_DISABLE_AFTER": int(env.get("WEBHOOK_DISABLE_AFTER", "50")),
        "WEBHOOK_DISABLE_HOURS": float(env.get("WEBHOOK_DISABLE_HOURS", "24")),
        "WEBHOOK_BATCH": int(env.get("WEBHOOK_BATCH", "10")),  # deliveries one job posts before yielding its worker
        "WEBHOOK_CA_FILE": env.get("WEBHOOK_CA_FILE", ""),  # PEM CA bundle for endpoints with a private CA (tests)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,  # CSV imports; images are held to 10 MB
    }
    # String overrides were read like environment variables above; anything
    # else (booleans, dicts) and keys not computed here are taken as given.
    config.update({k: v for k, v in overrides.items()
                   if not isinstance(v, str) or k not in config and k not in ("DATABASE_URL", "DATABASES")})
    return config


def normalize_db_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def app_role_url(owner_url: str, user: str, password: str | None) -> str:
    return make_url(owner_url).set(username=user, password=password).render_as_string(hide_password=False)


def deploy_env(env) -> str:
    """development (the demo merchant, a secret kept in var/) or production.

    Development is the default only with the embedded PostgreSQL: a
    DATABASE_URL means a real deployment unless VITRINE_ENV says otherwise.
    """
    value = env.get("VITRINE_ENV") or ("production" if env.get("DATABASE_URL") else "development")
    if value not in ENVIRONMENTS:
        raise ConfigError(f"VITRINE_ENV must be development or production, not {value!r}")
    return value


def _secret_key(env, vitrine_env: str, var_dir: Path) -> str:
    if env.get("SECRET_KEY"):
        return env["SECRET_KEY"]
    if vitrine_env == "production":
        raise ConfigError(
            "SECRET_KEY is not set. In production (VITRINE_ENV=production, the default when DATABASE_URL is set) "
            "sessions are signed with a key of yours: set SECRET_KEY to a long random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`, the same for every process. "
            "The key kept in var/ is for development only.")
    return _dev_secret(var_dir)


def _dev_secret(var_dir: Path) -> str:
    """A per-checkout secret, kept in var/ so sessions survive restarts."""
    path = var_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


EMULATOR_KEY = "sk_test_vitrine_emulator"
EMULATOR_PUBLISHABLE_KEY = "pk_test_vitrine_emulator"


def stripe_settings(env) -> dict:
    """Stripe's API with STRIPE_SECRET_KEY; without one, the emulator at
    STRIPE_EMULATOR_URL (which `make run` and the tests start)."""
    key = env.get("STRIPE_SECRET_KEY", "")
    emulated = not key or key == EMULATOR_KEY
    emulator = env.get("STRIPE_EMULATOR_URL", "http://127.0.0.1:12111").rstrip("/")
    return {
        "STRIPE_EMULATED": emulated,
        "STRIPE_SECRET_KEY": EMULATOR_KEY if emulated else key,
        "STRIPE_PUBLISHABLE_KEY": EMULATOR_PUBLISHABLE_KEY if emulated else env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_API_BASE": emulator if emulated else env.get("STRIPE_API_BASE", "https://api.stripe.com"),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", "whsec_vitrine_emulator" if emulated else ""),
        "STRIPE_TIMEOUT": float(env.get("STRIPE_TIMEOUT", "20")),  # seconds per call to the PSP
    }
