"""webreader: a calm, fast, self-hosted reader for news articles in one SQLite file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

__version__ = "0.1.0"

_PACKAGE = Path(__file__).resolve().parent

csrf = CSRFProtect()
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
        db,
        security,
        sessions,
        views,
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
        TRUST_PROXY=0,  # how many proxies' X-Forwarded-* headers to believe
        SESSION_COOKIE_SAMESITE="Lax",
        # The admin's login lasts 30 days from logging in. Refreshing it on every request
        # would put a Set-Cookie on every response, static files included, and no cache
        # (webreader's own or a proxy's) keeps a response that sets a cookie.
        PERMANENT_SESSION_LIFETIME=30 * 24 * 3600,
        SESSION_REFRESH_EACH_REQUEST=False,
        # Uploads through the Add form; a larger request gets 413.
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        BOILERPLATE_THRESHOLD=boilerplate.DEFAULT_THRESHOLD,
        # The token is tied to the session cookie, so it lives as long as the browser session.
        WTF_CSRF_TIME_LIMIT=None,
        # Over HTTPS Flask-WTF also wants a Referer from this host, but every page says
        # Referrer-Policy: no-referrer, so browsers send none and every POST would fail.
        # The token (tied to the HttpOnly, SameSite=Lax session cookie) is the protection.
        WTF_CSRF_SSL_STRICT=False,
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
    csrf.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    app.register_blueprint(views.bp)
    _wrap(app)
    return app


def normalize_prefix(prefix: str | None) -> str:
    """'reader/' and '/reader' both mean '/reader'; '' and '/' mean none."""
    prefix = (prefix or "").strip().strip("/")
    return f"/{prefix}" if prefix else ""


def _wrap(app: Flask) -> None:
    """The WSGI layers around Flask, outermost first: proxy headers (only when trusted),
    the access log, the URL prefix, the response cache."""
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.middleware.proxy_fix import ProxyFix

    from webreader import access_log, response_cache

    wsgi = response_cache.ResponseCache(app.wsgi_app, app.config["DATABASE"])
    if app.config["URL_PREFIX"]:
        wsgi = DispatcherMiddleware(NotFound(), {app.config["URL_PREFIX"]: wsgi})
    wsgi = access_log.AccessLog(wsgi)
    proxies = int(app.config["TRUST_PROXY"] or 0)
    if proxies:
        wsgi = ProxyFix(wsgi, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
