"""The article's body in a saved page, chosen per page among what extractors find.

trafilatura in its precision mode is right on most pages (it is webreader's first choice, see
htmlpage.py), and wrong in two ways that its own fallbacks and two other extractors show up:

- It keeps too much when the article shares its box with comments, teasers or menus whose
  class names it does not know (they are not in English, say). readability-lxml then keeps a
  clearly shorter part of the same text: the blocks it left out are dropped from
  trafilatura's body, which keeps its headings, lists, tables and figures.
- It keeps too little when the article is split over several boxes (pages of a long review,
  sections of a component CMS, paragraphs in bare divs). jusText then finds a much longer
  text that holds all of it, and that longer text is taken, unless what it adds is a comment
  thread or a row of teasers: many sibling boxes built alike, each with a paragraph or two.
  (jusText has no stop words for Chinese, Japanese or Korean: those pages keep trafilatura's.)

Every rule compares texts of the same page; none knows a site.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

import trafilatura
from lxml.html import HtmlElement, fromstring, tostring
from trafilatura.baseline import basic_cleaning
from trafilatura.external import try_justext, try_readability
from trafilatura.utils import load_html

from webreader.text import title_key

# readability's text is "clearly shorter" between these shares of trafilatura's...
SHORTER = (0.3, 0.8)
# ...and a text holds another when it has at least this share of its words.
HOLDS = 0.95
# A longer candidate is taken from this many times trafilatura's length.
LONGER = 1.4
# A comment thread or a row of teasers: at least this many sibling boxes of one kind, each
# with at most this many paragraphs of prose.
REPEATED_BOXES = 4
BOX_PARAGRAPHS = 2
PROSE_WORDS = 15  # a paragraph of prose has at least this many words
# Pages with more blocks than this keep trafilatura's body (news articles have hundreds).
MAX_BLOCKS = 5000
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "figcaption")

# readability-lxml logs at warning level for the pages it finds nothing in.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

_OPTIONS = {
    "output_format": "html",
    "include_images": True,
    "include_formatting": True,
    "include_links": True,
    "include_tables": True,
    "include_comments": False,
}


# Chinese, Japanese and Korean are written without spaces between words.
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def words(text: str) -> list[str]:
    """Lower-case words; each CJK character counts as one."""
    text = text.casefold()
    return CJK.findall(text) + CJK.sub(" ", text).split()


def text_of(element: HtmlElement) -> str:
    """An element's text, its pieces a space apart: <p>one.</p><p>Two</p> is two words."""
    return " ".join(" ".join(element.itertext()).split())


def words_upto(element: HtmlElement, limit: int) -> int:
    """How many words element holds, counting no further than limit."""
    count = 0
    for piece in element.itertext():
        count += len(words(piece))
        if count >= limit:
            return count
    return count


def _body_text(html: str) -> str:
    return text_of(fromstring(html))


def _holds(outer: str, inner: str) -> float:
    """The share of inner's words that outer has too (as many times)."""
    a, b = Counter(words(inner)), Counter(words(outer))
    return sum((a & b).values()) / max(sum(a.values()), 1)


def trafilatura_body(data: bytes, url: str | None, **mode) -> str | None:
    tree = load_html(data)
    if tree is None:
        return None
    return trafilatura.extract(tree, url=url, **_OPTIONS, **mode)


def _readability(data: bytes) -> str | None:
    found = try_readability(load_html(data))
    return tostring(found, encoding="unicode") if len(found) else None


def _justext(data: bytes, lang: str | None) -> str | None:
    found = try_justext(basic_cleaning(load_html(data)), None, lang)
    return tostring(found, encoding="unicode") if len(found) else None


