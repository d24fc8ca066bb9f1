"""Changes: the POST routes that change the library (read marks, stars, boilerplate put
back, Add, Delete) and the reader's preferences cookie. Each answers htmx with the fragment
to swap and a plain form with a redirect (303), on the reader blueprint of reading.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, make_response, redirect, url_for
from htmx_flask import request

from webreader import articles, auth, preferences
from webreader.db import get_db
from webreader.reading import (
    article_url,
    bp,
    current_filters,
    get_or_404,
    listing_url,
    show_article,
    wants_fragment,
)


def _form_flag(name: str) -> bool:
    value = request.form.get(name)
    if value not in ("0", "1"):
        abort(400, description=f"The form must send {name}=1 or {name}=0.")
    return value == "1"


def _after_change(article_id: int, **params: Any) -> Response:
    """htmx gets the article again (with its headline out of band); a plain form, a redirect."""
    found = get_or_404(article_id)
    if wants_fragment():
        return show_article(article_id, mark_read=False)
    return redirect(article_url(found, **params), code=303)


@bp.post("/articles/<int:article_id>/read")
def mark_read(article_id: int) -> Response:
    read = _form_flag("read")
    articles.set_read(get_db(), get_or_404(article_id)["id"], read)
    return _after_change(article_id, **({} if read else {"keep_unread": 1}))


@bp.post("/articles/<int:article_id>/boilerplate")
def keep_boilerplate(article_id: int) -> Response:
    """Puts the paragraphs set aside as boilerplate back into one article (or sets them
    aside again)."""
    kept = _form_flag("kept")
    articles.set_boilerplate_kept(get_db(), get_or_404(article_id)["id"], kept)
    return _after_change(article_id)


@bp.post("/articles/<int:article_id>/star")
def star(article_id: int) -> Response:
    starred = _form_flag("starred")
    articles.set_starred(get_db(), get_or_404(article_id)["id"], starred)
    return _after_change(article_id)


@bp.post("/articles/<int:article_id>/delete")
def delete(article_id: int) -> Response:
    """Deletes an article, then shows the one after it in the list (or before it)."""
    db = get_db()
    found = get_or_404(article_id)
    neighbours = articles.get_neighbours(db, found, current_filters())
    articles.delete_article(db, article_id)
    following = neighbours["next"] or neighbours["prev"]
    target = article_url(following) if following else listing_url("reader.index")
    if request.htmx:  # a full load: the sidebar must lose the headline too
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


@bp.post("/settings")
def settings() -> Response:
    prefs = preferences.parse(request.form)
    if request.htmx:
        response = make_response("", 204)
    else:
        response = redirect(auth.local_path(request.form.get("next")), 303)
    response.set_cookie(
        preferences.COOKIE,
        preferences.to_cookie(prefs),
        max_age=preferences.COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


@bp.post("/add")
def add() -> Response:
    """The Add form: a URL or a file, imported like `webreader import` would, then shown."""
    from webreader.importers import pipeline  # extractors and fetching: loaded when needed

    db = get_db()
    url = (request.form.get("url") or "").strip()
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        result = pipeline.import_upload(db, upload.filename, upload.read(), import_rules())
    elif url:
        # On a server others reach, the Add form fetches nothing of the server's network.
        public = current_app.config["LOGIN_REQUIRED"]
        result = pipeline.import_url(db, url, import_rules(), public_only=public)
    else:
        abort(400, description="Give the address of a page or feed, or choose a file to add.")
    if result.status == "failed":
        abort(400, description=f"Could not add {result.path}: {result.error}.")
    if result.article_id is None:  # a feed or an export: many articles, show the newest
        return redirect(url_for("reader.index"), code=303)
    return redirect(article_url(articles.get_headline(db, result.article_id)), code=303)


def import_rules():
    from webreader.importers.textdump import load_rules

    extra = current_app.config.get("RULES")
    return load_rules(*([Path(extra)] if extra else []))
