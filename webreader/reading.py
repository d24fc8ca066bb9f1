"""Reading: the GET routes, pages and fragments. page_or_fragment() is the one place that
chooses a full page or an htmx fragment; library.py holds the POST routes that change the
library, on the same blueprint."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
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
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from webreader import articles, auth, boilerplate, caching, origins, preferences, search
from webreader.db import get_db
from webreader.text import count_words, long_date, reading_minutes

bp = Blueprint("reader", __name__)

SITE_NAME = "webreader"
# Caches must keep the full page and the fragment of one URL apart.
VARY = ("HX-Request", "HX-History-Restore-Request")
# URL parameters that say what the sidebar lists; links keep them.
LISTING_PARAMS = ("q", "show", "source", "from", "to")


# ---- what the request asks for ----------------------------------------------------------


def _iso_date(value: str | None) -> str | None:
    try:
        return dt.date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        return None  # a malformed date filters nothing rather than failing


def current_filters() -> articles.Filters:
    """The sidebar's filters from the URL (?show=unread&source=PRO+TV&from=2024-11-01)."""
    args = request.args
    show = args.get("show", "all")
    return articles.Filters(
        show=show if show in articles.SHOWS else "all",
        source=args.get("source") or None,
        date_from=_iso_date(args.get("from")),
        date_to=_iso_date(args.get("to")),
    )


def current_query() -> search.Query | None:
    """?q= parsed, the word being typed completed from the index's words (once a request)."""
    if "query" not in g:
        query = search.parse_query(request.args.get("q", ""))
        g.query = None if query is None else articles.complete(get_db(), query)
    return g.query


def listing_args(**changes: Any) -> dict[str, str]:
    """The listing parameters of this request (those set), with changes applied."""
    if "listing_args" not in g:  # asked for by every headline's link: read the URL once
        g.listing_args = {k: v for k in LISTING_PARAMS if (v := request.args.get(k))}
    args = {**g.listing_args, **changes}
    return {k: v for k, v in args.items() if v not in (None, "", "all")}


