"""Static files under URLs that carry a hash of their content (style.css?v=3f2a...), so that
browsers and proxies may keep them for a year: a changed file gets a new URL.

The hashes are taken once, at start-up, of the files static/ holds: a fixed map that
requests cannot grow. A static path that is not one of those names exactly
(`/static/./app.js`, `/static/x/../app.js`) is a 404."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, abort, current_app, request, url_for

ONE_YEAR = 365 * 24 * 3600


def _digests(folder: str) -> dict[str, str]:
    root = Path(folder)
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def asset_url(filename: str) -> str:
    digest = current_app.extensions["webreader_assets"][filename]
    return url_for("static", filename=filename, v=digest)


def _only_known_files() -> None:
    if request.endpoint == "static":
        filename = (request.view_args or {}).get("filename", "")
        if filename not in current_app.extensions["webreader_assets"]:
            abort(404, description="There is no such file.")


def _long_cache(response: Response) -> Response:
    """A static file asked for by its current hash never changes: cache it for a year."""
    if request.endpoint == "static" and response.status_code == 200:
        filename = (request.view_args or {}).get("filename", "")
        current = current_app.extensions["webreader_assets"].get(filename)
        if current is not None and request.args.get("v") == current:
            response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


def init_app(app: Flask) -> None:
    app.extensions["webreader_assets"] = _digests(app.static_folder or "")
    app.add_template_global(asset_url)
    app.before_request(_only_known_files)
    app.after_request(_long_cache)
