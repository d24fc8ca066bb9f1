"""The Miniflux API (v1), the part a reader's apps use, so that people keep their apps.

webreader's model, mapped on purpose (README.md, "API"):
- a subscription is a feed; so is each other source (dumps, saved pages, feeds imported
  once): its articles are the feed's entries, and it is not refreshed;
- a subscription's folder is its category; "All" (id 1) holds the feeds without one;
- an article is an entry, and so is a teaser, whose content is its summary;
- read, starred and search mean what they mean in the page; an entry's content is the
  sanitized HTML the page shows (learned boilerplate set aside);
- the one user is the admin; users, enclosures, icons and integrations answer as Miniflux
  does when they are absent (404, or 403 for creating users), never with a 500.

Every call needs an API key (X-Auth-Token) or the admin password (HTTP Basic, user "admin"),
on every address, loopback included; a cookie never counts, so there is nothing to forge
from another site, and a request a browser says comes from another site is refused too.
A read-only library answers reads only. The SQL is in db.py and articles.py.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import sqlite3
import threading
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from webreader import __version__, articles, auth, boilerplate, origins, search
from webreader import db as queries
from webreader.db import get_db
from webreader.importers.base import InvalidInput
from webreader.library import import_rules
from webreader.text import reading_minutes

bp = Blueprint("api", __name__, url_prefix="/v1")
USER_ID = 1
MAX_LIMIT = 1000  # entries in one answer, whatever limit asks (0 means the default)
DEFAULT_LIMIT = 100
MAX_BODY = 1024 * 1024  # a JSON body; OPML imports take the app's upload limit
ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: what Miniflux sends for "never"
ID = f"int(max={articles.MAX_ID})"
_refreshing = threading.Lock()  # one background "refresh all" at a time


class APIError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> Response:
    response = jsonify(error_message=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="webreader"'
    return response


@bp.errorhandler(APIError)
def _api_error(error: APIError) -> Response:
    return _error(error.status, error.message)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return error_response(error.code or 500, error)


def error_response(code: int, error: HTTPException) -> Response:
    """An HTTP error under /v1/ as Miniflux words it: {"error_message": ...}."""
    messages = {404: "resource not found", 405: "method not allowed"}
    response = _error(code, messages.get(code) or error.description or error.name)
    if isinstance(getattr(error, "valid_methods", None), list | tuple | set):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


@bp.before_request
def _authenticate() -> Response | None:
    """A key or the password on every call; never a cookie; never from another site."""
    if origins.request_is_cross_site():
        return _error(403, "access forbidden: the API does not answer pages of other sites")
    db = get_db()
    token = request.headers.get("X-Auth-Token")
    if token:
        if auth.api_key_id(db, token) is None:
            return _error(401, "access unauthorized")
    else:
        credentials = request.authorization
        if credentials is None or credentials.type != "basic":
            return _error(401, "access unauthorized")
        password = credentials.password or ""
        if credentials.username != auth.API_USER or not auth.password_matches(db, password):
            return _error(401, "access unauthorized")
    if request.method not in ("GET", "HEAD") and current_app.config["READ_ONLY"]:
        return _error(403, "access forbidden: this library is read-only")
    return None


# ---- shapes ---------------------------------------------------------------------------------


def _time(seconds: float | None) -> str:
    if not seconds:
        return ZERO_TIME
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def _iso(value: str | None) -> str:
    """A stored date or time (ISO 8601) in RFC 3339, UTC when it names no zone."""
    if not value:
        return ZERO_TIME
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return ZERO_TIME
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat(timespec="seconds")


def _category_json(category: dict) -> dict[str, Any]:
    return {
        "id": category["id"],
        "title": category["title"],
        "user_id": USER_ID,
        "hide_globally": False,
    }


def feed_json(feed: dict) -> dict[str, Any]:
    subscription = feed["subscription_id"] is not None
    title = feed["title"] or feed["url"] if subscription else feed["source"] or "Other articles"
    return {
        "id": feed["id"],
        "user_id": USER_ID,
        "title": title,
        "site_url": feed["url"] or "" if subscription else "",
        "feed_url": feed["url"] or "" if subscription else "",
        "checked_at": _time(feed["checked_at"]),
        "next_check_at": _time(feed["next_check_at"]) if subscription else ZERO_TIME,
        "etag_header": feed["etag"] or "",
        "last_modified_header": feed["last_modified"] or "",
        "parsing_error_message": feed["error"] or "",
        "parsing_error_count": feed["failures"] or 0,
        "scraper_rules": "",
        "rewrite_rules": "",
        "urlrewrite_rules": "",
        "blocklist_rules": "",
        "keeplist_rules": "",
        "crawler": bool(feed["full_text"]),
        "user_agent": "",
        "cookie": "",
        "username": "",
        "password": "",
        # A source that is no subscription is never checked: to an app, a disabled feed.
        "disabled": bool(feed["paused"]) if subscription else True,
        "no_media_player": False,
        "ignore_http_cache": False,
        "allow_self_signed_certificates": False,
        "fetch_via_proxy": False,
        "hide_globally": False,
        "category": _category_json({"id": feed["category_id"], "title": feed["category_title"]}),
        "icon": None,
    }


def _content(db, entry: dict) -> str:
    """The HTML the page shows for an entry (see contents)."""
    return contents(db, [entry])[entry["id"]]


def contents(db, entries: list[dict]) -> dict[int, str]:
    """The HTML the page shows for each entry: an article's body with the boilerplate it
    sets aside left out (the paragraphs common in its source: one query for each source,
    not one for each entry); a teaser's summary, escaped."""
    shown: dict[int, str] = {}
    found: dict[int, list] = {}
    prints_by_source: dict[str, set[str]] = {}
    for entry in entries:
        if entry["kind"] == "teaser":
            summary = entry["summary"] or ""
            shown[entry["id"]] = f"<p>{html.escape(summary)}</p>" if summary else ""
        elif entry["boilerplate_kept"] or not entry["source"]:
            shown[entry["id"]] = entry["html"]
        else:
            found[entry["id"]] = boilerplate.of_article(entry["html"], entry["paragraphs"])
            prints = prints_by_source.setdefault(entry["source"], set())
            prints |= boilerplate.fingerprints(found[entry["id"]])
    threshold = current_app.config["BOILERPLATE_THRESHOLD"]
    common = {
        source: articles.list_common_paragraphs(db, source, prints, threshold)
        for source, prints in prints_by_source.items()
    }
    for entry in entries:
        if entry["id"] in found:
            paragraphs = found[entry["id"]]
            shown[entry["id"]] = boilerplate.split(
                entry["html"], paragraphs, common[entry["source"]]
            )[0]
    return shown


