"""The same story from another file or address updates one article instead of adding one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from webreader import duplicates
from webreader.db import open_db
from webreader.importers.pipeline import import_file
from webreader.importers.textdump import load_rules
from webreader.stems import WORD, fold

STORY = " ".join(
    f"Propoziția {i} a articolului spune ceva despre energie, Kazahstan și uraniu, iar "
    f"autorul adaugă detalii noi în fiecare rând."
    for i in range(40)
)
OTHER = " ".join(
    f"Rândul {i} povestește despre meciul de fotbal de aseară, golurile marcate și "
    f"reacțiile antrenorilor după fluierul final."
    for i in range(12)
)


def _jaccard(a: str, b: str) -> float:
    """The true similarity the signatures estimate: of word 4-grams."""

    def shingles(text: str) -> set[str]:
        words = WORD.findall(fold(text))
        return {" ".join(words[i : i + 4]) for i in range(len(words) - 3)}

    return len(shingles(a) & shingles(b)) / len(shingles(a) | shingles(b))


def dump(tmp_path, name: str, title: str, body: str):
    path = tmp_path / name
    path.write_text(f"{title}\n📅 2024-11-27\n\n{body}\n", encoding="utf-8")
    return path


def test_near_identical_text_under_another_title_updates_one_article(tmp_path):
    db = open_db(tmp_path / "d.db")
    first = import_file(db, dump(tmp_path, "a.txt", "Uraniul din Kazahstan", STORY), load_rules())
    # Another site's copy: another title, a word changed, a sentence added. Far enough above
    # the threshold (true similarity 0.96: three standard deviations of an estimate from 128
    # values) that the answer does not depend on the hash functions.
    copy = STORY.replace("autorul adaugă", "autorul pune", 1) + " Actualizare: ministerul confirmă."
    assert _jaccard(STORY, copy) > duplicates.SIMILAR + 0.06
    second = import_file(
        db, dump(tmp_path, "b.txt", "Kazahstan: uraniu pentru Europa", copy), load_rules()
    )
    assert first.status == "imported"
    assert second.status == "updated"
    assert second.article_id == first.article_id
    assert db["articles"].count == 1
    assert "ministerul confirmă" in db["articles"].get(first.article_id)["text"]


def test_a_different_story_is_a_new_article(tmp_path):
    db = open_db(tmp_path / "d.db")
    import_file(db, dump(tmp_path, "a.txt", "Uraniul din Kazahstan", STORY), load_rules())
    other = import_file(db, dump(tmp_path, "c.txt", "Fotbal", OTHER), load_rules())
    assert other.status == "imported"
    assert db["articles"].count == 2


def test_short_texts_are_not_called_duplicates(tmp_path):
    db = open_db(tmp_path / "d.db")
    import_file(db, dump(tmp_path, "a.txt", "Scurt unu", "Vremea de mâine: ploi."), load_rules())
    second = import_file(
        db, dump(tmp_path, "b.txt", "Scurt doi", "Vremea de mâine: ploi."), load_rules()
    )
    assert second.status == "imported"
    assert db["articles"].count == 2


def test_signatures_of_an_older_library_are_made_again_when_it_is_migrated(tmp_path):
    """datasketch's signatures (64-bit values, other numbers) give way to rensa's."""
    db = open_db(tmp_path / "d.db")
    first = import_file(db, dump(tmp_path, "a.txt", "Uraniul din Kazahstan", STORY), load_rules())
    db.execute("UPDATE article_signatures SET signature = zeroblob(1024)")
    db.execute("DELETE FROM article_bands")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'sign_again_with_rensa'")
    db.conn.commit()
    db.close()

    db = open_db(tmp_path / "d.db")
    (blob,) = db.execute("SELECT signature FROM article_signatures").fetchone()
    assert duplicates.from_blob(blob) == tuple(duplicates.signature(STORY))
    assert db.execute("SELECT count(*) FROM article_bands").fetchone()[0] == duplicates.BANDS
    copy = STORY.replace("autorul adaugă", "autorul pune", 1)
    again = import_file(db, dump(tmp_path, "b.txt", "Alt titlu", copy), load_rules())
    assert again.status == "updated" and again.article_id == first.article_id


# Letters with marks, compatibility forms (ﬁ, ™, ①, ¨), and every kind of space.
_TRICKY = st.text(
    st.sampled_from("aăâîșşțţ AÅé\u0301\u0306 ßẞİﬁ™①¨ʼ·–-’\u00a0\u2028\u3000\n\tКйё1_")
    | st.characters(),
    max_size=60,
)


@given(_TRICKY)
def test_words_are_those_of_the_whole_text_folded(text):
    """Folding a piece at a time (cached) gives the words folding the whole text gives."""
    assert duplicates._words(text) == WORD.findall(fold(text))


@given(
    st.lists(st.integers(0, 2**32 - 1), min_size=duplicates.NUM_PERM, max_size=duplicates.NUM_PERM),
    # Differences one to a band (the worst case: each breaks a band), and a few more.
    st.sets(st.integers(0, duplicates.BANDS - 1), max_size=16),
    st.integers(0, duplicates.ROWS - 1),
    st.sets(st.integers(0, duplicates.NUM_PERM - 1), max_size=8),
    st.sets(st.integers(0, duplicates.NUM_PERM - 1), max_size=20),
)
def test_a_stored_signature_is_found_exactly_when_it_is_similar_enough(
    base, bands, row, more, other
):
    """Candidates sharing fewer than MIN_SHARED_BANDS bands are never fetched: that loses
    no stored article whose signature agrees on SIMILAR of its values, however the
    differences fall across the bands. (A bystander shares a band or two with the text.)"""
    from conftest import article_row
    from webreader import articles

    changed = {band * duplicates.ROWS + row for band in bands} | more
    stored = [v ^ 1 if i in changed else v for i, v in enumerate(base)]
    bystander = [v if i in other else v ^ 2 for i, v in enumerate(base)]
    db = open_db(":memory:")
    for n, values in enumerate([stored, bystander], start=1):
        db["articles"].insert(article_row(n))
        articles._store_signature(db, n, values)
    found = articles._find_near_duplicate(db, base)
    expected = duplicates.similarity(base, stored) >= duplicates.SIMILAR
    assert (found is not None and found["id"] == 1) == expected
