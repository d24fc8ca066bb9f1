"""Boilerplate learned from repetition: a paragraph found in many articles of one source
(ads, calls to action, "read also" blocks) is not article text, even when no rule names it.

Counts are kept per source and paragraph fingerprint as articles are saved; the body is
split when an article is shown, so a paragraph that becomes common later leaves earlier
articles too. The reader sees what was set aside and can put it back.
"""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from typing import NamedTuple

from webreader.text import normalize_spelling

# A paragraph in at least this many articles of the same source is boilerplate
# (WEBREADER_BOILERPLATE_THRESHOLD; 0 turns the learning off).
DEFAULT_THRESHOLD = 5
MIN_WORDS = 2
_NEWLINE = re.compile("\n")


class _Blocks(HTMLParser):
    """Top-level elements of sanitized HTML, as (start, end) offsets and their text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        # Where each line starts, as HTMLParser.getpos() counts lines: at "\n" only
        # (str.splitlines() also breaks at U+2028, U+0085, form feeds...).
        self.line_starts = [0] + [m.end() for m in _NEWLINE.finditer(html)]
        self.depth = 0
        self.blocks: list[tuple[int, int, str]] = []
        self._start = 0
        self._text: list[str] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("br", "hr", "img"):
            return
        if self.depth == 0:
            self._start = self._offset()
            self._text = []
        self.depth += 1

    def handle_endtag(self, tag) -> None:
        if tag in ("br", "hr", "img"):
            return
        self.depth -= 1
        if self.depth == 0:
            end = self.html.index(">", self._offset()) + 1
            self.blocks.append((self._start, end, "".join(self._text)))

    def handle_data(self, data) -> None:
        if self.depth:
            self._text.append(data)


def blocks(html: str) -> list[tuple[int, int, str]]:
    parser = _Blocks(html)
    parser.feed(html)
    parser.close()
    return parser.blocks


class Paragraph(NamedTuple):
    """A top-level element of an article's HTML: where it is, and its fingerprint."""

    start: int
    end: int
    print: str | None


def fingerprint(text: str) -> str | None:
    """The same paragraph, however it is spaced, quoted or spelled (ş or ș), has one print."""
    normalized = normalize_spelling(text).casefold()
    if normalized.count(" ") + 1 < MIN_WORDS:  # words are one space apart now
        return None
    return hashlib.sha1(normalized.encode()).hexdigest()[:16]


def paragraphs(html: str) -> list[Paragraph]:
    return [Paragraph(start, end, fingerprint(text)) for start, end, text in blocks(html)]


def to_json(found: list[Paragraph]) -> str:
    """Paragraphs as the articles table keeps them (its `paragraphs` column), made when the
    article is saved, so that opening it does not parse and respell its HTML again."""
    return json.dumps([list(p) for p in found], separators=(",", ":"))


def of_article(html: str, stored: str | None) -> list[Paragraph]:
    """An article's paragraphs: as stored with it, or found again (rows saved before the
    column existed)."""
    if stored:
        return [Paragraph(*p) for p in json.loads(stored)]
    return paragraphs(html)


def fingerprints(found: list[Paragraph]) -> set[str]:
    return {p.print for p in found if p.print}


def split(html: str, found: list[Paragraph], common: set[str]) -> tuple[str, list[str]]:
    """The body without its common paragraphs, and those paragraphs (as HTML). `found` is
    paragraphs(html): an article opened is parsed once."""
    if not common:
        return html, []
    kept, removed, last = [], [], 0
    for start, end, print_ in found:
        if print_ in common:
            kept.append(html[last:start])
            removed.append(html[start:end])
            last = end
    kept.append(html[last:])
    return "".join(kept), removed
