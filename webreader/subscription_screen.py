"""The Subscriptions screen (/subscriptions, in the reading pane): the feeds the library
follows, each with its state and last error in words, the forms that add, pause, remove and
refresh them, and the import status of the watched folders. Seeing it needs the login
wherever changing the library does; changing anything needs the right to write. The logic is
in subscriptions.py and watching.py, the SQL in db.py."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from babel.dates import format_timedelta
from flask import Response, abort, current_app, flash, get_flashed_messages, redirect, url_for
from htmx_flask import request

from webreader import db as queries
from webreader import subscriptions
from webreader.articles import MAX_ID
from webreader.db import get_db
from webreader.importers.base import InvalidInput
from webreader.library import import_rules
from webreader.reading import bp, page_or_fragment, wants_fragment

TITLE = "Subscriptions"
# The choices the form offers (the command line takes any duration from a minute to a week).
EVERY_CHOICES = {
    "15m": "15 minutes",
    "30m": "30 minutes",
    "1h": "hour",
    "2h": "2 hours",
    "6h": "6 hours",
    "12h": "12 hours",
    "1d": "day",
}
DEFAULT_CHOICE = "1h"
MAX_FOLDER_CHARS = 300
ID = f"int(max={MAX_ID})"  # a larger number is no subscription (SQLite's integers end there)


def when(seconds: float | None, now: float) -> dict[str, str] | None:
    """A moment as words relative to now ("5 minutes ago") and as ISO 8601 for <time>."""
    if seconds is None:
        return None
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return {
        "words": format_timedelta(seconds - now, add_direction=True, locale="en"),
        "iso": moment.isoformat(timespec="seconds"),
        "exact": moment.strftime("%Y-%m-%d %H:%M UTC"),
    }


def _every_words(seconds: int) -> str:
    for choice, words in EVERY_CHOICES.items():
        if subscriptions.parse_duration(choice) == seconds:
            return f"every {words}"
    return "every " + format_timedelta(seconds, locale="en", threshold=1)


def _shown(row: dict, now: float) -> dict[str, Any]:
    return {
        **row,
        "name": row["title"] or row["url"],
        "state": subscriptions.state_in_words(row),
        "every": _every_words(row["every_seconds"]),
        "checked": when(row["checked_at"], now),
        "new_article": when(row["new_article_at"], now),
        "next_check": None if row["paused"] else when(row["next_check_at"], now),
        "failing": row["status"] in ("failed", "waiting", "gone"),
    }


def _screen(
    *,
    status: int = 200,
    error: str | None = None,
    form: dict | None = None,
    messages: list[str] | None = None,
) -> Response:
    db = get_db()
    now = time.time()
    watched = queries.watched_files_summary(db)
    for row in watched["failures"]:
        row["when"] = when(row["at"], now)
    for row in watched["folders"]:
        row["when"] = when(row["last_at"], now)
    return page_or_fragment(
        "_subscriptions.html",
        title=TITLE,
        status=status,
        subscriptions=[_shown(row, now) for row in queries.list_subscriptions(db)],
        watched=watched,
        messages=get_flashed_messages() if messages is None else messages,
        error=error,
        form=form or {"every": DEFAULT_CHOICE},
        every_choices=EVERY_CHOICES,
    )


def _sentence(text: str) -> str:
    return text.rstrip(". ") + "."


def _done(message: str) -> Response:
    """After a change: htmx gets the screen again, a plain form a redirect to it."""
    if wants_fragment():
        return _screen(messages=[message])
    flash(message)  # shown by the page the redirect leads to
    return redirect(url_for("reader.subscriptions_page"), code=303)


def _public_only() -> bool:
    """On a server others reach, no fetch goes to the server's own network (as Add)."""
    return bool(current_app.config["LOGIN_REQUIRED"])


def _get(subscription_id: int) -> dict:
    row = queries.get_subscription(get_db(), subscription_id)
    if row is None:
        abort(404, description="There is no such subscription. It may have been removed.")
    return row


