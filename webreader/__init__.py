"""webreader: a calm, fast, self-hosted reader for news articles in one SQLite file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

__version__ = "0.1.0"

_PACKAGE = Path(__file__).resolve().parent

csrf = CSRFProtect()


def _asset_dir(name: str) -> str:
    """templates/ and static/ sit inside the installed package, or beside it in a checkout."""
    installed = _PACKAGE / name
    return str(installed if installed.is_dir() else _PACKAGE.parent / name)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application: defaults, then WEBREADER_* environment variables, then test_config."""
    from webreader import (
        access_log,
        assets,
        boilerplate,
        db,
        response_cache,
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
        SESSION_COOKIE_SAMESITE="Lax",
        # Uploads through the Add form; a larger request gets 413.
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        BOILERPLATE_THRESHOLD=boilerplate.DEFAULT_THRESHOLD,
        # The token is tied to the session cookie, so it lives as long as the browser session.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.from_prefixed_env("WEBREADER")
    if test_config:
        app.config.from_mapping(test_config)
    app.config["DATABASE"] = str(Path(app.config["DATABASE"]).resolve())

    Htmx(app)
    sessions.init_app(app)
    db.init_app(app)  # also provides SECRET_KEY when none is configured
    csrf.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    app.register_blueprint(views.bp)
    app.wsgi_app = access_log.AccessLog(  # type: ignore[method-assign]
        response_cache.ResponseCache(app.wsgi_app, app.config["DATABASE"])
    )
    return app
