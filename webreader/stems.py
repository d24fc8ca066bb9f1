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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

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


# What the index's triggers will ask for the texts of the rows about to be written, worked
# out ahead (by an import's worker processes): (text, lang) -> (stems, terms). Filled for
# one transaction and emptied after it (worked_out()); every key gives the value it would
# have computed, so a thread that finds one there is never misled.
_worked_out: dict[tuple[str, str | None], tuple[str, tuple[str, str]]] = {}


def work_out(texts: Iterable[tuple[str | None, str | None]]) -> dict:
    """Stems and terms of (text, lang) pairs, where they can be computed before the
    transaction that stores them: in a worker process, on another core than the writer's."""
    return {(text, lang): (_stems(text, lang), _index_terms(text, lang)) for text, lang in texts}


@contextmanager
def worked_out(ahead: dict) -> Iterator[None]:
    """The index's triggers use these (from work_out()) while the block writes."""
    _worked_out.update(ahead)
    try:
        yield
    finally:
        _worked_out.clear()


def index_text(text: str | None, lang: str | None) -> str:
    """The words of a text as stems, space separated: what articles_search stores.
    (Its tokenizer drops the diacritics, on the way in and in queries alike.)"""
    found = _worked_out.get((text, lang)) if text else None
    return found[0] if found else _stems(text, lang)


@functools.lru_cache(maxsize=16)  # the triggers ask for a text's stems, then for its terms
def _stems(text: str | None, lang: str | None) -> str:
    if not text:
        return ""
    words = WORD.findall(text.casefold())
    stemmer = _stemmer(lang)
    return " ".join(stemmer.stemWords(words) if stemmer else words)


# What FTS5's unicode61 tokenizer takes for a word: letters and digits.
_TOKEN = re.compile(r"[^\W_]+")


_probe_lock = threading.Lock()


@functools.cache
def _probe() -> sqlite3.Connection:
    """An in-memory FTS5 table with the index's tokenizer (no library involved), to ask how
    it spells a character."""
    probe = sqlite3.connect(":memory:", check_same_thread=False)
    probe.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{FTS_TOKENIZE}')")
    probe.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
    return probe


@functools.lru_cache(maxsize=4096)
def folds_alike(ch: str) -> bool:
    """Whether fold() spells a letter as the index's tokenizer does, asked of SQLite itself.
    Most letters agree; superscripts, ß, ligatures, full-width forms, й and accented Greek
    letters do not."""
    with _probe_lock:
        probe = _probe()
        probe.execute("DELETE FROM t")
        probe.execute("INSERT INTO t (x) VALUES (?)", [f"q{ch}q"])
        terms = [row[0] for row in probe.execute("SELECT term FROM v")]
    return terms == [f"q{fold(ch)}q"]


def index_terms(text: str | None, lang: str | None, exact: int) -> str:
    """The distinct words the index holds for a text, folded as its tokenizer folds them:
    those fold() is sure to spell as the tokenizer does (exact=1), or the others (exact=0),
    as a JSON array. What the search_terms table learns from each article (db.py), so that
    a word being typed can be completed without reading the index's lists."""
    found = _worked_out.get((text, lang)) if text else None
    return (found[1] if found else _index_terms(text, lang))[exact]


@functools.lru_cache(maxsize=16)  # asked for twice a text: its exact words, the others
def _index_terms(text: str | None, lang: str | None) -> tuple[str, str]:
    words = set(_stems(text, lang).split())
    tokens = {word for word in words if word.isalnum()}  # stems: letters and digits, mostly
    for word in words - tokens:
        tokens.update(_TOKEN.findall(word))
    terms = [index_term(token) for token in tokens]
    inexact = {word for word, exact in terms if not exact}
    # A word is exact when every token folding to it is (ß and ss both fold to ss, say).
    exact = {word for word, exact in terms if exact} - inexact
    return json.dumps(sorted(inexact)), json.dumps(sorted(exact))


# Words up to this long are kept in index_term's cache (65,536 of them): they repeat from
# article to article. Longer runs (a Chinese or Japanese sentence, which has no spaces, or
# an encoded blob) rarely repeat, and would make the cache's size a matter of the input.
CACHED_WORD_CHARS = 32


def index_term(token: str) -> tuple[str, int]:
    """A word of the index (a token, lower case), as search_terms keeps it: folded, and
    whether fold() is sure to spell it as the index does."""
    if len(token) > CACHED_WORD_CHARS:
        return _index_term.__wrapped__(token)
    return _index_term(token)


@functools.lru_cache(maxsize=65536)
def _index_term(token: str) -> tuple[str, int]:
    if token.isascii():  # letters and digits, already lower case: the tokenizer's spelling
        return token, 1
    return fold(token), int(all(ch.isascii() or folds_alike(ch) for ch in token))