def choose(
    data: bytes, url: str | None, precise: str, lang: str | None, page: HtmlElement
) -> tuple[str, str]:
    """The body to keep, and which rule chose it ("precision", "pruned by readability" or
    "jusText"), from trafilatura's precise body and the others' texts. A page beyond
    MAX_BLOCKS blocks keeps trafilatura's: the comparisons would cost more than a page."""
    precise_text = _body_text(precise)
    size = len(words(precise_text)) or 1
    if sum(1 for _ in page.iter(*_BLOCKS, "div")) > MAX_BLOCKS:
        return precise, "precision"
    shorter = _readability(data)
    if shorter:
        text = _body_text(shorter)
        share = len(words(text)) / size
        if SHORTER[0] <= share <= SHORTER[1] and _holds(precise_text, text) >= HOLDS:
            return _keep_blocks_in(precise, shorter), "pruned by readability"
    longer = _justext(data, lang)
    if longer:
        text = _body_text(longer)
        if (
            len(words(text)) >= LONGER * size
            and _holds(text, precise_text) >= HOLDS
            and not _mostly_repeated_boxes(longer, precise, page)
        ):
            return longer, "jusText"
    return precise, "precision"


def _keep_blocks_in(html: str, other: str) -> str:
    """html without the blocks whose text the other extractor's body left out: those that
    are neither one of its blocks nor part of its text."""
    other_doc = fromstring(other)
    blocks = {text_of(e).casefold() for e in other_doc.iter(*_BLOCKS, "div")}
    kept = text_of(other_doc).casefold()
    doc = fromstring(html)
    for element in list(doc.iter(*_BLOCKS)):
        text = text_of(element).casefold()
        if text and text not in blocks and text not in kept and element.getparent() is not None:
            element.drop_tree()
    return tostring(doc, encoding="unicode")


def _mostly_repeated_boxes(longer: str, precise: str, page: HtmlElement) -> bool:
    """Whether what the longer body adds stands mostly in a comment thread or a row of
    teasers: sibling boxes of one tag and class, many of them, each with a paragraph or two
    of prose and something beside it. The pages of a long review are a few boxes with many
    paragraphs each."""
    have = {title_key(text_of(e)) for e in fromstring(precise).iter(*_BLOCKS)}
    added = [
        text
        for text in (text_of(e) for e in fromstring(longer).iter(*_BLOCKS))
        if len(words(text)) >= PROSE_WORDS and title_key(text) not in have
    ]
    if not added:
        return False
    # Where each paragraph of the page is: its block, or a div that holds the text itself.
    where: dict[str, HtmlElement] = {}
    for element in page.iter(*_BLOCKS, "div"):
        text = _own_text(element) if element.tag == "div" else text_of(element)
        if len(words(text)) >= PROSE_WORDS:
            where.setdefault(title_key(text), element)
    boxes = _repeated_boxes(page)
    in_boxes = sum(
        len(words(text))
        for text in added
        if (element := where.get(title_key(text))) is not None
        and any(a in boxes for a in [element, *element.iterancestors()])
    )
    return in_boxes >= 0.5 * sum(len(words(t)) for t in added)


def _own_text(element: HtmlElement) -> str:
    return " ".join(" ".join(element.xpath("text()")).split())


def _repeated_boxes(page: HtmlElement) -> set[HtmlElement]:
    """The page's comment- and teaser-shaped boxes (_is_box) that come many alike: at least
    REPEATED_BOXES siblings of one tag and class, most of them boxes. One pass."""
    found: set[HtmlElement] = set()
    for parent in page.iter():
        kinds: dict[tuple, list[HtmlElement]] = {}
        for child in parent:
            if isinstance(child.tag, str):
                kinds.setdefault((child.tag, child.get("class")), []).append(child)
        for alike in kinds.values():
            if len(alike) >= REPEATED_BOXES and sum(map(_is_box, alike)) >= 0.75 * len(alike):
                found.update(alike)
    return found


def _is_box(element: HtmlElement) -> bool:
    """A paragraph or two of prose with something beside it (a name, a date, a headline):
    a comment or a teaser, where a paragraph of an article is its text alone."""
    prose = 0
    prose_words = 0
    for e in element.iter():
        if not isinstance(e.tag, str):
            continue
        n = len(words(_own_text(e)))
        if n >= PROSE_WORDS:
            prose += 1
            prose_words += n
            if prose > BOX_PARAGRAPHS:
                return False
    return prose >= 1 and words_upto(element, prose_words + 1) > prose_words
