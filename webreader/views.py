"""Routes. page_or_fragment() is the one place that chooses a full page or an htmx fragment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    url_for,
)
from htmx_flask import request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from webreader import articles
from webreader.db import get_db
from webreader.text import count_words

bp = Blueprint("reader", __name__)

SITE_NAME = "webreader"
# Caches must keep the full page and the fragment of one URL apart.
VARY = ("HX-Request", "HX-History-Restore-Request")


def wants_fragment() -> bool:
    """htmx swaps want the fragment; a history restore after a cache miss wants the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def page_or_fragment(
    fragment: str, *, title: str, status: int = 200, sidebar: bool = True, **context: Any
) -> Response:
    """The fragment alone (with a <title> htmx applies) for htmx, else the full page."""
    title = f"{title} · {SITE_NAME}" if title != SITE_NAME else title
    if wants_fragment():
        body = f"<title>{escape(title)}</title>\n" + render_template(fragment, **context)
    else:
        headlines = articles.list_headlines(get_db()) if sidebar else []
        body = render_template(
            "index.html", fragment=fragment, title=title, headlines=headlines, **context
        )
    response = make_response(body, status)
    response.vary.update(VARY)
    return response


def article_url(article: dict[str, Any]) -> str:
    return url_for("reader.article", article_id=article["id"], slug=article["slug"])


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"article_url": article_url}


def _show_article(article: dict[str, Any]) -> Response:
    return page_or_fragment(
        "_article.html",
        title=article["title"],
        article=article,
        word_count=count_words(article["text"]),
    )


@bp.get("/")
def index() -> Response:
    article = articles.get_newest_article(get_db())
    if article is None:
        database_name = Path(current_app.config["DATABASE"]).name
        return page_or_fragment("_empty.html", title=SITE_NAME, database_name=database_name)
    return _show_article(article)


@bp.get("/articles/<int:article_id>")
@bp.get("/articles/<int:article_id>/<slug>")
def article(article_id: int, slug: str | None = None) -> Response:
    found = articles.get_article(get_db(), article_id)
    if found is None:
        abort(404, description="There is no article at this address. It may have been removed.")
    return _show_article(found)


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
