"""Words as the search index holds them: Snowball stems (PyStemmer), folded to lower case
without diacritics. The index's SQL triggers call index_text() through the webreader_stems()
function every connection registers (db.py); queries stem their words the same way
(search.py)."""

from __future__ import annotations

import functools
import json
import re
import threading
import unicodedata

import Stemmer

WORD = re.compile(r"\w+")
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


def index_terms(text: str | None, lang: str | None) -> str:
    """The distinct words the index holds for a text (folded as its tokenizer folds them),
    as a JSON array: what the search_terms table learns from each article (db.py), so that
    a word being typed can be completed without reading the index's lists."""
    return json.dumps(sorted({fold(t) for t in _TOKEN.findall(index_text(text, lang))}))
