"""New headlines arriving live: an open page hears of new articles by server-sent events
(htmx's SSE extension) and offers them; choosing the offer inserts their headlines at the
top of the sidebar, without a reload, and never touches the article being read.

A stream lasts STREAM_SECONDS and closes (the browser reconnects by itself, and says which
event it had last): an idle stream must not hold one of waitress's threads for good. At
most a few streams at a time (STREAMS): the others are told to come back later (503)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from flask import Response, abort, current_app, render_template, stream_with_context
from htmx_flask import request

from webreader import articles
from webreader.db import get_db
from webreader.reading import bp, current_filters, listing_url, render_headline, wants_fragment

STREAM_SECONDS = 25.0
POLL_SECONDS = 1.0
# Streams at a time, at most: each holds a waitress thread while it lasts. `serve` lowers it
# to leave two threads for everything else (none with --threads 2 or fewer).
STREAMS = 2
NEW_LIMIT = 50


_making_slots = threading.Lock()


def _slots() -> threading.BoundedSemaphore:
    """The app's stream slots, made once (two first streams at once must share them)."""
    with _making_slots:
        slots = current_app.extensions.get("webreader_streams")
        if slots is None:
            slots = threading.BoundedSemaphore(current_app.config.get("STREAMS", STREAMS))
            current_app.extensions["webreader_streams"] = slots
        return slots


def _since() -> int:
    since = request.args.get("since", default=0, type=int)
    if since < 0 or since > articles.MAX_ID:
        abort(400, description="since must be an article id.")
    return since


@bp.get("/events")
def events() -> Response:
    """A stream of `new-articles` events: the offer of what was stored after ?since= and
    matches the page's filters (show, source, dates), sent when the newest row changes."""
    since = _since()
    heard = max(since, request.headers.get("Last-Event-ID", default=0, type=int))
    filters = current_filters()
    seconds = current_app.config.get("STREAM_SECONDS", STREAM_SECONDS)
    slots = _slots()
    if not slots.acquire(blocking=False):
        response = Response("Too many live pages; try again soon.\n", 503, mimetype="text/plain")
        response.headers["Retry-After"] = "30"
        return response
    released = threading.Lock()

    def release() -> None:
        """Once, whichever comes first: the stream's end, or the response closed unread
        (a HEAD request, a client gone before the first byte)."""
        if released.acquire(blocking=False):
            slots.release()

    def stream() -> Iterator[str]:
        try:
            yield "retry: 3000\n\n"
            db = get_db()
            known, deadline = heard, time.monotonic() + seconds
            while time.monotonic() < deadline:
                newest = articles.newest_id(db)
                if newest > known:
                    known = newest
                    new = articles.list_new_headlines(db, filters, since, NEW_LIMIT + 1)
                    if new:
                        offer = render_template(
                            "_new_articles.html",
                            count=len(new),
                            more=len(new) > NEW_LIMIT,
                            since=since,
                        )
                        lines = "".join(f"data: {line}\n" for line in offer.splitlines())
                        yield f"id: {newest}\nevent: new-articles\n{lines}\n"
                time.sleep(POLL_SECONDS)
        finally:
            release()

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.call_on_close(release)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@bp.get("/headlines/new")
def new_headlines() -> Response:
    """The headlines stored after ?since= (and listed under the page's filters), newest
    first, for htmx to put at the top of the sidebar; the live offer is reset with them."""
    since = _since()
    if not wants_fragment():
        return current_app.make_response(("", 303, {"Location": listing_url("reader.index")}))
    db = get_db()
    # The newest row first, and only rows up to it listed: one stored in between is offered
    # by the next stream, not lost. Beyond NEW_LIMIT, the next stream starts from the last
    # row shown, so the rest are offered again.
    newest = articles.newest_id(db)
    new = articles.list_new_headlines(db, current_filters(), since, NEW_LIMIT, upto=newest)
    shown = newest if len(new) < NEW_LIMIT else min(row["id"] for row in new)
    body = render_template(
        "_new_headlines.html", headlines=new, render_headline=render_headline, newest=shown
    )
    response = current_app.make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response
