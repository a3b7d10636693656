"""Django settings for the console, built from the node config's `console:` section (`configure`).

Django is configured in code (`settings.configure`) rather than from a settings module, so the config file stays
the one place an installer writes. What matters for security is all here: HTTPS-only cookies with SameSite=Strict,
HSTS, X-Frame-Options DENY, a Content-Security-Policy without inline script, CSRF on every POST, a session that
ends after `session_idle_minutes` without a request and `session_max_hours` after login, django-axes locking a
user name + address pair after `login_failures` failures, and nothing but the login page without a session.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from edge.config import NodeConfig
from edge.i18n import DEFAULT_LANGUAGE, LANGUAGES, compile_catalogues

PACKAGE = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE / "templates"
STATIC_DIR = PACKAGE / "static"
SESSION_STARTED = "edge_console_login_at"
"""Session key holding when the session's user logged in (seconds since the epoch), for the absolute limit."""


def secret_key(state_dir: Path) -> str:
    """The key Django signs sessions and CSRF tokens with: made once, kept in the state folder (mode 0600)."""
    path = state_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


def build(config: NodeConfig, *, debug: bool = False) -> dict[str, Any]:
    """Every Django setting of a console run from `config` (which has a console section)."""
    console = config.console
    assert console is not None
    state = console.state_dir
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    locale = compile_catalogues(state / "locale")
    hosts = {console.listen, "localhost", "127.0.0.1", "[::1]", *console.allowed_hosts} - {"0.0.0.0", "::"}
    return {
        "DEBUG": debug,
        "SECRET_KEY": secret_key(state),
        "ALLOWED_HOSTS": sorted(hosts),
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "axes",
            "edge.console.apps.ConsoleConfig",
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "csp.middleware.CSPMiddleware",
            "edge.console.middleware.SessionMiddleware",
            "edge.console.middleware.LanguageMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "edge.console.middleware.SessionLimitMiddleware",
            "django.contrib.auth.middleware.LoginRequiredMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "axes.middleware.AxesMiddleware",
        ],
        "ROOT_URLCONF": "edge.console.urls",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.jinja2.Jinja2",
                "DIRS": [str(TEMPLATES_DIR)],
                "APP_DIRS": False,
                "OPTIONS": {
                    "environment": "edge.console.jinja.environment",
                    "extensions": ["jinja2.ext.i18n"],
                    "trim_blocks": True,
                    "lstrip_blocks": True,
                },
            }
        ],
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(state / "console.sqlite3"),
                # One writer at a time, taken at BEGIN: threads of the server never deadlock upgrading a read lock.
                "OPTIONS": {
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 20,
                },
            }
        },
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "AUTH_USER_MODEL": "console.StaffUser",
        "AUTHENTICATION_BACKENDS": [
            "axes.backends.AxesStandaloneBackend",
            "django.contrib.auth.backends.ModelBackend",
        ],
        "AUTH_PASSWORD_VALIDATORS": [
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
            {
                "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
                "OPTIONS": {"min_length": 10},
            },
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
        ],
        "LOGIN_URL": "login",
        "LOGIN_REDIRECT_URL": "home",
        "LOGOUT_REDIRECT_URL": "login",
        # Sessions: idle limit renewed on every request; the absolute limit is SessionLimitMiddleware's.
        "SESSION_ENGINE": "django.contrib.sessions.backends.db",
        "SESSION_COOKIE_AGE": console.session_idle_minutes * 60,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "SESSION_COOKIE_NAME": "edge_console_session",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "EDGE_SESSION_MAX_AGE": console.session_max_hours * 3600,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Strict",
        "CSRF_FAILURE_VIEW": "edge.console.views.errors.csrf_failure",
        "SECURE_HSTS_SECONDS": 365 * 86400,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "CONTENT_SECURITY_POLICY": {
            "DIRECTIVES": {
                "default-src": ["'none'"],
                "script-src": ["'self'"],
                "style-src": ["'self'"],
                "img-src": ["'self'", "data:"],
                "connect-src": ["'self'"],
                "font-src": ["'self'"],
                "form-action": ["'self'"],
                "frame-ancestors": ["'none'"],
                "base-uri": ["'none'"],
            }
        },
        # Login attempts: a user name + address pair is locked after N failures, for lockout_minutes.
        "AXES_FAILURE_LIMIT": console.login_failures,
        "AXES_COOLOFF_TIME": dt.timedelta(minutes=console.lockout_minutes),
        "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"]],
        "AXES_RESET_ON_SUCCESS": True,
        "AXES_LOCKOUT_CALLABLE": "edge.console.views.auth.locked_out",
        "AXES_VERBOSE": True,
        # Languages: French unless staff choose English (the browser's preference is not followed).
        "LANGUAGE_CODE": DEFAULT_LANGUAGE,
        "LANGUAGES": list(LANGUAGES.items()),
        "LANGUAGE_COOKIE_NAME": "edge_console_language",
        "LANGUAGE_COOKIE_SECURE": True,
        "LANGUAGE_COOKIE_SAMESITE": "Strict",
        "LOCALE_PATHS": [str(locale)],
        "USE_I18N": True,
        "USE_TZ": True,
        "TIME_ZONE": config.timezone,
        "STATIC_URL": "/static/",
        "STATIC_ROOT": str(STATIC_DIR),
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 10 * 1024 * 1024,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": 10 * 1024 * 1024,
        "LOGGING_CONFIG": None,  # edge's logging (stderr for the journal) is set up by the server
    }


def configure(config: NodeConfig, *, debug: bool = False) -> None:
    """Configure Django for this process (once) and load its applications."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(**build(config, debug=debug))
    django.setup()
