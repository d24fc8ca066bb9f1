"""Static files under URLs that carry a hash of their content (style.css?v=3f2a...), so that
browsers and proxies may keep them for a year: a changed file gets a new URL."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request, url_for

ONE_YEAR = 365 * 24 * 3600


@functools.cache
def _digest(folder: str, filename: str) -> str:
    return hashlib.sha256((Path(folder) / filename).read_bytes()).hexdigest()[:16]


def asset_url(filename: str) -> str:
    return url_for("static", filename=filename, v=_digest(current_app.static_folder, filename))


def _long_cache(response: Response) -> Response:
    """A static file asked for by its current hash never changes: cache it for a year."""
    if request.endpoint == "static" and response.status_code == 200:
        filename = (request.view_args or {}).get("filename", "")
        try:
            current = _digest(current_app.static_folder, filename)
        except OSError:
            return response
        if request.args.get("v") == current:
            response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


def init_app(app: Flask) -> None:
    app.add_template_global(asset_url)
    app.after_request(_long_cache)
