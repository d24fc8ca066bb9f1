"""Near-identical stories: the same text arriving again from another file or address.

Each article's text gets a MinHash signature (rensa's R-MinHash, in Rust) over its word
4-grams. The signature is cut into bands that SQLite indexes (locality-sensitive hashing),
so finding candidates is a lookup, not a scan of the library; a candidate whose signatures
agree on at least SIMILAR of their values is the same story.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
from collections.abc import Sequence

from rensa import RMinHash

from webreader.stems import CACHED_WORD_CHARS, WORD, fold

NUM_PERM = 128
SEED = 1
BANDS = 32  # of 4 values each: pairs above about 0.5 Jaccard similarity become candidates
ROWS = NUM_PERM // BANDS
SIMILAR = 0.9  # estimated Jaccard similarity of word 4-grams: near-identical
# Signatures that agree on SIMILAR of their values differ in at most 12 of them, so at most
# 12 bands differ: a candidate sharing fewer bands cannot be near-identical, and is not even
# fetched. (Most candidates share a single band: a phrase that many articles repeat.)
MIN_SHARED_BANDS = BANDS - (NUM_PERM - math.ceil(SIMILAR * NUM_PERM))
SHINGLE_WORDS = 4
MIN_WORDS = 40  # shorter texts (teasers, briefs) are too short to call duplicates
# Values are 32-bit; stored little-endian, four bytes each.
_PACK = struct.Struct(f"<{NUM_PERM}I")
_BAND = struct.Struct(f"<{ROWS}I")


def signature(text: str | None) -> list[int] | None:
    """The text's MinHash values, or None for a text too short to call a duplicate. Made
    where an article is prepared (a worker process, before the write transaction) and
    passed to articles.save_entry()."""
    return _sign(text)


def _sign(text: str | None) -> list[int] | None:
    words = _words(text or "")
    if len(words) < MIN_WORDS:
        return None
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    }
    minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(list(shingles))
    return minhash.digest()


# Folding is done a piece (between spaces) at a time, through a cache of the short pieces:
# most words of an article were seen before, and folding a whole text at once took half a
# millisecond. (Long pieces, a sentence of Chinese say, rarely repeat: they are not kept.)
_fold_cached = functools.lru_cache(maxsize=2**16)(fold)


def _fold_piece(piece: str) -> str:
    return _fold_cached(piece) if len(piece) <= CACHED_WORD_CHARS else fold(piece)


def _words(text: str) -> list[str]:
    """The words of the folded text: WORD.findall(fold(text)), as fold works a character
    (and its combining marks) at a time."""
    return WORD.findall(" ".join(map(_fold_piece, text.split())))


def bands(values: Sequence[int]) -> list[str]:
    return [
        hashlib.blake2b(_BAND.pack(*values[b * ROWS : (b + 1) * ROWS]), digest_size=8).hexdigest()
        for b in range(BANDS)
    ]


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / NUM_PERM


def to_blob(values: Sequence[int]) -> bytes:
    return _PACK.pack(*values)


def from_blob(blob: bytes) -> tuple[int, ...]:
    return _PACK.unpack(blob)
