"""Full-text search as a reader of Romanian expects it: diacritics optional (tara finds Țara,
si finds și and şi), words matched by their stem (România finds României), the word being
typed matched as a prefix. Any input is safe: the query is rebuilt from its words alone.

The index (articles_search) holds each article's words as Snowball stems, written by SQL
triggers through the webreader_stems() function that open connections register.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser

from markupsafe import Markup, escape

from webreader.stems import WORD, fold, stem

MAX_QUERY_WORDS = 12
SNIPPET_WORDS = 28
MIN_PREFIX = 2

# Query words are stemmed for each of these, so a query finds articles in any of them.
QUERY_LANGUAGES = ("ro", "en")


def _letter_variants() -> dict[str, str]:
    """For each base letter, a regex class of the Latin letters that fold to it (t: tțţť...)."""
    groups: dict[str, set[str]] = {}
    # ASCII letters, Latin-1 and Latin Extended-A, and ș ț with the comma below: small classes
    # keep the pattern quick to compile and to run.
    latin = [range(0x41, 0x5B), range(0x61, 0x7B), range(0xC0, 0x180), range(0x218, 0x21C)]
    for code in (c for block in latin for c in block):
        ch = chr(code)
        base = fold(ch)
        if len(base) == 1 and base.isalpha():
            groups.setdefault(base, {base}).update({ch, ch.casefold()})
    return {base: "[" + "".join(sorted(chars)) + "]" for base, chars in groups.items()}


_VARIANTS = _letter_variants()


def _loose(stem_text: str) -> str:
    """A regex for the stem that ignores case and diacritics: 'tar' matches 'Țăr'."""
    return "".join(_VARIANTS.get(ch, re.escape(ch)) for ch in stem_text)


@dataclass(frozen=True)
class Query:
    """A parsed search: each word's stems (any may match), the last one also as a prefix."""

    text: str
    words: tuple[frozenset[str], ...]
    prefix: str | None
    # The indexed words the prefix starts (articles.complete_word), asked for instead of a
    # prefix query when known.
    completions: tuple[str, ...] | None = None

    @property
    def fts(self) -> str:
        """The FTS5 query: built only from quoted word stems, so no input is syntax."""
        parts = []
        for i, stems in enumerate(self.words):
            alternatives = [f'"{s}"' for s in sorted(stems)]
            if i == len(self.words) - 1 and self.prefix:
                if self.completions is None:
                    alternatives.append(f'"{self.prefix}"*')
                else:
                    quoted = (
                        f'"{word.replace(chr(34), chr(34) * 2)}"' for word in self.completions
                    )
                    alternatives += sorted(set(quoted) - set(alternatives))
            parts.append("(" + " OR ".join(alternatives) + ")")
        return " AND ".join(parts)

    @cached_property
    def candidates(self) -> re.Pattern[str]:
        """Words that may match: those starting with a stem (a cheap first pass; matches()
        decides). Stemming every word of every result would be far slower."""
        stems = {s for stems in self.words for s in stems}
        if self.prefix:
            stems.add(self.prefix)
        alternatives = "|".join(_loose(s) for s in sorted(stems, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})\w*", re.IGNORECASE)

    def find(self, text: str, lang: str | None):
        """The words of text that match, as regex matches, in order."""
        return (m for m in self.candidates.finditer(text) if self.matches(m.group(), lang))

    def matches(self, word: str, lang: str | None) -> bool:
        """Whether a word of an article (in lang) is one the query asked for."""
        folded = fold(word)
        stemmed = stem(word, lang)
        for i, stems in enumerate(self.words):
            if stemmed in stems or folded in stems:
                return True
            if i == len(self.words) - 1 and self.prefix and folded.startswith(self.prefix):
                return True
        return False


def parse_query(text: str, languages: tuple[str, ...] = QUERY_LANGUAGES) -> Query | None:
    """The query's words, or None when it has none (only punctuation, say)."""
    text = text[:2000]
    words = WORD.findall(text)[:MAX_QUERY_WORDS]
    if not words:
        return None
    parsed = tuple(
        frozenset({fold(w)} | {stem(w, lang) for lang in languages}) - {""} for w in words
    )
    # The word still being typed (no space after it yet) also matches as a prefix, once it
    # has MIN_PREFIX letters: one letter would match nearly every word of every article.
    typing = not text[-1:].isspace()
    prefix = fold(words[-1]) if typing and len(fold(words[-1])) >= MIN_PREFIX else None
    return Query(text=text, words=parsed, prefix=prefix)


def highlight(text: str, query: Query | None, lang: str | None) -> Markup:
    """Plain text, escaped, with the query's words in <mark>."""
    if query is None:
        return escape(text)
    out = []
    last = 0
    for match in query.find(text, lang):
        out.append(escape(text[last : match.start()]))
        out.append(Markup("<mark>{}</mark>").format(match.group()))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def snippet(text: str, query: Query, lang: str | None) -> Markup:
    """A short passage around the first matching word, highlighted."""
    hit = next(query.find(text, lang), None)
    if hit is None:
        return Markup("")
    # About a third of the passage before the first match, the rest after it.
    before_words = list(WORD.finditer(text, max(hit.start() - 200, 0), hit.start()))
    after_words = list(WORD.finditer(text, hit.start(), hit.start() + 600))
    lead = before_words[-(SNIPPET_WORDS // 3) :] if before_words else []
    begin_at = lead[0].start() if lead else hit.start()
    tail = after_words[: SNIPPET_WORDS - len(lead)]
    end_at = tail[-1].end() if tail else hit.end()
    passage = highlight(text[begin_at:end_at], query, lang)
    before = "… " if begin_at > 0 else ""
    after = " …" if end_at < len(text) else ""
    return Markup("{}{}{}").format(before, passage, after)


class _TextMarker(HTMLParser):
    """Sanitized HTML again, with <mark> around the query's words in its text nodes.

    Tags are written out as they came (attribute values included, whatever they hold);
    text is decoded, searched, and escaped again; comments and declarations, which
    sanitized HTML does not have, are dropped. So nothing but <mark> is added."""

    def __init__(self, query: Query, lang: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.query = query
        self.lang = lang
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.out.append(self.get_starttag_text() or "")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        last = 0
        for match in self.query.find(data, self.lang):
            self.out.append(_escape_text(data[last : match.start()]))
            self.out.append(f"<mark>{_escape_text(match.group())}</mark>")
            last = match.end()
        self.out.append(_escape_text(data[last:]))


def _escape_text(text: str) -> str:
    """Text as HTML text: &, < and > escaped (quotes need not be, outside attributes)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def highlight_html(html: str, query: Query | None, lang: str | None) -> Markup:
    """Sanitized HTML with the query's words marked in its text, never inside a tag or an
    attribute value (a title="…bucuresti…" stays as it is): the HTML is parsed, and only
    its text nodes are searched (see _TextMarker)."""
    if query is None:
        return Markup(html)
    marker = _TextMarker(query, lang)
    marker.feed(str(html))  # a plain str: Markup's methods would escape what they are given
    marker.close()
    return Markup("".join(marker.out))
