"""What every importer shares: the error that names why an input cannot be imported, and
turning bytes into text whatever their encoding."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any

from charset_normalizer import from_bytes

from webreader.text import language_confidence

MAX_PROPOSALS = 8


@dataclass
class ArticleDraft:
    """What every importer makes of one input: the article (the articles table's columns,
    its HTML not yet cleaned), teasers from a list of latest headlines, and warnings."""

    article: dict[str, Any]
    teasers: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    how: str | None = None  # for a web page: which extractor's text the body is (candidates.py)


class InvalidInput(ValueError):
    """The input cannot be imported; the message says why, for a person."""


def decode_text(data: bytes) -> tuple[str, str | None]:
    """The text of a file and, when it was not UTF-8, the encoding it was read as.

    UTF-8 (with or without a byte-order mark) is taken as it is. Otherwise charset-normalizer
    proposes encodings; on short Romanian text it ranks Windows-1252 first (mojibake:
    'Þarã ºi oraº'), so of its proposals we keep the one the language model reads most
    surely: Windows-1250, ISO-8859-2 and ISO-8859-16 Romanian come out right, and French in
    Windows-1252 stays French. Binary data and empty files are refused.
    """
    if not data.strip():
        raise InvalidInput("the file is empty" if not data else "the file holds only whitespace")
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidInput("this is a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
        if not text.strip():  # a byte-order mark and whitespace
            raise InvalidInput("the file holds only whitespace")
        return text, None
    except UnicodeDecodeError as exc:
        proposals = list(from_bytes(data))[:MAX_PROPOSALS]
        if not proposals:
            raise InvalidInput(
                f"not text in any encoding we know (byte 0x{data[exc.start]:02x} "
                f"at offset {exc.start})"
            ) from exc
        best = max(proposals, key=lambda match: language_confidence(str(match)))
        return str(best), best.encoding
