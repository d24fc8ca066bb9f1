"""Words as the search index holds them: Snowball stems (PyStemmer), folded to lower case
without diacritics. The index's SQL triggers call index_text() through the webreader_stems()
function every connection registers (db.py); queries stem their words the same way
(search.py)."""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import threading
import unicodedata

import Stemmer

WORD = re.compile(r"\w+")
# The index's tokenizer: words are runs of letters and digits, lower case, without diacritics.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
# ISO 639-1 code -> Snowball algorithm name, for the languages PyStemmer has.
SNOWBALL = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
_local = threading.local()  # PyStemmer's stemmers are not thread-safe: one set per thread


def _stemmer(lang: str | None) -> Stemmer.Stemmer | None:
    name = SNOWBALL.get(lang or "")
    if name is None:
        return None
    stemmers = _local.__dict__.setdefault("stemmers", {})
    if name not in stemmers:
        stemmers[name] = Stemmer.Stemmer(name)
    return stemmers[name]


@functools.cache
def _without_marks() -> dict[int, None]:
    """str.translate's table deleting every combining mark: one C-level pass over a text,
    where a generator testing each character cost a millisecond an article."""
    return {cp: None for cp in range(0x110000) if unicodedata.combining(chr(cp))}


def fold(word: str) -> str:
    """Lower case without diacritics: how the index's tokenizer compares words."""
    return unicodedata.normalize("NFKD", word.casefold()).translate(_without_marks())


def stem(word: str, lang: str | None) -> str:
    stemmer = _stemmer(lang)
    lower = word.casefold()
    return fold(stemmer.stemWord(lower) if stemmer else lower)


@functools.lru_cache(maxsize=16)  # the triggers ask for a text's stems, then for its terms
def index_text(text: str | None, lang: str | None) -> str:
    """The words of a text as stems, space separated: what articles_search stores.
    (Its tokenizer drops the diacritics, on the way in and in queries alike.)"""
    if not text:
        return ""
    words = WORD.findall(text.casefold())
    stemmer = _stemmer(lang)
    return " ".join(stemmer.stemWords(words) if stemmer else words)


# What FTS5's unicode61 tokenizer takes for a word: letters and digits.
_TOKEN = re.compile(r"[^\W_]+")


@functools.cache
def _folded_alike() -> frozenset[str]:
    """The characters fold() folds as the index's tokenizer does, asked of SQLite's own
    tokenizer (an in-memory table: no library involved). Most letters agree; superscripts,
    ligatures, full-width forms and some scripts do not."""
    candidates = [chr(c) for c in range(0x30, 0x3000) if chr(c).isalnum()]
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{FTS_TOKENIZE}')")
        probe.executemany(
            "INSERT INTO t (rowid, x) VALUES (?, ?)",
            [(i, f"q{ch}q") for i, ch in enumerate(candidates)],
        )
        probe.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, t, instance)")
        tokens = dict(probe.execute("SELECT doc, term FROM temp.v"))
    finally:
        probe.close()
    return frozenset(ch for i, ch in enumerate(candidates) if tokens.get(i) == f"q{fold(ch)}q")


def index_terms(text: str | None, lang: str | None) -> str:
    """The distinct words the index holds for a text, folded as its tokenizer folds them,
    each with whether fold() is sure to agree with the tokenizer on it (1) or not (0): JSON
    [[word, sure], ...], what the search_terms table learns from each article (db.py), so
    that a word being typed can be completed without reading the index's lists."""
    alike = _folded_alike()
    terms = {t: all(ch in alike for ch in t) for t in _TOKEN.findall(index_text(text, lang))}
    folded: dict[str, int] = {}
    for token, sure in terms.items():
        word = fold(token)
        folded[word] = min(folded.get(word, 1), int(sure))
    return json.dumps(sorted(folded.items()))


def index_term(token: str) -> tuple[str, int]:
    """A word as the index holds it (from fts5vocab), as search_terms keeps it."""
    return fold(token), int(all(ch in _folded_alike() for ch in token))
