"""Plain-text helpers shared by importers, storage and views: keys, language, slugs."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import re
import unicodedata

import pycld2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from slugify import slugify

# Romanian has two spellings of ș and ț: the correct comma below and the legacy
# cedilla that old keyboards and encodings produce. Titles must match either way.
# Quotes of every kind become straight ones.
_ONE_SPELLING = {"ş": "ș", "Ş": "Ș", "ţ": "ț", "Ţ": "Ț"}
_ONE_SPELLING |= {c: '"' for c in "„“”«»″"} | {c: "'" for c in "‘’‚‹›′"}
# A regular expression finds the few characters to replace; str.translate looked up every
# character of a paragraph in a dict (30 µs a paragraph, on the path of every article opened).
_RESPELL = re.compile("[" + "".join(_ONE_SPELLING) + "]")

# A steady adult reading speed for news prose; reading time is words / this, rounded up.
WORDS_PER_MINUTE = 220

# Below this many letters a language guess is noise; we store "unknown" instead.
MIN_LETTERS_FOR_LANGUAGE = 20
# The language shows in the first paragraphs; reading a whole article only costs time.
LANGUAGE_SAMPLE_CHARS = 1500
_LETTERS = re.compile(r"[^\W\d_]")
# CLD2 (pycld2) reads UTF-8 text and refuses control characters and lone surrogates.
# So does it the noncharacters (U+FDD0 to U+FDEF, and the last two of every plane).
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17)
)
_NOT_FOR_CLD2 = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff" + _NONCHARACTERS + "]"
)
# CLD2 keeps a few codes ISO 639-1 has since changed (Hebrew, Javanese).
_CLD2_CODES = {"iw": "he", "jw": "jv"}


def normalize_spelling(text: str) -> str:
    """NFC, comma-below ș/ț, straight quotes and single spaces: one spelling for one text."""
    text = _RESPELL.sub(lambda m: _ONE_SPELLING[m.group()], unicodedata.normalize("NFC", text))
    return " ".join(text.split())  # a regular expression took ten times as long


def title_key(title: str) -> str:
    """The key under which two headlines count as the same story.

    >>> title_key("Ţara  „noastră”") == title_key('țara "noastră"')
    True
    """
    return normalize_spelling(title).casefold()


def _classify(text: str) -> tuple[str | None, float]:
    """CLD2's most likely language of the text and its score (higher is surer; mojibake
    scores low). Characters CLD2 refuses (controls, lone surrogates) are left out first."""
    sample = _NOT_FOR_CLD2.sub(" ", text[:LANGUAGE_SAMPLE_CHARS])
    try:
        _reliable, _bytes, details = pycld2.detect(sample, bestEffort=True)
    except pycld2.error:
        return None, 0.0
    _name, code, _percent, score = details[0]
    code = _CLD2_CODES.get(code, code).split("-")[0]
    return (None, 0.0) if code == "un" else (code, score)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when there is too little text."""
    letters = _LETTERS.finditer(text, 0, LANGUAGE_SAMPLE_CHARS)
    if next(itertools.islice(letters, MIN_LETTERS_FOR_LANGUAGE - 1, None), None) is None:
        return None  # fewer than MIN_LETTERS_FOR_LANGUAGE letters
    return _classify(text)[0]


def language_confidence(text: str) -> float:
    """How surely the text reads as some language's: low for mojibake such as
    'Þarã ºi oraº', which is how a wrong encoding guess shows. Only compared, never shown."""
    return _classify(text)[1]


def make_slug(title: str) -> str:
    """A readable URL segment: 'Țara în care' -> 'tara-in-care'."""
    # One transliteration, named: "auto" looks for the unidecode package on every call (it
    # is not installed) before it takes text-unidecode, a tenth of a millisecond a title.
    slug = slugify(
        title, max_length=80, word_boundary=True, save_order=True, backend="text-unidecode"
    )
    return slug or "article"


def count_words(text: str) -> int:
    return len(text.split())


def reading_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


@functools.lru_cache(maxsize=4096)
def long_date(iso_date: str, lang: str | None) -> str:
    """A date as the article's language writes it: '27 noiembrie 2024' for Romanian.
    Kept for the days a sidebar shows again and again (babel takes 15 µs a date)."""
    try:
        date = dt.date.fromisoformat(iso_date)
    except ValueError:
        return iso_date  # not a date we wrote; show it as it is
    try:
        locale = Locale.parse(lang or "en")
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    return format_date(date, format="long", locale=locale)