def _flag(name: str) -> bool:
    value = request.form.get(name)
    if value not in ("0", "1"):
        abort(400, description=f"The form must send {name}=1 or {name}=0.")
    return value == "1"


@bp.get("/subscriptions")
def subscriptions_page() -> Response:
    return _screen()


@bp.post("/subscriptions")
def subscribe() -> Response:
    """Subscribes and imports what the feed holds now; a refusal comes back with the form
    as it was filled in."""
    form = {
        "url": (request.form.get("url") or "").strip(),
        "every": request.form.get("every") or DEFAULT_CHOICE,
        "full_text": request.form.get("full_text") == "1",
        "folder": (request.form.get("folder") or "").strip()[:MAX_FOLDER_CHARS],
    }
    if form["every"] not in EVERY_CHOICES:
        form["every"] = DEFAULT_CHOICE
        return _screen(status=400, error="Choose how often to check it.", form=form)
    if not form["url"]:
        return _screen(status=400, error="Give the address of a feed or a site.", form=form)
    try:
        checked = subscriptions.subscribe(
            get_db(),
            form["url"],
            import_rules(),
            every=subscriptions.parse_duration(form["every"]),
            full_text=form["full_text"],
            folder=form["folder"] or None,
            public_only=_public_only(),
        )
    except InvalidInput as exc:
        return _screen(
            status=400, error=_sentence(f"Could not subscribe to {form['url']}: {exc}"), form=form
        )
    name = checked.subscription.get("title") or checked.subscription["url"]
    return _done(_sentence(f"Subscribed to {name}: {checked.message}"))


@bp.post(f"/subscriptions/<{ID}:subscription_id>/pause")
def pause_subscription(subscription_id: int) -> Response:
    row = _get(subscription_id)
    paused = _flag("paused")
    changes: dict[str, Any] = {"paused": int(paused)}
    if not paused:  # resumed: checked at the next pass, and a gone feed is tried again
        changes |= {"next_check_at": time.time(), "failures": 0}
        if row["status"] == "gone":
            changes |= {"status": "new", "error": None}
    queries.update_subscription(get_db(), row["id"], changes)
    name = row["title"] or row["url"]
    return _done(f"Paused {name}." if paused else f"Resumed {name}: it is checked next.")


@bp.post(f"/subscriptions/<{ID}:subscription_id>/full-text")
def full_text_subscription(subscription_id: int) -> Response:
    row = _get(subscription_id)
    full_text = _flag("full_text")
    # The body hash is forgotten, so the next check imports the feed again with the switch.
    queries.update_subscription(
        get_db(), row["id"], {"full_text": int(full_text), "body_hash": None}
    )
    name = row["title"] or row["url"]
    if full_text:
        return _done(f"{name}: summaries are completed from their pages from the next check.")
    return _done(f"{name}: the feed's own text is kept from the next check.")


@bp.post(f"/subscriptions/<{ID}:subscription_id>/refresh")
def refresh_subscription(subscription_id: int) -> Response:
    row = _get(subscription_id)
    try:
        checked = subscriptions.refresh_one(
            get_db(), row["id"], import_rules(), public_only=_public_only()
        )
    except subscriptions.Busy:
        return _done("The subscriptions are being refreshed right now: try again in a minute.")
    if checked is None:
        abort(404, description="There is no such subscription. It may have been removed.")
    name = checked.subscription.get("title") or checked.subscription["url"]
    return _done(_sentence(f"Checked {name}: {checked.message}"))


@bp.post(f"/subscriptions/<{ID}:subscription_id>/delete")
def delete_subscription(subscription_id: int) -> Response:
    row = _get(subscription_id)
    queries.delete_subscription(get_db(), row["id"])
    name = row["title"] or row["url"]
    return _done(f"Unsubscribed from {name}. The articles it brought stay.")
