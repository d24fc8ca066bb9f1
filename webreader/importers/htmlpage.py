"""Saved web pages: the main article extracted by trafilatura, with its metadata.

trafilatura was chosen over readability-lxml after both ran on the pages in
tests/fixtures/pages: it also returns author, date, canonical URL and lead image, left out
the "latest news" list, the "read also" block and the calls to action, and decoded a
Windows-1250 page that declared no charset, where readability-lxml produced mojibake.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import trafilatura
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from webreader.importers.base import ArticleDraft, InvalidInput
from webreader.text import detect_language, title_key

# No guessing a date from a copyright line: an unknown date is stored as unknown.
_DATE_OPTIONS = {"extensive_search": False, "original_date": True}
_FIRST_H1 = re.compile(r"^\s*(?:<html>\s*<body>\s*)?(<h1>(.*?)</h1>)", re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def looks_like_html(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head


def _iso_date(value: str | None) -> str | None:
    try:
        return dt.date.fromisoformat(value[:10]).isoformat() if value else None
    except ValueError:
        return None


def parse_html(data: bytes, *, url: str | None = None) -> ArticleDraft:
    """The page's main article as an article dict; raises InvalidInput if there is none."""
    tree = load_html(data)
    if tree is None:
        raise InvalidInput("not an HTML page we can read")
    metadata = extract_metadata(tree, default_url=url, date_config=_DATE_OPTIONS)
    page_lang = (tree.get("lang") or "").split("-")[0].lower() or None
    body = trafilatura.extract(
        tree,
        url=url,
        output_format="html",
        include_images=True,
        include_formatting=True,
        include_links=True,
        include_tables=True,
        include_comments=False,
        favor_precision=True,
        date_extraction_params=_DATE_OPTIONS,
    )
    if not body:
        raise InvalidInput("no article found in the page")
    title = (metadata.title or "").strip()
    heading = _FIRST_H1.match(body)
    if heading:
        # The page's own headline: it is the title, shown above the body already.
        headline = _TAGS.sub("", heading.group(2)).strip()
        title = title or headline
        if title_key(headline) == title_key(title):
            body = body[: heading.start(1)] + body[heading.end(1) :]
    if not title:
        raise InvalidInput("no title: the page has neither a <title> nor a headline")
    text = _TAGS.sub(" ", body)
    article: dict[str, Any] = {
        "kind": "article",
        "title": title,
        "summary": metadata.description,
        "source": metadata.sitename,
        "lang": page_lang or detect_language(f"{title}\n{text}"),
        "published": _iso_date(metadata.date),
        "html": body,
        "author": metadata.author,
        "url": metadata.url or url,
        "image": metadata.image,
    }
    return ArticleDraft(article)
