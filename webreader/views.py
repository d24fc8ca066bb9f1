"""Routes. page_or_fragment() is the one place that chooses a full page or an htmx fragment."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    url_for,
)
from htmx_flask import request
from werkzeug.exceptions import HTTPException

from webreader import articles, preferences
from webreader.db import get_db
from webreader.text import count_words, long_date, reading_minutes

bp = Blueprint("reader", __name__)

SITE_NAME = "webreader"
# Caches must keep the full page and the fragment of one URL apart.
VARY = ("HX-Request", "HX-History-Restore-Request")


def wants_fragment() -> bool:
    """htmx swaps want the fragment; a history restore after a cache miss wants the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def current_show() -> str:
    """Which headlines the sidebar lists: all, unread or starred (?show=...)."""
    show = request.args.get("show", "all")
    return show if show in articles.SHOW else "all"


def page_or_fragment(
    fragment: str, *, title: str, status: int = 200, sidebar: bool = True, **context: Any
) -> Response:
    """The fragment alone for htmx (with out-of-band updates), else the full page."""
    context.setdefault("article", None)
    page_title = title if title == SITE_NAME else f"{title} · {SITE_NAME}"
    if wants_fragment():
        body = render_template(fragment, page_title=page_title, as_fragment=True, **context)
    else:
        if sidebar:
            db = get_db()
            keep = context["article"]["id"] if context["article"] else None
            context["headlines"] = articles.list_headlines(db, current_show(), keep)
            context.setdefault("unread_count", articles.count_unread(db))
        body = render_template(
            "index.html", fragment=fragment, page_title=page_title, as_fragment=False, **context
        )
    response = make_response(body, status)
    response.vary.update(VARY)
    return response


def article_url(article: dict[str, Any], **params: Any) -> str:
    show = current_show()
    if show != "all":
        params.setdefault("show", show)
    return url_for("reader.article", article_id=article["id"], slug=article["slug"], **params)


def show_url(show: str) -> str:
    return url_for("reader.index", show=None if show == "all" else show)


@bp.app_context_processor
def _template_context() -> dict[str, Any]:
    return {
        "article_url": article_url,
        "show_url": show_url,
        "show": current_show(),
        "prefs": g.get("prefs") or preferences.DEFAULTS,
        "preference_choices": preferences.CHOICES,
        "preference_labels": preferences.LABELS,
    }


@bp.app_template_filter("long_date")
def _long_date(iso_date: str, lang: str | None = None) -> str:
    return long_date(iso_date, lang)


@bp.before_app_request
def _load_preferences() -> None:
    g.prefs = preferences.from_cookie(request.cookies.get(preferences.COOKIE))


def _show_article(article: dict[str, Any], *, mark_read: bool) -> Response:
    db = get_db()
    if mark_read and article["read_at"] is None:
        articles.set_read(db, article["id"], True)
        article = articles.get_article(db, article["id"])
    words = count_words(article["text"])
    return page_or_fragment(
        "_article.html",
        title=article["title"],
        article=article,
        word_count=words,
        reading_minutes=reading_minutes(words),
        neighbours=articles.get_neighbours(db, article["id"], current_show()),
        headline=articles.get_headline(db, article["id"]),
        unread_count=articles.count_unread(db),
    )


def _get_or_404(article_id: int) -> dict[str, Any]:
    found = articles.get_article(get_db(), article_id)
    if found is None:
        abort(404, description="There is no article at this address. It may have been removed.")
    return found


@bp.get("/")
def index() -> Response:
    article = articles.get_newest_article(get_db(), current_show())
    if article is None:
        return page_or_fragment(
            "_empty.html",
            title=SITE_NAME,
            database_name=Path(current_app.config["DATABASE"]).name,
        )
    return _show_article(article, mark_read=True)


@bp.get("/articles/<int:article_id>")
@bp.get("/articles/<int:article_id>/<slug>")
def article(article_id: int, slug: str | None = None) -> Response:
    # Opening an article reads it, unless the reader just asked to keep it unread.
    return _show_article(_get_or_404(article_id), mark_read="keep_unread" not in request.args)


def _form_flag(name: str) -> bool:
    value = request.form.get(name)
    if value not in ("0", "1"):
        abort(400, description=f"The form must send {name}=1 or {name}=0.")
    return value == "1"


def _after_change(article_id: int, **params: Any) -> Response:
    """htmx gets the article again (with its headline out of band); a plain form, a redirect."""
    found = _get_or_404(article_id)
    if wants_fragment():
        return _show_article(found, mark_read=False)
    return redirect(article_url(found, **params), code=303)


@bp.post("/articles/<int:article_id>/read")
def mark_read(article_id: int) -> Response:
    read = _form_flag("read")
    articles.set_read(get_db(), _get_or_404(article_id)["id"], read)
    return _after_change(article_id, **({} if read else {"keep_unread": 1}))


@bp.post("/articles/<int:article_id>/star")
def star(article_id: int) -> Response:
    starred = _form_flag("starred")
    articles.set_starred(get_db(), _get_or_404(article_id)["id"], starred)
    return _after_change(article_id)


def _local_url(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or "\\" in target:
        return url_for("reader.index")
    return target


@bp.post("/settings")
def settings() -> Response:
    prefs = preferences.parse(request.form)
    response = (
        make_response("", 204)
        if request.htmx
        else redirect(_local_url(request.form.get("next")), 303)
    )
    response.set_cookie(
        preferences.COOKIE,
        preferences.to_cookie(prefs),
        max_age=preferences.COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """Errors as a page, or as a fragment in place of the article for htmx."""
    code = error.code or 500
    response = page_or_fragment(
        "_error.html",
        title=f"{code} {error.name}",
        status=code,
        # A server error may come from the database: don't query it again.
        sidebar=code < 500,
        error=error,
    )
    if isinstance(getattr(error, "valid_methods", None), list | tuple | set):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response
