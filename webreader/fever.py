"""The Fever API (/fever/), which Reeder, Unread, ReadKit and Fiery Feeds speak.

Written from the published Fever API description: every answer is JSON with api_version 3
and auth (1, or 0 for a wrong key: never a 401); the key is the MD5 of "user:password" for
a password of its own (`webreader fever-password`); ids are integers, and the lists of ids
(unread_item_ids, saved_item_ids, feeds_groups' feed_ids) are comma-separated strings, as
apps expect. Groups are categories and feeds are the Miniflux API's feeds (api.py);
`as=saved` and `as=unsaved` set the star, as the description says (not a toggle). Like the
Miniflux API, it takes no cookie and refuses requests of other sites' pages.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from webreader import api, articles, auth, origins
from webreader import db as queries
from webreader.db import get_db

bp = Blueprint("fever", __name__)
API_VERSION = 3
MAX_ITEMS = 50  # per call, as the description says
MAX_WITH_IDS = 50


def _answer(**fields: Any) -> Response:
    return jsonify(
        api_version=API_VERSION, auth=1, last_refreshed_on_time=int(time.time()), **fields
    )


def _param(name: str) -> str | None:
    """A parameter from the query string or the form body (apps use either)."""
    value = request.args.get(name)
    return request.form.get(name) if value is None else value


def _number(name: str) -> int:
    """An integer parameter; 0 when missing or not a number (as Fever's servers read them)."""
    value = (_param(name) or "").strip()
    try:
        number = int(value)
    except ValueError:
        return 0
    return number if 0 <= number <= articles.MAX_ID else 0


def _has(name: str) -> bool:
    return name in request.args or name in request.form


def _epoch(value: str | None) -> int:
    if not value:
        return 0
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


@bp.route("/fever/", methods=["GET", "POST"])
@bp.route("/fever", methods=["GET", "POST"])
def fever() -> Response:
    if origins.request_is_cross_site():
        response = jsonify(api_version=API_VERSION, auth=0)
        response.status_code = 403
        return response
    db = get_db()
    if not auth.fever_key_matches(db, _param("api_key") or ""):
        return jsonify(api_version=API_VERSION, auth=0)
    if _has("mark"):
        if current_app.config["READ_ONLY"]:
            response = jsonify(api_version=API_VERSION, auth=1, error="this library is read-only")
            response.status_code = 403
            return response
        return _mark(db)
    fields: dict[str, Any] = {}
    feeds = queries.list_feeds(db)
    if _has("groups"):
        fields["groups"] = [
            {"id": c["id"], "title": c["title"]} for c in queries.list_categories(db)
        ]
        fields["feeds_groups"] = _feeds_groups(feeds)
    if _has("feeds"):
        fields["feeds"] = [_feed(feed) for feed in feeds]
        fields["feeds_groups"] = _feeds_groups(feeds)
    if _has("favicons"):
        fields["favicons"] = []  # webreader keeps no icons
    if _has("links"):
        fields["links"] = []  # no "hot links" here
    if _has("unread_item_ids"):
        fields["unread_item_ids"] = articles.entry_ids(db, "a.read_at IS NULL")
    if _has("saved_item_ids"):
        fields["saved_item_ids"] = articles.entry_ids(db, "a.starred_at IS NOT NULL")
    if _has("items"):
        fields |= _items(db)
    return _answer(**fields)


def _feeds_groups(feeds: list[dict]) -> list[dict[str, Any]]:
    groups: dict[int, list[str]] = {}
    for feed in feeds:
        groups.setdefault(feed["category_id"], []).append(str(feed["id"]))
    return [{"group_id": g, "feed_ids": ",".join(ids)} for g, ids in sorted(groups.items())]


def _feed(feed: dict) -> dict[str, Any]:
    shown = api.feed_json(feed)
    return {
        "id": feed["id"],
        "favicon_id": 0,
        "title": shown["title"],
        "url": shown["feed_url"],
        "site_url": shown["site_url"],
        "is_spark": 0,
        "last_updated_on_time": int(feed["checked_at"] or 0),
    }


def _items(db) -> dict[str, Any]:
    """Up to 50 items: after since_id (oldest first), before max_id (newest first), or the
    ones with_ids names; and how many items there are in all."""
    conditions: list[str] = []
    params: list[Any] = []
    descending = True
    if _has("since_id"):  # since_id=0: from the first item, oldest first
        conditions.append("a.id > ?")
        params.append(_number("since_id"))
        descending = False
    elif max_id := _number("max_id"):
        conditions.append("a.id < ?")
        params.append(max_id)
    elif _has("with_ids"):
        ids = []
        for part in (_param("with_ids") or "").split(",")[:MAX_WITH_IDS]:
            part = part.strip()
            if part.isascii() and part.isdigit() and int(part) <= articles.MAX_ID:
                ids.append(int(part))
        conditions.append(f"a.id IN ({', '.join('?' * len(ids))})" if ids else "0")
        params += ids
    _, rows = articles.list_entries(
        db, conditions, params, order="a.id", descending=descending, limit=MAX_ITEMS, count=False
    )
    total = db.execute("SELECT articles FROM library_state").fetchone()[0]
    contents = api.contents(db, rows)
    return {
        "total_items": total,
        "items": [
            {
                "id": row["id"],
                "feed_id": row["feed_id"],
                "title": row["title"],
                "author": row["author"] or "",
                "html": contents[row["id"]],
                "url": row["url"] or "",
                "is_saved": int(row["starred_at"] is not None),
                "is_read": int(row["read_at"] is not None),
                "created_on_time": _epoch(row["published"] or row["imported_at"]),
            }
            for row in rows
        ],
    }


def _mark(db) -> Response:
    """mark=item|feed|group with as=read|unread|saved|unsaved, id, and before (a Unix
    time: feeds and groups are marked read up to it, so nothing that arrived since)."""
    kind, status, target = _param("mark"), _param("as"), _number("id")
    if kind == "item":
        if target and articles.get_entry(db, target) is not None:
            if status in ("read", "unread"):
                articles.set_entries_read(db, [target], status == "read")
            elif status in ("saved", "unsaved"):
                articles.set_starred(db, target, status == "saved")
    elif kind in ("feed", "group") and status == "read":
        before = _number("before")
        # Arrived (imported) before it: what the app had seen when it asked to mark.
        published = "julianday(a.imported_at) < julianday(?, 'unixepoch')"
        if kind == "feed":
            feed = queries.get_feed(db, target) if target else None
            if feed is not None:
                condition, params = articles.feed_condition(feed)
                articles.mark_read_where(db, f"{condition} AND {published}", [*params, before])
        elif target == 0:  # group 0: everything ("Kindling")
            articles.mark_read_where(db, published, [before or 10**11])
        elif queries.get_category(db, target) is not None:
            condition, params = articles.category_condition(target)
            articles.mark_read_where(db, f"{condition} AND {published}", [*params, before])
    return _answer()


def _key_is_wrong() -> bool:
    try:
        return not auth.fever_key_matches(get_db(), _param("api_key") or "")
    except Exception:  # the limiter must never be what fails
        return True


# A wrong key is a password guess: counted with the login's and HTTP Basic's (auth.py).
auth.limiter.shared_limit(
    auth.LOGIN_LIMITS,
    scope=auth.PASSWORD_GUESSES,
    exempt_when=lambda: not _key_is_wrong(),
    error_message="too many wrong keys from this address; wait a minute",
)(bp)


def init_app(app) -> None:
    app.register_blueprint(bp)