def wants_fragment() -> bool:
    """htmx swaps want the fragment; a history restore after a cache miss wants the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


# ---- rendering ------------------------------------------------------------------------------


def article_url(article: articles.Article, **params: Any) -> str:
    return url_for(
        "reader.article",
        article_id=article["id"],
        slug=article["slug"],
        **listing_args(**params),
    )


def listing_url(endpoint: str = "reader.index", **changes: Any) -> str:
    return url_for(endpoint, **listing_args(**changes))


def _template_context() -> dict[str, Any]:
    filters = current_filters()
    return {
        "article_url": article_url,
        "listing_url": listing_url,
        "render_headline": render_headline,
        "filters": filters,
        "show": filters.show,
        "q": request.args.get("q", ""),
        "prefs": g.get("prefs") or preferences.DEFAULTS,
        "preference_choices": preferences.CHOICES,
        "preference_labels": preferences.LABELS,
    }


def render_headline(row: articles.Article, oob: bool = False) -> Markup:
    """A headline of the sidebar. Its HTML depends on its row, the link's parameters and the
    script root alone, so it is kept under those: after a read mark, a list of 50 headlines
    re-renders the one that changed (rendering all cost 4 ms)."""
    key = (tuple(row.items()), oob, request.script_root, tuple(sorted(listing_args().items())))

    def render() -> str:
        # The template alone: render_template() would run the context processors each time.
        template = current_app.jinja_env.get_template("_headline.html")
        return template.render(headline=row, oob=oob, article_url=article_url)

    return Markup(caching.kept("headline", key, render))


def _long_date(iso_date: str, lang: str | None = None) -> str:
    return long_date(iso_date, lang)


def _load_preferences() -> None:
    g.prefs = preferences.from_cookie(request.cookies.get(preferences.COOKIE))


def render_listing(
    current: articles.Article | None = None, after: int | None = None, more_only: bool = False
) -> Markup:
    """The sidebar's list: search results for ?q=, else a page of headlines, with the
    article on screen marked. Headlines start after ?after=, or where `current` is in view."""
    db = get_db()
    after = after if after is not None else _after_key(strict=False)
    filters = current_filters()
    query = current_query()
    keep = current["id"] if current and filters.show != "all" else None
    if after is None and current is not None and query is None:
        after = articles.find_page_start(db, current, filters, keep)
    parts = (tuple(sorted(listing_args().items())), keep, after, more_only)

    def render() -> bytes:
        context: dict[str, Any] = {"after": after, "more_only": more_only}
        if query is not None:
            results, matched = articles.search_articles(db, query.fts, filters)
            context.update(
                results=[_result(row, query) for row in results],
                matched=matched,
                capped=matched >= articles.SEARCH_CANDIDATES,
                query=query,
            )
        else:
            headlines = articles.list_headlines(db, filters, keep=keep, after=after)
            total = articles.count_headlines(db, filters, keep)
            # Under a date range the count stops past COUNT_CAP; other counts are exact.
            capped = bool(filters.date_from or filters.date_to) and total > articles.COUNT_CAP
            context.update(
                headlines=headlines,
                # The live offer (live.py) listens from the newest row, under these filters.
                newest=articles.newest_id(db),
                total=articles.COUNT_CAP if capped else total,
                capped=capped,
                next_after=headlines[-1]["sort_key"]
                if len(headlines) == articles.HEADLINES_PER_PAGE
                else None,
            )
        return render_template("_listing.html", **context).encode()

    html = caching.rendered("listing", parts, render).decode()
    if current is not None:
        # The rule for the current headline, as the page first shows it (with or without
        # JavaScript): the headline of the article on screen has aria-current. The cached list
        # is shared by every article, so the mark is set here; after an in-place swap the
        # sidebar is not sent again and app.js (markCurrent) moves the mark by the same rule.
        marker = f'data-article-id="{current["id"]}"'
        html = html.replace(marker, f'{marker} aria-current="page"', 1)
    return Markup(html)


def _result(row: dict[str, Any], query: search.Query) -> dict[str, Any]:
    return {
        **row,
        "title_marked": search.highlight(row["title"], query, row["lang"]),
        "snippet": search.snippet(row["text"] or row["summary"] or "", query, row["lang"]),
    }


def page_or_fragment(
    fragment: str,
    *,
    title: str | None = None,
    status: int = 200,
    sidebar: bool = True,
    cache: bool = False,
    **context: Any,
) -> Response:
    """The fragment alone for htmx (with out-of-band updates), else the full page.

    cache=True: the response depends on nothing but its URL and caching.dependencies(),
    so the response cache may replay it."""
    context.setdefault("article", None)
    page_title = context.pop("title", None) or title or SITE_NAME
    if page_title != SITE_NAME:
        page_title = f"{page_title} · {SITE_NAME}"
    if wants_fragment():
        html = render_template(fragment, page_title=page_title, as_fragment=True, **context)
    else:
        if sidebar:
            context["listing"] = render_listing(context["article"])
            context.setdefault("unread_count", articles.count_unread(get_db()))
            context["sources"] = caching.rendered(
                "sources", (), lambda: articles.list_sources(get_db())
            )
        html = render_template(
            "index.html", fragment=fragment, page_title=page_title, as_fragment=False, **context
        )
    if cache:
        caching.mark_cacheable()
    response = make_response(html, status)
    response.vary.update(VARY)
    return response


def show_article(article_id: int, *, mark_read: bool) -> Response:
    """An article as page or fragment; opening an unread one marks it read."""
    db = get_db()
    article = articles.get_article(db, article_id)
    if article is None:
        abort(404, description="There is no article at this address. It may have been removed.")
    # A visitor who may not change the library reads without leaving a mark, and so does
    # a request the reader did not make (another site's page, an <img> pointing here).
    unread = not article["read_at"]
    if mark_read and unread and auth.can_write() and not origins.request_is_passive():
        try:
            # The row as marked; or, when another request marked it first, as it is now.
            article = (
                articles.open_unread(db, article_id)
                or articles.get_article(db, article_id)
                or article
            )
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            # A long import holds the write lock: read now, unmarked, rather than fail.
            current_app.logger.warning("article %s not marked read: %s", article_id, exc)

    words = article["words"] if article["words"] is not None else count_words(article["text"])
    paragraphs = boilerplate.of_article(article["html"], article["paragraphs"])
    common = articles.list_common_paragraphs(
        db,
        article["source"],
        boilerplate.fingerprints(paragraphs),
        current_app.config["BOILERPLATE_THRESHOLD"],
    )
    body, set_aside = boilerplate.split(article["html"], paragraphs, common)
    if article["boilerplate_kept"]:
        body = article["html"]
    query = current_query()
    return page_or_fragment(
        "_article.html",
        cache=True,
        article=article,
        title=article["title"],
        body=search.highlight_html(body, query, article["lang"]),
        set_aside=[search.highlight_html(p, query, article["lang"]) for p in set_aside],
        word_count=words,
        reading_minutes=reading_minutes(words),
        neighbours=articles.get_neighbours(db, article, current_filters()),
        headline=articles.headline_of(article),
        unread_count=articles.count_unread(db),
    )


def get_or_404(article_id: int) -> articles.Article:
    found = articles.get_article(get_db(), article_id)
    if found is None:
        abort(404, description="There is no article at this address. It may have been removed.")
    return found


def _after_key(*, strict: bool = True) -> int | None:
    """?after= from a More link. Empty means none; anything else but a number is a 400 for
    the routes that page, and ignored where the list is only a sidebar (an error page
    must not fail on the URL that caused it)."""
    value = request.args.get("after", "")
    if not value:
        return None
    try:
        key = int(value)
        if not -(2**63) <= key < 2**63:  # what SQLite's integers hold
            raise ValueError(value)
        return key
    except ValueError:
        if strict:
            abort(400, description="The after= parameter must be a number from a More link.")
        return None


# ---- routes ---------------------------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    """The newest article of the (filtered) list; ?after= pages the sidebar without JavaScript."""
    _after_key()  # a malformed ?after= is a 400, said before anything else
    article = articles.get_newest_article(get_db(), current_filters())
    if article is None:
        return page_or_fragment(
            "_empty.html",
            title=SITE_NAME,
            database_name=Path(current_app.config["DATABASE"]).name,
        )
    return show_article(article["id"], mark_read=True)


@bp.get("/headlines")
def headlines() -> Response:
    """The next page of the sidebar, for htmx's infinite scroll (the More link otherwise)."""
    after = _after_key()
    if not wants_fragment():
        return redirect(listing_url("reader.index", after=after), code=303)
    response = make_response(render_listing(after=after, more_only=True))
    response.vary.update(VARY)
    return response


