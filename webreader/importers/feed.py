"""RSS and Atom feeds (feedparser): each entry becomes an article when the feed carries its
full text, else a teaser (headline, summary, link) that a later import of the page replaces."""

from __future__ import annotations

import datetime as dt
from typing import Any

import feedparser

from webreader.importers.base import InvalidInput
from webreader.sanitize import MarkupTooLarge
from webreader.text import detect_language

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/xml",
        "text/xml",
        "application/rdf+xml",
        "application/feed+json",
    }
)
# Content shorter than this is a summary, whatever the feed calls it.
MIN_FULL_TEXT_CHARS = 600


def looks_like_feed(data: bytes) -> bool:
    head = data[:1024].lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def _date(entry: Any) -> str | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    try:
        return dt.date(*parsed[:3]).isoformat() if parsed else None
    except (TypeError, ValueError):
        return None


MAX_SOURCE_CHARS = 200


def parse_feed(data: bytes, *, url: str | None = None) -> tuple[str | None, list[dict[str, Any]]]:
    """The feed's title and its entries as article dicts (kind 'article' or 'teaser')."""
    feed = feedparser.parse(data, response_headers={"content-location": url} if url else None)
    if not feed.entries:
        if feed.bozo:
            raise InvalidInput(f"not a feed we can read: {feed.bozo_exception}")
        raise InvalidInput("the feed has no entries")
    # A feed's name, on one line and of a name's length (a feed may send megabytes).
    source = " ".join((feed.feed.get("title") or "").split())[:MAX_SOURCE_CHARS] or None
    feed_lang = (feed.feed.get("language") or "").split("-")[0].lower() or None
    entries = []
    for entry in feed.entries:
        title = (entry.get("title") or "").strip()
        if not title:
            continue
        content = max((c.get("value", "") for c in entry.get("content", [])), key=len, default="")
        summary = entry.get("summary", "")
        full = len(content) >= MIN_FULL_TEXT_CHARS
        try:
            summary_text = None if full else feedparser_text(summary)
        except MarkupTooLarge as exc:
            raise InvalidInput(f"entry {title[:80]!r}, its summary: {exc}") from exc
        entries.append(
            {
                "kind": "article" if full else "teaser",
                "title": title,
                "summary": summary_text,
                "source": source,
                "lang": feed_lang or detect_language(f"{title}\n{content or summary}"),
                "published": _date(entry),
                "html": content if full else "",
                "author": entry.get("author"),
                "url": entry.get("link"),
                "image": None,
            }
        )
    if not entries:
        raise InvalidInput("no entry of the feed has a title")
    return source, entries


def feedparser_text(html: str) -> str | None:
    """A summary as plain text (feeds put markup in them)."""
    from webreader.sanitize import clean_html, html_to_text

    return html_to_text(clean_html(html)) or None
