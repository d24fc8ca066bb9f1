"""Full-text search as a reader of Romanian expects it: diacritics optional (tara finds Țara,
si finds și and şi), words matched by their stem (România finds României), the word being
typed matched as a prefix. Any input is safe: the query is rebuilt from its words alone.

The index (articles_search) holds each article's words as Snowball stems, written by SQL
triggers through the webreader_stems() function that open connections register.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

import Stemmer
from markupsafe import Markup, escape

WORD = re.compile(r"\w+")
MAX_QUERY_WORDS = 12
SNIPPET_WORDS = 28

# ISO 639-1 code -> Snowball algorithm name, for the languages PyStemmer has.
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech",
    "da": "danish", "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian",
    "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi",
    "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "no": "norwegian", "fa": "persian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish",
    "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
# Query words are stemmed for each of these, so a query finds articles in any of them.
QUERY_LANGUAGES = ("ro", "en")

_local = threading.local()  # PyStemmer's stemmers are not thread-safe: one set per thread


def _stemmer(lang: str | None) -> Stemmer.Stemmer | None:
    name = SNOWBALL.get(lang or "")
    if name is None:
        return None
    stemmers = _local.__dict__.setdefault("stemmers", {})
    if name not in stemmers:
        stemmers[name] = Stemmer.Stemmer(name)
    return stemmers[name]


def fold(word: str) -> str:
    """Lower case without diacritics: how the index's tokenizer compares words."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str, lang: str | None) -> str:
    stemmer = _stemmer(lang)
    lower = word.casefold()
    return fold(stemmer.stemWord(lower) if stemmer else lower)


def index_text(text: str | None, lang: str | None) -> str:
    """The words of a text as stems, space separated: what articles_search stores."""
    if not text:
        return ""
    words = WORD.findall(text.casefold())
    stemmer = _stemmer(lang)
    if stemmer:
        words = stemmer.stemWords(words)
    return " ".join(fold(w) for w in words)


@dataclass(frozen=True)
class Query:
    """A parsed search: each word's stems (any may match), the last one also as a prefix."""

    text: str
    words: tuple[frozenset[str], ...]
    prefix: str | None

    @property
    def fts(self) -> str:
        """The FTS5 query: built only from quoted word stems, so no input is syntax."""
        parts = []
        for i, stems in enumerate(self.words):
            alternatives = [f'"{s}"' for s in sorted(stems)]
            if i == len(self.words) - 1 and self.prefix:
                alternatives.append(f'"{self.prefix}"*')
            parts.append("(" + " OR ".join(alternatives) + ")")
        return " AND ".join(parts)

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
    # The word still being typed (no space after it yet) also matches as a prefix.
    typing = not text[-1:].isspace()
    prefix = fold(words[-1]) if typing else None
    return Query(text=text, words=parsed, prefix=prefix)


def highlight(text: str, query: Query | None, lang: str | None) -> Markup:
    """Plain text, escaped, with the query's words in <mark>."""
    if query is None:
        return escape(text)
    out = []
    last = 0
    for match in WORD.finditer(text):
        if query.matches(match.group(), lang):
            out.append(escape(text[last : match.start()]))
            out.append(Markup("<mark>{}</mark>").format(match.group()))
            last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def snippet(text: str, query: Query, lang: str | None) -> Markup:
    """A short passage around the first matching word, highlighted."""
    words = list(WORD.finditer(text))
    first = next((i for i, m in enumerate(words) if query.matches(m.group(), lang)), None)
    if first is None:
        return Markup("")
    start = max(first - SNIPPET_WORDS // 3, 0)
    end = min(start + SNIPPET_WORDS, len(words) - 1)
    begin_at = words[start].start()
    end_at = words[end].end()
    passage = highlight(text[begin_at:end_at], query, lang)
    before = "… " if begin_at > 0 else ""
    after = " …" if end_at < len(text) else ""
    return Markup("{}{}{}").format(before, passage, after)


_TAG_OR_ENTITY = re.compile(r"(<[^>]*>|&[#\w]+;)")


def highlight_html(html: str, query: Query | None, lang: str | None) -> Markup:
    """Sanitized HTML with the query's words marked in its text (never inside tags).

    Safe because clean_html() output escapes every < and > that is not a tag, so tags
    and entities can be split off exactly; only <mark> elements are added.
    """
    if query is None:
        return Markup(html)
    out = []
    for part in _TAG_OR_ENTITY.split(html):
        if not part or part.startswith("<") or (part.startswith("&") and part.endswith(";")):
            out.append(part)
            continue
        last = 0
        for match in WORD.finditer(part):
            if query.matches(match.group(), lang):
                out.append(part[last : match.start()])
                out.append(f"<mark>{match.group()}</mark>")
                last = match.end()
        out.append(part[last:])
    return Markup("".join(out))
