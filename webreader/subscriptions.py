"""Subscriptions: feeds webreader checks on a schedule, politely, so the library stays fresh.

Each check is a conditional GET (the feed's ETag and Last-Modified from the last answer),
so an unchanged feed costs a 304 and no import work; a body identical to the last one is not
imported again either. Errors back off per feed (the interval doubled per failure, up to a
day; a 429 or 503 waits at least its Retry-After), a permanent redirect updates the stored
address, and 410 Gone pauses the subscription and says so. One feed's failure never stops
the others. The SQL is in db.py.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from lxml import etree
from lxml.html import fromstring
from sqlite_utils import Database

from webreader import db as queries
from webreader.importers.base import InvalidInput
from webreader.importers.feed import FEED_TYPES, looks_like_feed
from webreader.importers.textdump import DumpRules
from webreader.importers.web import Fetched, HTTPStatusError, check_url, fetch

DEFAULT_EVERY = 60 * 60  # an hour
MIN_EVERY = 60  # no feed is asked more than once a minute
MAX_EVERY = 7 * 24 * 3600
MAX_BACKOFF = 24 * 60 * 60  # a failing feed is still tried once a day
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
LEASE = "refresh"
LEASE_SECONDS = 10 * 60  # longer than a feed's check can take (a fetch times out at 15 s)
logger = logging.getLogger("webreader.subscriptions")
_FEED_LINK_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


def parse_duration(text: str) -> int:
    """Seconds in '30s', '15m', '2h', '1d' or a plain number of seconds; ValueError else."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration (write 30s, 15m, 2h or 1d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class Checked:
    """What one check of a subscription gave, for the command's report."""

    subscription: dict
    status: str  # updated, unchanged, failed, gone, waiting
    message: str
    imported: int = 0


def subscribe(
    db: Database,
    url: str,
    rules: DumpRules,
    *,
    every: int = DEFAULT_EVERY,
    full_text: bool = False,
    folder: str | None = None,
    public_only: bool = False,
) -> Checked:
    """Subscribes to a feed, or to the feed a page names (<link rel="alternate">), and
    imports what it holds now. InvalidInput says why not (no feed there, already
    subscribed, an interval under a minute)."""
    if every < MIN_EVERY:
        raise InvalidInput(f"checking more often than every {MIN_EVERY} seconds is not polite")
    asked = urldefrag(url.strip())[0].rstrip("?")  # the same feed, however it was written
    fetched = fetch(asked, public_only=public_only)
    if not _is_feed(fetched):
        asked = discover_feed(fetched)
        if asked is None:
            raise InvalidInput("no feed there: neither a feed nor a page that names its feed")
        fetched = fetch(asked, public_only=public_only)
        if not _is_feed(fetched):
            raise InvalidInput(f"the page names {asked} as its feed, but that is no feed")
    # A temporary redirect is followed today, but the address to ask next time stays.
    feed_url = fetched.url if fetched.moved_permanently or not fetched.redirected else asked
    if queries.find_subscription(db, feed_url) is not None:
        raise InvalidInput(f"already subscribed to {feed_url}")
    now = time.time()
    row = {
        "url": feed_url,
        "full_text": int(full_text),
        "folder": folder or None,
        "every_seconds": every,
        # Not due before its first check is done: a refresher must not check it meanwhile.
        "next_check_at": now + every,
        "created_at": now,
    }
    try:
        subscription_id = queries.insert_subscription(db, row)
    except sqlite3.IntegrityError:  # subscribed meanwhile, by another request
        raise InvalidInput(f"already subscribed to {feed_url}") from None
    checked = _take(
        db, queries.get_subscription(db, subscription_id), fetched, rules, public_only, now
    )
    if checked.status == "failed":  # a feed that cannot be read is not kept
        queries.delete_subscription(db, subscription_id)
        raise InvalidInput(f"the feed cannot be read: {checked.message}")
    return checked


def add_many(db: Database, feeds: list[dict], *, every: int = DEFAULT_EVERY) -> dict:
    """Subscriptions to feeds read from OPML (url, title, folder), due at once, added
    together in one transaction. A feed already subscribed to keeps its settings; one whose
    address cannot be fetched is skipped, and `skipped` says why; InvalidInput when no feed
    of the list can be subscribed to."""
    now = time.time()
    rows, skipped, known = [], [], 0
    seen: set[str] = set()
    for feed in feeds:
        try:
            check_url(feed["url"])
        except InvalidInput as exc:
            skipped.append(f"{feed['url'][:200]}: {exc}")
            continue
        if feed["url"] in seen or queries.find_subscription(db, feed["url"]) is not None:
            known += 1
            continue
        seen.add(feed["url"])
        rows.append({**feed, "every_seconds": every, "next_check_at": now, "created_at": now})
    if skipped and not rows and not known:
        raise InvalidInput(f"no feed in it can be subscribed to: {'; '.join(skipped[:3])}")
    queries.insert_subscriptions(db, rows)
    return {"added": len(rows), "known": known, "skipped": skipped}


