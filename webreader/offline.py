"""Reading offline: an installable web app whose service worker keeps the newest unread
articles, the page and its files in the browser (static/sw.js does the keeping).

The server's part: the web app manifest (its scope and start follow --url-prefix), the
worker's script at the root of the scope, the list of articles to keep (the newest unread,
with the library's generation), and the panel shown for an article that was not kept.
A request the worker makes to keep a page (X-Webreader-Save) is passive: it leaves no read
mark (origins.is_passive), so keeping an article is not reading it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Response, current_app, jsonify, render_template, request, session, url_for

from webreader import articles, auth, security
from webreader.assets import asset_url
from webreader.db import get_db
from webreader.reading import article_url, bp

DEFAULT_SAVED = 100  # articles kept for offline reading
MAX_SAVED = 500
THEME = "#8a3b12"  # the icon's colour
BACKGROUND = "#fbfaf7"


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    root = url_for("reader.index")
    body = {
        "id": root,
        "name": "webreader",
        "short_name": "webreader",
        "description": "A calm, fast reader for news articles.",
        "start_url": root,
        "scope": root,
        "display": "standalone",
        "background_color": BACKGROUND,
        "theme_color": THEME,
        "icons": [
            {"src": asset_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": asset_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": asset_url("icons/maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """The worker's script, at the root of the scope it controls (under --url-prefix too),
    always checked for a newer copy."""
    script = Path(current_app.static_folder or "", "sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = url_for("reader.index")
    response.headers["Content-Security-Policy"] = security.WORKER_CONTENT_SECURITY_POLICY
    return response


@bp.get("/offline/articles")
def saved_articles() -> Response:
    """The articles the worker keeps: the newest unread (?limit, 100 by default), and the
    library's generation (a change means stale copies)."""
    try:
        limit = min(max(int(request.args.get("limit", DEFAULT_SAVED)), 1), MAX_SAVED)
    except ValueError:
        limit = DEFAULT_SAVED
    db = get_db()
    rows = articles.list_unread_versions(db, limit)
    response = jsonify(
        generation=articles.get_generation(db),
        # Its version: a copy of an older one is fetched again (the generation moves on
        # with every read mark, which changes no article's page worth fetching again).
        articles=[
            {"id": row["id"], "url": article_url(row), "version": row["updated_at"]} for row in rows
        ],
        not_saved=url_for("reader.not_saved"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offline/not-saved")
def not_saved() -> Response:
    """The panel the worker shows, offline, for an article it did not keep."""
    return Response(render_template("_not_saved.html"), mimetype="text/html")


VIEWER_HEADER = "X-Webreader-Viewer"


@bp.after_app_request
def _name_the_viewer(response: Response) -> Response:
    """Says on every page whose it is (a login's, or any visitor's), so that the worker
    drops what it kept for another viewer: a login that ended elsewhere (logged out on
    another device, expired, a new password) leaves nothing of it readable here."""
    if response.mimetype == "text/html" and request.blueprint not in auth.API_BLUEPRINTS:
        token = session.get("admin") if auth.is_admin() else None
        viewer = hashlib.sha256(token.encode()).hexdigest()[:16] if token else "visitor"
        response.headers[VIEWER_HEADER] = viewer
    return response
