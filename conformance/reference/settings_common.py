"""Django settings shared by the reference LMS and discovery service (each has its own module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.reference.runtime import RuntimeConfig


def database(config: RuntimeConfig, name: str) -> dict[str, Any]:
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(Path(config.state_dir) / f"{name}.sqlite3"),
            "OPTIONS": {
                # waitress serves with 8 threads: WAL lets readers run beside the one writer, and
                # IMMEDIATE transactions queue writers on the lock instead of failing to upgrade it.
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }


def middleware(*, jwt_cookies: bool, jwt_settings: bool = False) -> list[str]:
    """The middleware of a reference service, in the order the platform and course-discovery list
    them: edx-drf-extensions' EnsureJWTAuthSettingsMiddleware where ``jwt_settings`` (the LMS's),
    and its JwtAuthCookieMiddleware (the MFEs' two JWT cookies reassembled for JwtAuthentication)
    where ``jwt_cookies``."""
    listed = [
        "conformance.reference.middleware.LatencyMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
    if jwt_settings:
        listed.append("edx_rest_framework_extensions.auth.jwt.middleware.EnsureJWTAuthSettingsMiddleware")
    if jwt_cookies:
        listed.append("edx_rest_framework_extensions.auth.jwt.middleware.JwtAuthCookieMiddleware")
    return [*listed, "django.middleware.clickjacking.XFrameOptionsMiddleware"]


def logging_config() -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"expected_errors": {"()": "conformance.reference.middleware.ExpectedErrorsFilter"}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["expected_errors"],
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            # edx-drf-extensions logs every rejected JWT with a traceback; rejecting them is the
            # job of a conformance target, not an error.
            "edx_rest_framework_extensions": {"level": "CRITICAL"},
            "waitress": {"level": "ERROR"},
            # 4xx responses are this server's daily work; 5xx still reach stderr.
            "django.request": {"level": "ERROR"},
            "django.security": {"level": "ERROR"},
            # DOT warns at start-up that its OIDC views are off: they are off in the LMS too.
            "oauth2_provider": {"level": "ERROR"},
        },
    }


COMMON: dict[str, Any] = {
    "DEBUG": False,
    "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
    "USE_TZ": True,
    "TIME_ZONE": "UTC",
    "USE_I18N": True,
    "LANGUAGE_CODE": "en",
    "LANGUAGES": [("en", "English")],
    "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
    "X_FRAME_OPTIONS": "DENY",
    # Signed-cookie sessions need no table: SessionAuthentication is listed, never used by the suite.
    "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    "LOGGING": logging_config(),
    "TEMPLATES": [],
    # edx-django-utils looks for New Relic by default and warns that it is absent.
    "OPENEDX_TELEMETRY": [],
    "WSGI_APPLICATION": None,
}