def discover_feed(page: Fetched) -> str | None:
    """The feed a web page names in its head, as an absolute address."""
    try:
        tree = fromstring(page.data)
    except (ValueError, SyntaxError, etree.LxmlError):  # an empty page, a broken one
        return None
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" in rel and (link.get("type") or "").lower() in _FEED_LINK_TYPES:
            href = (link.get("href") or "").strip()
            if href:
                return urljoin(page.url, href)
    return None


def discover_feeds(page: Fetched) -> list[dict[str, str]]:
    """What the API's discovery answers: the address itself when it is a feed, else every
    feed its head names (url, title, type: rss, atom or json)."""
    if _is_feed(page):
        head = page.data[:2048].lower()
        kind = "atom" if b"<feed" in head else "json" if head.lstrip().startswith(b"{") else "rss"
        return [{"url": page.url, "title": "", "type": kind}]
    try:
        tree = fromstring(page.data)
    except (ValueError, SyntaxError, etree.LxmlError):
        return []
    found, seen = [], set()
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in _FEED_LINK_TYPES and href:
            url = urljoin(page.url, href)
            if url not in seen:
                seen.add(url)
                title = " ".join((link.get("title") or "").split())[:200]
                found.append({"url": url, "title": title, "type": kind.split("/")[1].split("+")[0]})
    return found


class Busy(Exception):
    """Another process (a server, a cron job) is refreshing this library's subscriptions."""


