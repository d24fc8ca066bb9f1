"""Near-identical stories: the same text arriving again from another file or address.

Each article's text gets a MinHash signature (datasketch) over its word 4-grams. The
signature is cut into bands that SQLite indexes (locality-sensitive hashing), so finding
candidates is a lookup, not a scan of the library; a candidate whose signatures agree on
at least SIMILAR of their values is the same story.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

from webreader.stems import WORD, fold

NUM_PERM = 128
BANDS = 32  # of 4 values each: pairs above about 0.5 Jaccard similarity become candidates
ROWS = NUM_PERM // BANDS
SIMILAR = 0.9  # estimated Jaccard similarity of word 4-grams: near-identical
SHINGLE_WORDS = 4
MIN_WORDS = 40  # shorter texts (teasers, briefs) are too short to call duplicates


@functools.cache
def _permutations():
    # datasketch is imported on first use: the server only needs it when something is saved.
    from datasketch import MinHash

    template = MinHash(num_perm=NUM_PERM, seed=1)
    return MinHash, template.permutations, template.scheme


def signature(text: str | None) -> np.ndarray | None:
    """The text's MinHash values, or None for a text too short to call a duplicate. Made
    where an article is prepared (a worker process, before the write transaction) and
    passed to articles.save_entry()."""
    return _sign(text)


def _sign(text: str | None) -> np.ndarray | None:
    words = WORD.findall(fold(text or ""))
    if len(words) < MIN_WORDS:
        return None
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS]).encode()
        for i in range(len(words) - SHINGLE_WORDS + 1)
    }
    minhash_class, permutations, scheme = _permutations()
    minhash = minhash_class(num_perm=NUM_PERM, seed=1, permutations=permutations, scheme=scheme)
    minhash.update_batch(list(shingles))
    return minhash.hashvalues.astype(np.uint64)


def bands(values: np.ndarray) -> list[str]:
    return [
        hashlib.blake2b(values[b * ROWS : (b + 1) * ROWS].tobytes(), digest_size=8).hexdigest()
        for b in range(BANDS)
    ]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def to_blob(values: np.ndarray) -> bytes:
    return values.astype("<u8").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8")