@bp.get("/search")
def search_page() -> Response:
    """Search results: the sidebar's list for htmx (as you type), else the full page with
    the best match open. An empty query lists headlines."""
    if wants_fragment():
        response = make_response(render_listing())
        response.vary.update(VARY)
        # The address bar gets the search without the form's empty fields.
        response.headers["HX-Push-Url"] = listing_url("reader.search_page")
        return response
    db = get_db()
    query = current_query()
    top = None
    if query is not None:
        results, _ = articles.search_articles(db, query.fts, current_filters(), limit=1)
        top = articles.get_article(db, results[0]["id"]) if results else None
    else:
        top = articles.get_newest_article(db, current_filters())
    if top is None:
        return page_or_fragment("_no_match.html", title=f"Search: {request.args.get('q', '')}")
    return show_article(top["id"], mark_read=True)


@bp.get("/articles/<int:article_id>")
@bp.get("/articles/<int:article_id>/<slug>")
def article(article_id: int, slug: str | None = None) -> Response:
    # Opening an article reads it, unless the reader just asked to keep it unread.
    return show_article(article_id, mark_read="keep_unread" not in request.args)


@bp.get("/healthz")
def healthz() -> Response:
    """For load balancers and monitors: 200 when the database answers, else 503."""
    try:
        articles.get_generation(get_db())
    except Exception:  # any database failure is "unhealthy", never a stack trace
        return make_response({"status": "unavailable", "database": "error"}, 503)
    return make_response({"status": "ok"}, 200)


def _conditional(response: Response) -> Response:
    """Pages carry an ETag; a browser that has this exact page gets 304 and no body. (For
    the paths the response cache handles, it answers 304 itself and Flask never sees the
    conditional headers.)"""
    if request.method == "GET" and response.status_code == 200 and response.mimetype == "text/html":
        # The admin's pages differ from a visitor's: no shared cache may keep them.
        response.headers.setdefault(
            "Cache-Control", "private, no-cache" if auth.is_admin() else "no-cache"
        )
        response.add_etag()
        if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            response.make_conditional(request)
    return response


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock (an import's transaction), by SQLite's own code."""
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")


def busy_database(exc: sqlite3.OperationalError) -> Response:
    """A change that waited its turn (busy_timeout) behind a long import and gave up."""
    if not is_busy(exc):
        current_app.logger.exception("database error", exc_info=exc)
        return http_error(InternalServerError())
    response = http_error(
        ServiceUnavailable(
            description="The library is busy saving an import. Try again in a moment: "
            "nothing was changed."
        )
    )
    response.headers["Retry-After"] = "5"
    return response


API_PATHS = ("/v1/", "/fever")


def http_error(error: HTTPException) -> Response:
    """Errors as a page, or as a fragment in place of the article for htmx."""
    code = error.code or 500
    if request.path.startswith(API_PATHS):  # no page for an app: its API's error shape
        from webreader import api

        return api.error_response(code, error)
    if code >= 500:
        g.is_admin = False  # the database may be what failed: ask it nothing more
    if g.get("refused_host"):  # nothing of the library, and no links for that name
        return Response(f"{code} {error.name}: {error.description}\n", code, mimetype="text/plain")
    response = page_or_fragment(
        "_error.html",
        title=f"{code} {error.name}",
        status=code,
        # The library only for a viewer allowed to read it, whichever check refused the
        # request; and a server error may come from the database: don't query it again.
        sidebar=code < 500 and auth.can_read(),
        error=error,
    )
    if isinstance(getattr(error, "valid_methods", None), list | tuple | set):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def init_app(app: Flask) -> None:
    """The reader's routes, and what every response of the app shares: the templates'
    context, the reading preferences, ETags, and errors as pages."""
    from webreader import (  # noqa: F401  (their routes join the blueprint)
        api,
        fever,
        keys_screen,
        library,
        live,
        offline,
        subscription_screen,
    )

    app.context_processor(_template_context)
    app.add_template_filter(_long_date, "long_date")
    app.before_request(_load_preferences)
    app.after_request(_conditional)
    app.register_error_handler(sqlite3.OperationalError, busy_database)
    app.register_error_handler(HTTPException, http_error)
    app.register_blueprint(bp)
    api.init_app(app)
    fever.init_app(app)