def _entry_json(
    db, entry: dict, feeds: dict[int, dict], content: str | None = None
) -> dict[str, Any]:
    words = entry["words"] or 0
    feed = feeds.get(entry["feed_id"])
    return {
        "id": entry["id"],
        "user_id": USER_ID,
        "feed_id": entry["feed_id"],
        "status": "unread" if entry["read_at"] is None else "read",
        "hash": entry["content_hash"],
        "title": entry["title"],
        "url": entry["url"] or "",
        "comments_url": "",
        "published_at": _iso(entry["published"] or entry["imported_at"]),
        "created_at": _iso(entry["imported_at"]),
        "changed_at": _iso(entry["updated_at"]),
        "content": _content(db, entry) if content is None else content,
        "author": entry["author"] or "",
        "share_code": "",
        "starred": entry["starred_at"] is not None,
        "reading_time": reading_minutes(words) if entry["kind"] == "article" else 0,
        "enclosures": [],
        "tags": [],
        "feed": feed_json(feed) if feed else None,
    }


def _feeds_by_id(db) -> dict[int, dict]:
    return {feed["id"]: feed for feed in queries.list_feeds(db)}


def _body() -> dict[str, Any]:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    if (request.content_length or 0) > MAX_BODY:
        raise APIError(413, "the request body is too large")
    try:
        body = json.loads(request.get_data(cache=False) or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise APIError(400, f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise APIError(400, "the body is not JSON webreader reads: nested too deep") from None
    if not isinstance(body, dict):
        raise APIError(400, "the body must be a JSON object")
    return body


def _int(value: Any, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise APIError(400, f"{name} must be a number")
    try:
        number = int(value)
    except ValueError:
        raise APIError(400, f"{name} must be a number") from None
    if number < minimum or number > articles.MAX_ID:
        raise APIError(400, f"{name} is out of range")
    return number


def _public_only() -> bool:
    return bool(current_app.config["LOGIN_REQUIRED"])


def _no_content() -> Response:
    return Response(status=204)


def _created(value: Any) -> Response:
    response = jsonify(value)
    response.status_code = 201
    return response


# ---- the user and the server ----------------------------------------------------------------


def _me() -> dict[str, Any]:
    return {
        "id": USER_ID,
        "username": auth.API_USER,
        "is_admin": True,
        "theme": "system_serif",
        "language": "en_US",
        "timezone": "UTC",
        "entry_sorting_direction": "desc",
        "entry_sorting_order": "published_at",
        "stylesheet": "",
        "custom_js": "",
        "google_id": "",
        "openid_connect_id": "",
        "entries_per_page": DEFAULT_LIMIT,
        "keyboard_shortcuts": True,
        "show_reading_time": True,
        "entry_swipe": True,
        "last_login_at": None,
    }


@bp.get("/me")
def me() -> Response:
    return jsonify(_me())


@bp.get("/version")
def version() -> Response:
    return jsonify(
        version=__version__,
        commit="",
        build_date="",
        go_version="",
        compiler="webreader",
        arch="",
        os="",
    )


@bp.get("/users")
def users() -> Response:
    return jsonify([_me()])


@bp.get(f"/users/<{ID}:user_id>")
def user_by_id(user_id: int) -> Response:
    if user_id != USER_ID:
        raise APIError(404, "resource not found")
    return jsonify(_me())


@bp.get("/users/<username>")
def user_by_name(username: str) -> Response:
    if username != auth.API_USER:
        raise APIError(404, "resource not found")
    return jsonify(_me())


@bp.route("/users", methods=["POST"])
@bp.route(f"/users/<{ID}:user_id>", methods=["PUT", "DELETE"])
def change_users(user_id: int | None = None) -> Response:
    raise APIError(403, "access forbidden: webreader has one user, the admin")


@bp.put(f"/users/<{ID}:user_id>/mark-all-as-read")
def mark_user_read(user_id: int) -> Response:
    if user_id != USER_ID:
        raise APIError(404, "resource not found")
    articles.mark_read_where(get_db(), "1", [])
    return _no_content()


@bp.get("/integrations/status")
@bp.get("/users/integrations/status")
def integrations() -> Response:
    return jsonify(has_integrations=False)


@bp.post(f"/entries/<{ID}:entry_id>/save")
def save_entry(entry_id: int) -> Response:
    raise APIError(400, "no third-party integration enabled")


@bp.route(f"/enclosures/<{ID}:enclosure_id>", methods=["GET", "PUT"])
@bp.get(f"/icons/<{ID}:enclosure_id>")
def enclosures(enclosure_id: int) -> Response:
    raise APIError(404, "resource not found")


@bp.route("/flush-history", methods=["PUT", "DELETE"])
def flush_history() -> Response:
    raise APIError(400, "webreader keeps what was read: delete articles in the page")


# ---- feeds ----------------------------------------------------------------------------------


def _feed(feed_id: int) -> dict:
    feed = queries.get_feed(get_db(), feed_id)
    if feed is None:
        raise APIError(404, "resource not found")
    return feed


def _subscription_of(feed: dict) -> int:
    if feed["subscription_id"] is None:
        raise APIError(
            400,
            "this feed holds the articles of a source, not a subscription: "
            "it is not fetched, and its articles are changed in the page",
        )
    return feed["subscription_id"]


def _category(category_id: int) -> dict:
    category = queries.get_category(get_db(), category_id)
    if category is None:
        raise APIError(404, "resource not found")
    return category


@bp.get("/feeds")
def get_feeds() -> Response:
    return jsonify([feed_json(feed) for feed in queries.list_feeds(get_db())])


@bp.get("/feeds/counters")
def counters() -> Response:
    db = get_db()
    counts = articles.count_by_feed(db, queries.list_feeds(db))
    return jsonify(
        reads={str(k): v for k, v in counts["reads"].items()},
        unreads={str(k): v for k, v in counts["unreads"].items()},
    )


@bp.get(f"/feeds/<{ID}:feed_id>")
def get_feed(feed_id: int) -> Response:
    return jsonify(feed_json(_feed(feed_id)))


@bp.post("/feeds")
def create_feed() -> Response:
    """Subscribes (the feed is read now, as `webreader subscribe` does)."""
    from webreader import subscriptions

    body = _body()
    url = body.get("feed_url")
    if not isinstance(url, str) or not url.strip():
        raise APIError(400, "the feed URL is required")
    category_id = _int(body.get("category_id") or queries.ALL_CATEGORY, "category_id", minimum=1)
    category = queries.get_category(get_db(), category_id)
    if category is None:
        raise APIError(400, "this category does not exist")
    try:
        checked = subscriptions.subscribe(
            get_db(),
            url,
            import_rules(),
            full_text=bool(body.get("crawler")),
            folder=None if category_id == queries.ALL_CATEGORY else category["title"],
            public_only=_public_only(),
        )
    except InvalidInput as exc:
        raise APIError(400, str(exc)) from None
    feed = queries.feed_of_subscription(get_db(), checked.subscription["id"])
    return _created({"feed_id": feed["id"]})


@bp.put(f"/feeds/<{ID}:feed_id>")
def update_feed(feed_id: int) -> Response:
    """Title, address, category, whole articles (crawler) and pause (disabled) of a
    subscription; a source's feed changes its category only."""
    from webreader.importers.web import check_url

    db = get_db()
    feed = _feed(feed_id)
    body = _body()
    changes: dict[str, Any] = {}  # everything checked first: a refusal changes nothing
    category_id = None
    if "category_id" in body:
        category_id = _int(body["category_id"], "category_id", minimum=1)
        if queries.get_category(db, category_id) is None:
            raise APIError(400, "this category does not exist")
    asked = {k for k in ("title", "feed_url", "crawler", "disabled") if k in body}
    subscription_id = _subscription_of(feed) if asked else None
    if "title" in body:
        if not isinstance(body["title"], str) or not body["title"].strip():
            raise APIError(400, "the title must be a non-empty string")
        changes["title"] = " ".join(body["title"].split())[:200]
    if "feed_url" in body:
        url = body["feed_url"]
        try:
            check_url(url if isinstance(url, str) else "")
        except InvalidInput as exc:
            raise APIError(400, f"the feed URL: {exc}") from None
        other = queries.find_subscription(db, url)
        if other is not None and other["id"] != subscription_id:
            raise APIError(400, "this feed already exists")
        changes |= {"url": url, "etag": None, "last_modified": None, "body_hash": None}
    if "crawler" in body:
        changes |= {"full_text": int(bool(body["crawler"])), "body_hash": None}
    if "disabled" in body:
        changes["paused"] = int(bool(body["disabled"]))
    if category_id is not None:
        queries.set_feed_category(db, feed_id, category_id)
    if changes:
        queries.update_subscription(db, subscription_id, changes)
    response = jsonify(feed_json(_feed(feed_id)))
    response.status_code = 201
    return response


@bp.delete(f"/feeds/<{ID}:feed_id>")
def remove_feed(feed_id: int) -> Response:
    """Unsubscribes; the feed's articles stay, in their source's feed."""
    queries.delete_subscription(get_db(), _subscription_of(_feed(feed_id)))
    return _no_content()


@bp.put(f"/feeds/<{ID}:feed_id>/refresh")
def refresh_feed(feed_id: int) -> Response:
    """Checks the feed now; while a pass holds the lease, the feed is made due instead."""
    from webreader import subscriptions

    subscription_id = _subscription_of(_feed(feed_id))
    try:
        subscriptions.refresh_one(
            get_db(), subscription_id, import_rules(), public_only=_public_only()
        )
    except subscriptions.Busy:
        queries.update_subscription(get_db(), subscription_id, {"next_check_at": time.time()})
    return _no_content()


@bp.put("/feeds/refresh")
def refresh_all() -> Response:
    """Every subscription checked, in the background (one such pass at a time)."""
    from webreader import subscriptions

    if _refreshing.acquire(blocking=False):
        path, rules, public_only = current_app.config["DATABASE"], import_rules(), _public_only()

        def run() -> None:
            db = queries.open_db(path)
            try:
                subscriptions.refresh(db, rules, everything=True, public_only=public_only)
            except Exception:  # logged; the API has answered already
                subscriptions.logger.exception("refreshing every feed (API) failed")
            finally:
                db.close()
                _refreshing.release()

        threading.Thread(target=run, name="webreader-api-refresh", daemon=True).start()
    return _no_content()


@bp.get(f"/feeds/<{ID}:feed_id>/icon")
def feed_icon(feed_id: int) -> Response:
    _feed(feed_id)
    raise APIError(404, "resource not found")  # webreader keeps no icons


@bp.put(f"/feeds/<{ID}:feed_id>/mark-all-as-read")
def mark_feed_read(feed_id: int) -> Response:
    condition, params = articles.feed_condition(_feed(feed_id))
    articles.mark_read_where(get_db(), condition, params)
    return _no_content()


@bp.get(f"/feeds/<{ID}:feed_id>/entries")
def feed_entries(feed_id: int) -> Response:
    return _entries(feed=_feed(feed_id))


@bp.get(f"/feeds/<{ID}:feed_id>/entries/<{ID}:entry_id>")
def feed_entry(feed_id: int, entry_id: int) -> Response:
    return _one_entry(entry_id, feed_id=_feed(feed_id)["id"])


# ---- categories -----------------------------------------------------------------------------


def _title(body: dict) -> str:
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise APIError(400, "the category title is required")
    return " ".join(title.split())[:300]


@bp.get("/categories")
def get_categories() -> Response:
    db = get_db()
    counts = request.args.get("counts", "").lower() in ("1", "true")
    unread: dict[int, int] = {}
    if counts:
        feeds = queries.list_feeds(db)
        per_feed = articles.count_by_feed(db, feeds)["unreads"]
        for feed in feeds:
            unread[feed["category_id"]] = unread.get(feed["category_id"], 0) + per_feed.get(
                feed["id"], 0
            )
    result = []
    for category in queries.list_categories(db):
        shown = _category_json(category)
        if counts:
            shown |= {
                "feed_count": category["feed_count"],
                "total_unread": unread.get(category["id"], 0),
            }
        result.append(shown)
    return jsonify(result)


@bp.post("/categories")
def create_category() -> Response:
    title = _title(_body())
    db = get_db()
    if queries.find_category(db, title) is not None:
        raise APIError(400, "this category already exists")
    try:
        category_id = queries.insert_category(db, title)
    except sqlite3.IntegrityError:  # made meanwhile, by another call
        raise APIError(400, "this category already exists") from None
    return _created(_category_json({"id": category_id, "title": title}))


@bp.put(f"/categories/<{ID}:category_id>")
def update_category(category_id: int) -> Response:
    _category(category_id)
    title = _title(_body())
    if category_id == queries.ALL_CATEGORY:
        raise APIError(400, "the category All holds the feeds without a folder: it keeps its name")
    db = get_db()
    other = queries.find_category(db, title)
    if other is not None and other["id"] != category_id:
        raise APIError(400, "this category already exists")
    try:
        queries.rename_category(db, category_id, title)
    except sqlite3.IntegrityError:
        raise APIError(400, "this category already exists") from None
    return _created(_category_json({"id": category_id, "title": title}))


@bp.delete(f"/categories/<{ID}:category_id>")
def delete_category(category_id: int) -> Response:
    _category(category_id)
    if category_id == queries.ALL_CATEGORY:
        raise APIError(400, "the category All cannot be removed: feeds without one are in it")
    queries.delete_category(get_db(), category_id)
    return _no_content()


@bp.get(f"/categories/<{ID}:category_id>/feeds")
def category_feeds(category_id: int) -> Response:
    _category(category_id)
    return jsonify([feed_json(f) for f in queries.list_feeds(get_db(), category_id)])


@bp.get(f"/categories/<{ID}:category_id>/entries")
def category_entries(category_id: int) -> Response:
    _category(category_id)
    return _entries(category_id=category_id)


@bp.get(f"/categories/<{ID}:category_id>/entries/<{ID}:entry_id>")
def category_entry(category_id: int, entry_id: int) -> Response:
    _category(category_id)
    return _one_entry(entry_id, category_id=category_id)


@bp.put(f"/categories/<{ID}:category_id>/mark-all-as-read")
def mark_category_read(category_id: int) -> Response:
    _category(category_id)
    condition, params = articles.category_condition(category_id)
    articles.mark_read_where(get_db(), condition, params)
    return _no_content()


@bp.put(f"/categories/<{ID}:category_id>/refresh")
def refresh_category(category_id: int) -> Response:
    """The category's subscriptions made due: the refresher checks them next."""
    _category(category_id)
    db = get_db()
    for feed in queries.list_feeds(db, category_id):
        if feed["subscription_id"] is not None:
            queries.update_subscription(db, feed["subscription_id"], {"next_check_at": 0})
    return _no_content()


# ---- entries --------------------------------------------------------------------------------

_STATUSES = {"unread": "a.read_at IS NULL", "read": "a.read_at IS NOT NULL", "removed": "0"}
_TRUE = ("1", "t", "true", "yes", "on")
_FALSE = ("0", "f", "false", "no", "off")


def _query_int(name: str, default: int = 0) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    return _int(value, name)


def _entries(*, feed: dict | None = None, category_id: int | None = None) -> Response:
    """GET entries with Miniflux's filters, in its shape: {"total", "entries"}."""
    db = get_db()
    conditions: list[str] = []
    params: list[Any] = []
    statuses = sorted(set(request.args.getlist("status")))
    for status in statuses:
        if status not in _STATUSES:
            raise APIError(400, "invalid entry status")
    if statuses:
        conditions.append("(" + " OR ".join(_STATUSES[s] for s in statuses) + ")")
    order = request.args.get("order") or "published_at"
    if order not in articles.ENTRY_ORDERS:
        raise APIError(400, "invalid entry order")
    direction = request.args.get("direction") or "asc"  # Miniflux's default
    if direction not in ("asc", "desc"):
        raise APIError(400, "invalid entry direction")
    limit = _query_int("limit", DEFAULT_LIMIT)
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    offset = _query_int("offset")
    feed_id = _query_int("feed_id")
    if feed is None and feed_id:
        feed = queries.get_feed(db, feed_id)
        if feed is None:
            raise APIError(400, "invalid feed ID")
    if feed is not None:
        sql, values = articles.feed_condition(feed)
        conditions.append(sql)
        params += values
    category_id = _query_int("category_id") or category_id
    if category_id:
        if queries.get_category(db, category_id) is None:
            raise APIError(400, "invalid category ID")
        sql, values = articles.category_condition(category_id)
        conditions.append(sql)
        params += values
    starred = (request.args.get("starred") or "").lower()
    if starred in _TRUE:
        conditions.append("a.starred_at IS NOT NULL")
    elif starred in _FALSE and starred:
        conditions.append("a.starred_at IS NULL")
    for name, operator in (("before_entry_id", "<"), ("after_entry_id", ">")):
        if value := _query_int(name):
            conditions.append(f"a.id {operator} ?")
            params.append(value)
    for name, operator in (
        ("before", "<"),
        ("after", ">"),
        ("published_before", "<"),
        ("published_after", ">"),
    ):
        if value := _query_int(name):
            conditions.append(
                f"julianday(coalesce(a.published, a.imported_at)) {operator} "
                "julianday(?, 'unixepoch')"
            )
            params.append(value)
    # Changed: stored again, read or unread, starred or not (the latest of those times).
    changed = "max(a.updated_at, coalesce(a.read_at, ''), coalesce(a.starred_at, ''))"
    for name, operator in (("changed_before", "<"), ("changed_after", ">")):
        if value := _query_int(name):
            conditions.append(f"julianday({changed}) {operator} julianday(?, 'unixepoch')")
            params.append(value)
    text = (request.args.get("search") or "").strip()
    if text:
        query = search.parse_query(text + " ")  # whole words, as a search box's
        if query is None:
            conditions.append("0")
        else:
            # The newest matches, as many as the page's search ranks: a common word matches
            # most of the library, and every match would be read to count them.
            conditions.append(
                "a.id IN (SELECT rowid FROM articles_search WHERE articles_search MATCH ? "
                "ORDER BY rowid DESC LIMIT ?)"
            )
            params += [query.fts, articles.SEARCH_CANDIDATES]
    known = None  # the read state alone: the counts triggers keep answer "how many"
    if conditions == [f"({_STATUSES['unread']})"]:
        known = articles.count_unread(db)
    total, rows = articles.list_entries(
        db,
        conditions,
        params,
        order=articles.ENTRY_ORDERS[order],
        descending=direction == "desc",
        limit=limit,
        offset=offset,
        total=known,
    )
    feeds = _feeds_by_id(db)
    shown = contents(db, rows)
    entries = [_entry_json(db, row, feeds, shown[row["id"]]) for row in rows]
    return _json({"total": total, "entries": entries})


def _json(value: Any, status: int = 200) -> Response:
    """JSON as apps read it, without escaping every ă and ș (a third smaller for Romanian
    text) and without sorting keys (a fifth of a long answer's time)."""
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype="application/json")


def _one_entry(
    entry_id: int, *, feed_id: int | None = None, category_id: int | None = None
) -> Response:
    db = get_db()
    entry = articles.get_entry(db, entry_id)
    if entry is None or (feed_id is not None and entry["feed_id"] != feed_id):
        raise APIError(404, "resource not found")
    if category_id is not None and entry["category_id"] != category_id:
        raise APIError(404, "resource not found")
    return jsonify(_entry_json(db, entry, _feeds_by_id(db)))


@bp.get("/entries")
def get_entries() -> Response:
    return _entries()


@bp.get(f"/entries/<{ID}:entry_id>")
def get_entry(entry_id: int) -> Response:
    return _one_entry(entry_id)


@bp.put("/entries")
def update_entries() -> Response:
    """Read or unread, for many entries at once."""
    body = _body()
    ids = body.get("entry_ids")
    if not isinstance(ids, list) or not ids:
        raise APIError(400, "the list of entries is required")
    if len(ids) > MAX_LIMIT:
        raise APIError(400, f"at most {MAX_LIMIT} entries at once")
    numbers = [_int(i, "entry_ids", minimum=1) for i in ids]
    status = body.get("status")
    if status not in ("read", "unread"):
        if status == "removed":
            raise APIError(400, "webreader does not remove entries here: delete them in the page")
        raise APIError(400, "invalid entry status")
    articles.set_entries_read(get_db(), numbers, status == "read")
    return _no_content()


@bp.put(f"/entries/<{ID}:entry_id>/bookmark")
@bp.put(f"/entries/<{ID}:entry_id>/star")
def toggle_bookmark(entry_id: int) -> Response:
    db = get_db()
    entry = articles.get_entry(db, entry_id)
    if entry is None:
        raise APIError(404, "resource not found")
    articles.set_starred(db, entry_id, entry["starred_at"] is None)
    return _no_content()


@bp.route(f"/entries/<{ID}:entry_id>/fetch-content", methods=["GET", "PUT"])
def fetch_content(entry_id: int) -> Response:
    """A teaser completed from its page (imported, as the page's Add would); an article's
    content as it is."""
    from webreader.importers import pipeline

    db = get_db()
    entry = articles.get_entry(db, entry_id)
    if entry is None:
        raise APIError(404, "resource not found")
    if entry["kind"] == "teaser" and entry["url"]:
        if current_app.config["READ_ONLY"]:
            raise APIError(403, "access forbidden: this library is read-only")
        try:  # the page's article only: a feed or an OPML file there is refused
            article_id = pipeline.complete_teaser(
                db, entry["url"], entry["source"], public_only=_public_only()
            )
        except InvalidInput as exc:
            raise APIError(400, f"could not fetch the article: {exc}") from None
        entry = articles.get_entry(db, entry_id) or articles.get_entry(db, article_id)
        if entry is None or entry["kind"] == "teaser":
            raise APIError(400, "could not fetch the article: the page holds none")
    return jsonify(content=_content(db, entry), reading_time=reading_minutes(entry["words"] or 0))


# ---- OPML and discovery ---------------------------------------------------------------------


@bp.get("/export")
def export() -> Response:
    from webreader.importers.opml import to_opml

    return Response(to_opml(queries.list_subscriptions(get_db())), mimetype="text/xml")


@bp.post("/import")
def import_opml() -> Response:
    from webreader import subscriptions
    from webreader.importers.opml import parse_opml

    try:
        subscriptions.add_many(get_db(), parse_opml(request.get_data(cache=False)))
    except InvalidInput as exc:
        raise APIError(400, str(exc)) from None
    return _created({"message": "Feeds imported successfully"})


@bp.post("/discover")
def discover() -> Response:
    """The feeds an address is, or names in its head."""
    from webreader import subscriptions
    from webreader.importers.web import fetch

    body = _body()
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise APIError(400, "the URL is required")
    try:
        fetched = fetch(url.strip(), public_only=_public_only())
    except InvalidInput as exc:
        raise APIError(400, f"could not fetch it: {exc}") from None
    found = subscriptions.discover_feeds(fetched)
    if not found:
        raise APIError(404, "no feed found at this address")
    return jsonify(found)


# ---- API keys -------------------------------------------------------------------------------


@bp.get("/api-keys")
def get_api_keys() -> Response:
    return jsonify(
        [
            {
                "id": key["id"],
                "user_id": USER_ID,
                "token": "",  # kept as a hash only: shown once, when made
                "description": key["name"],
                "created_at": _time(key["created_at"]),
                "last_used_at": _time(key["last_used_at"]),
            }
            for key in queries.list_api_keys(get_db())
        ]
    )


@bp.post("/api-keys")
def create_api_key() -> Response:
    description = _body().get("description")
    if not isinstance(description, str):
        raise APIError(400, "the description is required")
    try:
        token = auth.create_api_key(get_db(), description)
    except ValueError as exc:
        raise APIError(400, str(exc)) from None
    key = next(
        k for k in queries.list_api_keys(get_db()) if k["name"] == " ".join(description.split())
    )
    return _created(
        {
            "id": key["id"],
            "user_id": USER_ID,
            "token": token,
            "description": key["name"],
            "created_at": _time(key["created_at"]),
            "last_used_at": ZERO_TIME,
        }
    )


@bp.delete(f"/api-keys/<{ID}:key_id>")
def delete_api_key(key_id: int) -> Response:
    if not queries.delete_api_key(get_db(), key_id=key_id):
        raise APIError(404, "resource not found")
    return _no_content()


def _unverified_password() -> bool:
    """A call with HTTP Basic whose password was not verified lately: a guess, perhaps."""
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        return False
    return not auth.password_known(get_db(), credentials.password or "")


# Password guesses through the API count as login attempts do (auth.py's limits); calls with
# a key, or with a password verified lately, are not slowed. Once, when the module loads: a
# blueprint decorated again for each app would count each call once per app.
auth.limiter.shared_limit(
    auth.LOGIN_LIMITS,
    scope=auth.PASSWORD_GUESSES,
    exempt_when=lambda: not _unverified_password(),
    error_message="too many password attempts from this address; wait a minute",
)(bp)


def init_app(app) -> None:
    app.register_blueprint(bp)
