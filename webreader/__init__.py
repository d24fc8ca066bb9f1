"""webreader: a calm, fast, self-hosted reader for news articles in one SQLite file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_compress import Compress
from htmx_flask import Htmx

__version__ = "0.1.0"

_PACKAGE = Path(__file__).resolve().parent

compress = Compress()


def _asset_dir(name: str) -> str:
    """templates/ and static/ sit inside the installed package, or beside it in a checkout."""
    installed = _PACKAGE / name
    return str(installed if installed.is_dir() else _PACKAGE.parent / name)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application: defaults, then WEBREADER_* environment variables, then test_config.

    Changing the library needs the admin login by default (LOGIN_REQUIRED): a server of
    unknown address is assumed public. `webreader serve` lifts it on loopback."""
    from webreader import (
        assets,
        auth,
        boilerplate,
        caching,
        db,
        origins,
        reading,
        security,
        sessions,
    )

    app = Flask(
        __name__,
        template_folder=_asset_dir("templates"),
        static_folder=_asset_dir("static"),
    )
    app.config.from_mapping(
        DATABASE=os.environ.get("WEBREADER_DB", db.DEFAULT_DB),
        LOGIN_REQUIRED=True,
        PRIVATE=False,  # True: reading needs the login too
        READ_ONLY=False,  # True: nothing can be changed, logged in or not
        URL_PREFIX="",  # "/reader": served under that path (behind a proxy)
        TRUST_PROXY=0,  # how many proxies' X-Forwarded-For/-Proto/-Host headers to believe
        # Host names answered besides IP addresses and localhost ("reader.example.org",
        # ".example.org" for it and its subdomains); a list, or a comma-separated string.
        ALLOWED_HOSTS=[],
        SESSION_COOKIE_SAMESITE="Lax",
        # The admin's login lasts 30 days from logging in. Refreshing it on every request
        # would put a Set-Cookie on every response, static files included, and no cache
        # (webreader's own or a proxy's) keeps a response that sets a cookie.
        PERMANENT_SESSION_LIFETIME=30 * 24 * 3600,
        SESSION_REFRESH_EACH_REQUEST=False,
        # Uploads through the Add form; a larger request gets 413.
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        BOILERPLATE_THRESHOLD=boilerplate.DEFAULT_THRESHOLD,
        # HTML, CSS, JS and SVG; brotli or gzip, whichever the browser takes (both ship with
        # Flask-Compress; zstd would need another package to decode on some systems).
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "image/svg+xml"],
    )
    app.config.from_prefixed_env("WEBREADER")
    if test_config:
        app.config.from_mapping(test_config)
    app.config["DATABASE"] = str(Path(app.config["DATABASE"]).resolve())
    prefix = normalize_prefix(app.config["URL_PREFIX"])
    app.config["URL_PREFIX"] = prefix
    if prefix:
        app.config["APPLICATION_ROOT"] = prefix  # the session cookie's path

    compress.init_app(app)  # first registered, so it runs after the other response hooks
    Htmx(app)
    sessions.init_app(app)
    db.init_app(app)  # also provides SECRET_KEY when none is configured
    origins.init_app(app)
    auth.init_app(app)
    caching.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    reading.init_app(app)  # the routes (library.py's too) and the app-wide hooks
    _wrap(app)
    return app


def normalize_prefix(prefix: str | None) -> str:
    """'reader/' and '/reader' both mean '/reader'; '' and '/' mean none."""
    prefix = (prefix or "").strip().strip("/")
    return f"/{prefix}" if prefix else ""


def _wrap(app: Flask) -> None:
    """The WSGI layers around Flask, outermost first: proxy headers (only when trusted),
    the access log, the URL prefix, the response cache.

    X-Forwarded-Prefix is never believed: a client could send one through a proxy that
    passes it on, and every link would point elsewhere. The prefix is configured."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.middleware.proxy_fix import ProxyFix

    from webreader import access_log, caching, security

    wsgi = caching.ResponseCache(app, app.wsgi_app)
    if app.config["URL_PREFIX"]:
        wsgi = DispatcherMiddleware(security.not_found, {app.config["URL_PREFIX"]: wsgi})
    wsgi = access_log.AccessLog(wsgi)
    proxies = int(app.config["TRUST_PROXY"] or 0)
    if proxies:
        wsgi = ProxyFix(wsgi, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=0)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
