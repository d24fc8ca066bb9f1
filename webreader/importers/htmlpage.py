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

from lxml.html import HtmlElement, fromstring
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from webreader.importers import candidates
from webreader.importers.base import ArticleDraft, InvalidInput
from webreader.text import detect_language, title_key

# No guessing a date from a copyright line: an unknown date is stored as unknown.
_DATE_OPTIONS = {"extensive_search": False, "original_date": True}
_H1 = re.compile(r"<h1>(.*?)</h1>", re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


# A headline, as a link says it: at least this many words (or CJK characters, which are
# written without spaces). Menus and tags are shorter.
HEADLINE_WORDS = 4
HEADLINE_CJK_CHARS = 10
# The extracted text is a listing, not an article, when at least this share of its words are
# in links, or belong to the page's cards (a headline link with its teaser, in a small box)...
LISTING_SHARE = 0.5
# ...and at least this many of its blocks do. (A page with fewer headline links is never a
# listing: an article's "read also" and "most read" boxes are not enough.)
LISTING_MIN_HEADLINES = 8
# ...or when the page links this many headlines and the extractor found only a few words (a
# teaser line or a banner), the way it does on a page with no article.
LISTING_PAGE_HEADLINES = 10
LISTING_FEW_WORDS = 60
# A card: the smallest box around a headline link that holds more than the link, and at most
# this many words (a teaser, a date). An article's body around a "read also" link is larger.
CARD_WORDS = 80
CARD_LEVELS = 3
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "blockquote")


def cjk_words(text: str) -> list[str]:
    """The words of a text, each CJK character one (those scripts put no spaces between)."""
    return _CJK.findall(text) + _CJK.sub(" ", text).split()


def _words(text: str) -> int:
    return len(cjk_words(text))


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _headline_links(tree: HtmlElement) -> list[HtmlElement]:
    """The page's links that read like headlines: to another page (not #a-part-of-this-one),
    long enough not to be a menu item or a tag. One per headline."""
    found: dict[str, HtmlElement] = {}
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip().lower()
        text = _text(link)
        if not text or href.startswith(("#", "javascript:")):
            continue
        if len(_CJK.findall(text)) >= HEADLINE_CJK_CHARS or len(text.split()) >= HEADLINE_WORDS:
            found.setdefault(title_key(text), link)
    return list(found.values())


def _card_texts(headlines: list[HtmlElement]) -> set[str]:
    """The texts (as title keys) of the page's cards: each headline, and the blocks of the
    smallest box around it that holds more than the headline (its teaser, its date)."""
    found = set()
    for link in headlines:
        found.add(title_key(_text(link)))
        box, link_words = link, _words(_text(link))
        for _ in range(CARD_LEVELS):
            box = box.getparent()
            if box is None:
                break
            words = _words(_text(box))
            if words > CARD_WORDS:
                break
            if words > link_words:
                found.update(title_key(_text(el)) for el in box.iter(*_BLOCKS, "div", "span"))
                break
    return found


def _is_listing(body: str, headlines: list[HtmlElement]) -> bool:
    """Whether what the extractor kept is a list of headlines rather than an article: mostly
    links, or mostly the page's cards (headlines, teasers), or a few stray words on a page
    full of headlines. Decided by the evidence of each page, not by its site."""
    if len(headlines) < LISTING_MIN_HEADLINES:
        return False
    doc = fromstring(body)
    total = _words(doc.text_content())
    if not total:
        return True
    linked = sum(_words(a.text_content()) for a in doc.iter("a"))
    if linked / total >= LISTING_SHARE:
        return True
    cards = _card_texts(headlines)
    blocks = [text for text in (_text(el) for el in doc.iter(*_BLOCKS)) if text]
    listed = [_words(text) for text in blocks if title_key(text) in cards]
    if len(listed) >= LISTING_MIN_HEADLINES and sum(listed) / total >= LISTING_SHARE:
        return True
    return len(headlines) >= LISTING_PAGE_HEADLINES and total < LISTING_FEW_WORDS


def _stated_title(tree: HtmlElement, sitename: str | None) -> str | None:
    """The article's title as the page states it for sharing (og:title, twitter:title),
    unless that is only the site's name."""
    for value in tree.xpath(
        "//meta[@property='og:title' or @name='og:title' or @name='twitter:title']/@content"
    ):
        value = " ".join(value.split())
        if value and (not sitename or title_key(value) != title_key(sitename)):
            return value
    return None


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
    body = candidates.trafilatura_body(
        data, url, favor_precision=True, date_extraction_params=_DATE_OPTIONS
    )
    if not body:
        raise InvalidInput("no article found in the page")
    headlines = _headline_links(tree)
    if _is_listing(body, headlines):
        raise InvalidInput(
            f"this page lists {len(headlines)} headlines with little text of its own (a front "
            "or section page, or a list of links), not an article: import the articles' own "
            "pages, or the site's feed"
        )
    body, how = candidates.choose(data, url, body, page_lang, tree)
    title = (metadata.title or "").strip()
    heading = _H1.search(body)
    if heading:
        # The page's own headline (after a breadcrumb or a date line, maybe): it is the
        # title, shown above the body already. It wins over a metadata title the publisher
        # did not state for this article (no og:title: <title>, or the site's logo heading).
        headline = _TAGS.sub("", heading.group(1)).strip()
        if headline and not _stated_title(tree, metadata.sitename):
            title = headline
        title = title or headline
        if title_key(headline) == title_key(title):
            body = body[: heading.start()] + body[heading.end() :]
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
    return ArticleDraft(article, how=how)
