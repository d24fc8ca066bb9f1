"""Saved web pages: the main article extracted by trafilatura, with its metadata.

trafilatura was chosen over readability-lxml after both ran on the pages in
tests/fixtures/pages: it also returns author, date, canonical URL and lead image, left out
the "latest news" list, the "read also" block and the calls to action, and decoded a
Windows-1250 page that declared no charset, where readability-lxml produced mojibake.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from typing import Any

from lxml.html import HtmlElement, fromstring, tostring
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from webreader.importers import candidates
from webreader.importers.base import ArticleDraft, InvalidInput
from webreader.importers.candidates import CJK, text_of, words, words_upto
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
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "blockquote")
# Links in these are the site's, not the page's: menus, "most read" boxes, footers.
_AROUND = ("nav", "aside", "footer", "header")
# The body's <h1> is the article's headline when fewer words than this come before it.
HEADLINE_BEFORE_WORDS = 30


def _words(text: str) -> int:
    return len(words(text))


def _headline_links(tree: HtmlElement) -> list[HtmlElement]:
    """The page's links that read like headlines: to another page (not #a-part-of-this-one),
    long enough not to be a menu item or a tag, and not in the site's menus, boxes beside
    the article or footer. One per headline."""
    found: dict[str, HtmlElement] = {}
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip().lower()
        site = next(link.iterancestors(*_AROUND), None) is not None
        if site or href.startswith(("#", "javascript:")):
            continue
        text = text_of(link)
        if len(CJK.findall(text)) >= HEADLINE_CJK_CHARS or len(text.split()) >= HEADLINE_WORDS:
            found.setdefault(title_key(text), link)
    return list(found.values())


def _card_texts(headlines: list[HtmlElement]) -> set[str]:
    """The texts (as title keys) of the page's cards: each headline, and the blocks of the
    smallest box around it that holds more than the headline (its teaser, its date)."""
    found = set()
    for link in headlines:
        found.add(title_key(text_of(link)))
        box, link_words = link, _words(text_of(link))
        for _ in range(CARD_LEVELS):
            box = box.getparent()
            if box is None:
                break
            # Counted up to the limit only: a box of a thousand links is not read a
            # thousand times over.
            size = words_upto(box, CARD_WORDS + 1)
            if size > CARD_WORDS:
                break
            if size > link_words:
                found.update(title_key(text_of(el)) for el in box.iter(*_BLOCKS, "div", "span"))
                break
    return found


def _is_listing(body: str, headlines: list[HtmlElement], says_article: bool) -> bool:
    """Whether what the extractor kept is a list of headlines rather than an article: mostly
    links, or mostly the page's cards (headlines, teasers), or a few stray words on a page
    full of headlines (unless the page says it is an article: og:type). Decided by the
    evidence of each page, not by its site."""
    if len(headlines) < LISTING_MIN_HEADLINES:
        return False
    doc = fromstring(body)
    total = _words(text_of(doc))
    if not total:
        return not says_article
    linked = sum(_words(text_of(a)) for a in doc.iter("a"))
    if linked / total >= LISTING_SHARE:
        return True
    cards = _card_texts(headlines)
    blocks = [text for text in (text_of(el) for el in doc.iter(*_BLOCKS)) if text]
    listed = [_words(text) for text in blocks if title_key(text) in cards]
    if len(listed) >= LISTING_MIN_HEADLINES and sum(listed) / total >= LISTING_SHARE:
        return True
    # A brief (the page says it is an article) may be short beside many headlines.
    return (
        not says_article and len(headlines) >= LISTING_PAGE_HEADLINES and total < LISTING_FEW_WORDS
    )


def _without_headline(body: str, headline: str) -> str:
    """The body without its first heading or paragraph (of the first few) that says the
    headline: it is shown above the body as the title."""
    doc = fromstring(body)
    key = title_key(headline)
    for element in itertools.islice(doc.iter("h1", "h2", "h3", "p"), 5):
        if title_key(text_of(element)) == key and element.getparent() is not None:
            element.drop_tree()
            return tostring(doc, encoding="unicode")
    return body


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
    says_article = (metadata.pagetype or "").lower() == "article"
    if _is_listing(body, headlines, says_article):
        raise InvalidInput(
            f"this page lists {len(headlines)} headlines with little text of its own (a front "
            "or section page, or a list of links), not an article: import the articles' own "
            "pages, or the site's feed"
        )
    # The headline is looked for in trafilatura's body, which keeps headings (jusText's
    # does not), then taken out of whichever body is kept.
    heading = _H1.search(body)
    if heading and _words(_TAGS.sub(" ", body[: heading.start()])) >= HEADLINE_BEFORE_WORDS:
        heading = None  # a heading further down the article, not its headline
    body, how = candidates.choose(data, url, body, page_lang, tree)
    title = (metadata.title or "").strip()
    if heading:
        # The page's own headline (after a breadcrumb or a date line, maybe): it is the
        # title, shown above the body already. It wins over a metadata title the publisher
        # did not state for this article (no og:title: <title>, or the site's logo heading).
        headline = " ".join(html.unescape(_TAGS.sub("", heading.group(1))).split())
        if headline and not _stated_title(tree, metadata.sitename):
            title = headline
        title = title or headline
        if title_key(headline) == title_key(title):
            body = _without_headline(body, headline)
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