def _holder() -> str:
    """Who holds the lease: unique across hosts, containers (which may repeat a host name
    and a pid), processes, threads and passes."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex}"


def _take_lease(db: Database, holder: str) -> bool:
    """The refresh lease for holder, unless another holds it; a holder on this machine
    whose process has ended (killed mid-pass) holds nothing."""
    if queries.take_lease(db, LEASE, holder, LEASE_SECONDS, time.time()):
        return True
    held_by = queries.lease_holder(db, LEASE)
    if held_by is None or not _holder_is_gone(held_by):
        return False
    logger.warning("refresh: %s ended without giving the lease back: taken over", held_by)
    queries.release_lease(db, LEASE, held_by)
    return queries.take_lease(db, LEASE, holder, LEASE_SECONDS, time.time())


def _holder_is_gone(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # another user's process, or no such number
        return False
    return False


def refresh(
    db: Database,
    rules: DumpRules,
    *,
    everything: bool = False,
    public_only: bool = False,
    now: float | None = None,
) -> list[Checked]:
    """Checks the subscriptions that are due (all that are not paused, with everything).
    One refresher at a time per library, whoever asks: raises Busy while another holds the
    lease. The lease is renewed before each feed, so a long pass keeps it."""
    holder = _holder()
    started = time.time() if now is None else now
    if not _take_lease(db, holder):
        raise Busy("another webreader is refreshing the subscriptions")
    try:
        subscriptions = (
            [s for s in queries.list_subscriptions(db) if not s["paused"]]
            if everything
            else queries.due_subscriptions(db, started)
        )
        results = []
        for subscription in subscriptions:
            if not queries.take_lease(db, LEASE, holder, LEASE_SECONDS, time.time()):
                break  # held too long (a slow feed), and taken over: the other goes on
            at = time.time() if now is None else now  # a long pass: each feed's own time
            results.append(_check_safely(db, subscription, rules, public_only, at))
        return results
    finally:
        queries.release_lease(db, LEASE, holder)


def refresh_one(
    db: Database, subscription_id: int, rules: DumpRules, *, public_only: bool = False
) -> Checked | None:
    """Checks one subscription now (the page's "Refresh now"), paused or not; None if there
    is no such subscription. Raises Busy while a pass holds the lease."""
    holder = _holder()
    if not _take_lease(db, holder):
        raise Busy("the subscriptions are being refreshed right now")
    try:
        subscription = queries.get_subscription(db, subscription_id)
        if subscription is None:
            return None
        return _check_safely(db, subscription, rules, public_only, time.time())
    finally:
        queries.release_lease(db, LEASE, holder)


def _check_safely(
    db: Database, subscription: dict, rules: DumpRules, public_only: bool, now: float
) -> Checked:
    try:
        return check(db, subscription, rules, public_only=public_only, now=now)
    except Exception as exc:  # a feed must never stop the others (nor the next pass)
        logger.exception("refresh: checking %s failed", subscription["url"])
        return _failed(db, subscription, now, f"could not check it: {exc}", None)


def refresh_in_background(
    path: str, every: float, rules: DumpRules, *, public_only: bool, stop: threading.Event
) -> threading.Thread:
    """`webreader serve`'s refresher: a pass over the due subscriptions every `every`
    seconds, from a thread and a connection of its own (readers never wait for it; its
    writes take their turn like an import's). A pass that fails is logged, and the next
    comes all the same."""
    from webreader.db import open_db

    def run() -> None:
        db = open_db(path)
        while not stop.is_set():
            try:
                for checked in refresh(db, rules, public_only=public_only):
                    logger.info("refresh: %s: %s", checked.subscription["url"], checked.message)
            except Busy:
                pass  # another process is at it
            except Exception:
                logger.exception("refreshing the subscriptions failed")
            stop.wait(every)
        db.close()

    thread = threading.Thread(target=run, name="webreader-refresh", daemon=True)
    thread.start()
    return thread


def check(
    db: Database, subscription: dict, rules: DumpRules, *, public_only: bool, now: float
) -> Checked:
    """One conditional GET of a subscription's feed, and the import of what changed."""
    try:
        fetched = fetch(
            subscription["url"],
            public_only=public_only,
            etag=subscription["etag"],
            last_modified=subscription["last_modified"],
        )
    except HTTPStatusError as exc:
        if exc.status == 410:
            return _record(
                db, subscription, now, "gone", f"{exc}: the feed is gone; paused", paused=1
            )
        return _failed(db, subscription, now, str(exc), exc.retry_after)
    except InvalidInput as exc:
        return _failed(db, subscription, now, str(exc), None)
    if fetched.moved_permanently and fetched.url != subscription["url"]:
        other = queries.find_subscription(db, fetched.url)
        if other is not None and other["id"] != subscription["id"]:
            message = f"the feed moved to {fetched.url}, which is subscribed already: paused"
            return _record(db, subscription, now, "failed", message, paused=1)
    if fetched.status == 304:
        moved = {"url": fetched.url} if fetched.moved_permanently else {}
        return _record(db, subscription, now, "unchanged", "not modified (304)", **moved)
    return _take(db, subscription, fetched, rules, public_only, now)


def _take(
    db: Database,
    subscription: dict,
    fetched: Fetched,
    rules: DumpRules,
    public_only: bool,
    now: float,
) -> Checked:
    """Imports a feed's body, unless it is the same as last time."""
    from webreader.importers import pipeline  # extractors: loaded when a feed changed

    changes = {"etag": fetched.etag, "last_modified": fetched.last_modified}
    if fetched.moved_permanently:
        changes["url"] = fetched.url
    body_hash = hashlib.sha256(fetched.data).hexdigest()
    if body_hash == subscription.get("body_hash"):
        return _record(db, subscription, now, "unchanged", "the same feed again", **changes)
    if not _is_feed(fetched):
        return _failed(db, subscription, now, "the address no longer answers with a feed", None)
    try:
        result = pipeline.import_feed(
            db,
            fetched,
            rules,
            fetch_full=bool(subscription["full_text"]),
            public_only=public_only,
            subscription_id=subscription["id"],
        )
    except InvalidInput as exc:
        if str(exc) != "the feed has no entries":
            return _failed(db, subscription, now, str(exc), None)
        result = None
    counts = (result.counts if result else None) or {}
    imported = counts.get("imported", 0)
    title = (result.feed_title if result else None) or subscription.get("title")
    changes |= {"body_hash": body_hash, "title": title}
    if imported:
        changes["new_article_at"] = now
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no entries"
    checked = _record(
        db, subscription, now, "updated" if imported else "unchanged", summary, **changes
    )
    checked.imported = imported
    return checked


def _failed(
    db: Database, subscription: dict, now: float, error: str, retry_after: float | None
) -> Checked:
    """Backs off: the interval doubled per failure in a row, up to a day, and never sooner
    than the server's Retry-After."""
    failures = subscription["failures"] + 1
    every = subscription["every_seconds"]
    wait = max(every, min(every * 2 ** (failures - 1), MAX_BACKOFF))
    if retry_after is not None:
        wait = max(wait, retry_after)
    status = "waiting" if retry_after is not None else "failed"
    return _record(
        db, subscription, now, status, error, failures=failures, next_check_at=now + wait
    )


def _record(
    db: Database, subscription: dict, now: float, status: str, message: str, **changes
) -> Checked:
    failed = status in ("failed", "waiting", "gone")
    values = {
        "status": status,
        "error": message if failed else None,
        "failures": changes.pop("failures", 0 if not failed else subscription["failures"]),
        "checked_at": now,
        "next_check_at": changes.pop("next_check_at", now + subscription["every_seconds"]),
        **changes,
    }
    queries.update_subscription(db, subscription["id"], values)
    return Checked({**subscription, **values}, status, message)


def state_in_words(row: dict) -> str:
    """How a subscription stands, for the page: a sentence, not a status code."""
    status = row["status"]
    if status == "gone":
        return "The feed is gone (the server answered 410 Gone): paused."
    if row["paused"]:
        return "Paused: not checked until resumed."
    if status == "new":
        return "Not checked yet."
    if status == "failed":
        times = "once" if row["failures"] == 1 else f"{row['failures']} times in a row"
        return f"The last check failed ({times}): checks are spaced out until it works again."
    if status == "waiting":
        return "The server asked to wait (429 or 503): the next check waits as long."
    if status == "updated":
        return "Working: the last check brought new articles."
    return "Working: nothing new at the last check."


def _is_feed(fetched: Fetched) -> bool:
    return fetched.content_type in FEED_TYPES or looks_like_feed(fetched.data)
