"""From file to stored rows: idempotence, updates, teasers replaced, one transaction a file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import ROOT
from webreader import articles
from webreader.db import open_db
from webreader.importers.pipeline import find_files, import_file
from webreader.importers.textdump import load_rules

sys.path.insert(0, str(ROOT / "bench"))
import generate


@pytest.fixture
def db(db_path):
    database = open_db(db_path)
    yield database
    database.close()


def rows(db) -> list[dict]:
    return list(db.query("SELECT * FROM articles ORDER BY id"))


def write_dump(path: Path, title: str, body: str, date: str = "2024-11-28") -> Path:
    path.write_text(f"{title}\n📅 {date}\n\n{body}\n", encoding="utf-8")
    return path


def test_sample_is_stored_as_one_article_and_nine_teasers(db):
    stored = rows(db)
    assert [r["kind"] for r in stored] == ["article"] + ["teaser"] * 9
    article = stored[0]
    assert article["lang"] == "ro"
    assert article["source"] == "PRO TV"
    assert article["published"] == "2024-11-27"
    assert article["slug"].startswith("vladimir-putin-in-vizita-la-adevaratul-sau-aliat-tara")
    assert article["text"].startswith("Pe agenda liderului de la Kremlin")
    assert "<" not in article["text"]
    assert article["source_path"].endswith("stiri-protv-2024-11-27-putin-kazahstan.txt")
    assert len(article["content_hash"]) == 64
    assert article["imported_at"] and article["updated_at"]


def test_importing_the_same_file_twice_adds_nothing(db, sample_path):
    before = rows(db)
    result = import_file(db, sample_path, load_rules())
    assert result.status == "unchanged"
    assert result.teasers == 0
    assert rows(db) == before


def test_a_corrected_version_updates_the_article(db, tmp_path, sample_path):
    original = sample_path.read_text(encoding="utf-8")
    copy = tmp_path / sample_path.name
    copy.write_text(original, encoding="utf-8")
    first = import_file(db, copy, load_rules())
    assert first.status == "unchanged"  # same story, already stored from the fixture

    copy.write_text(original.replace("43% din uraniul", "42% din uraniul"), encoding="utf-8")
    result = import_file(db, copy, load_rules())
    assert result.status == "updated"
    assert result.article_id == first.article_id
    assert db["articles"].count == 10
    stored = articles.get_article(db, result.article_id)
    assert "42% din uraniul" in stored["text"]
    assert "43% din uraniul" not in stored["html"]


def test_a_corrected_title_in_the_same_file_updates_the_article(tmp_path):
    db = open_db(tmp_path / "t.db")
    dump = write_dump(tmp_path / "a.txt", "Titlu cu greșeală", "Textul articolului.")
    first = import_file(db, dump, load_rules())
    write_dump(dump, "Titlu corectat", "Textul articolului.")
    second = import_file(db, dump, load_rules())
    assert (first.status, second.status) == ("imported", "updated")
    assert second.article_id == first.article_id
    assert [r["title"] for r in rows(db)] == ["Titlu corectat"]


def test_a_full_article_replaces_its_teaser(db, tmp_path):
    teaser = next(r for r in rows(db) if r["title"].startswith("Explozie puternică"))
    assert teaser["kind"] == "teaser"
    # The same headline, spelled with cedillas and other spacing, still matches.
    title = teaser["title"].replace("ț", "ţ").replace(" din ", "  din ")
    dump = write_dump(tmp_path / "explozie.txt", title, "O explozie a zguduit blocul.")
    result = import_file(db, dump, load_rules())
    assert result.status == "imported"
    assert result.article_id == teaser["id"]
    assert db["articles"].count == 10
    stored = articles.get_article(db, teaser["id"])
    assert stored["kind"] == "article"
    assert stored["text"] == "O explozie a zguduit blocul."


def test_a_teaser_never_replaces_a_full_article(db, tmp_path):
    article = rows(db)[0]
    dump = tmp_path / "other.txt"
    dump.write_text(
        "Altă știre\n\nAlt text.\n\nUltimele stiri protv\n\n"
        f"{article['title']}\n\nUn alt rezumat.\n",
        encoding="utf-8",
    )
    assert import_file(db, dump, load_rules()).status == "imported"
    stored = articles.get_article(db, article["id"])
    assert stored == article


def test_a_failing_write_leaves_nothing_half_written(tmp_path, sample_path, monkeypatch):
    db = open_db(tmp_path / "t.db")
    real_save = articles._save
    calls = []

    def failing_save(db, row, existing, values):
        calls.append(row["title"])
        if len(calls) == 5:
            raise RuntimeError("disk full")
        return real_save(db, row, existing, values)

    monkeypatch.setattr(articles, "_save", failing_save)
    with pytest.raises(RuntimeError):
        import_file(db, sample_path, load_rules())
    assert db["articles"].count == 0
    assert db.execute("SELECT count(*) FROM articles_search").fetchone()[0] == 0


def test_bad_file_fails_without_touching_the_database(db, tmp_path):
    before = rows(db)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    result = import_file(db, bad, load_rules())
    assert result.status == "failed"
    assert "binary" in result.error
    assert rows(db) == before


def test_unreadable_path_is_a_failed_result(db, tmp_path):
    result = import_file(db, tmp_path / "missing.txt", load_rules())
    assert result.status == "failed"
    assert result.error


def test_folders_are_searched_recursively_for_dumps(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ["z.txt", "a/x.TXT", "a/b/y.txt", "a/notes.md"]:
        (tmp_path / name).write_text("t", encoding="utf-8")
    named = tmp_path / "a" / "notes.md"
    found = list(find_files([tmp_path, named]))
    assert found == [
        tmp_path / "a" / "b" / "y.txt",
        tmp_path / "a" / "x.TXT",
        tmp_path / "z.txt",
        named,
    ]


def test_search_index_follows_inserts_and_updates(db, tmp_path):
    def search(term):
        return [
            r["rowid"]
            for r in db.query(
                "SELECT rowid FROM articles_search WHERE articles_search MATCH ? ORDER BY rowid",
                [term],
            )
        ]

    # The index holds Snowball stems without diacritics: "Țara" is "tar", "uraniul" "uran".
    assert search("tar") == [1]
    assert search("uran") == [1]
    dump = write_dump(tmp_path / "x.txt", "Un titlu nou", "Despre wolfram, nu uraniu.")
    new_id = import_file(db, dump, load_rules()).article_id
    assert search("wolfr") == [new_id]
    write_dump(tmp_path / "x.txt", "Un titlu nou", "Despre molibden.")
    import_file(db, dump, load_rules())
    assert search("wolfr") == []
    assert search("molibden") == [new_id]


def test_importing_with_worker_processes_gives_the_same_library(tmp_path):
    """--jobs: files prepared in other processes, written here in order: the same results,
    the same rows, failures and feeds included."""
    from conftest import SAMPLE
    from webreader.importers.pipeline import PARALLEL_MIN_FILES, import_sources

    folder = tmp_path / "dumps"
    generate.write_dumps(folder, PARALLEL_MIN_FILES + 5)
    (folder / "zz-empty.txt").write_bytes(b"")
    feed = ROOT / "tests" / "fixtures" / "feeds"
    sources = [*sorted(folder.iterdir()), SAMPLE, *sorted(feed.glob("*.xml"))[:1]]
    libraries = {}
    for jobs in (0, 1, 2):  # 0: a file at a time, its stems worked out in the writer
        db = open_db(tmp_path / f"jobs-{jobs}.db")
        imported = (
            import_sources(db, sources, load_rules(), jobs=jobs)
            if jobs
            else ((s, import_file(db, s, load_rules())) for s in sources)
        )
        results = [(str(s), r.status, r.article_id, r.error) for s, r in imported]
        rows = list(db.query("SELECT * FROM articles ORDER BY id"))
        for row in rows:
            del row["imported_at"], row["updated_at"]
        # The search index itself, every word at every place (its triggers used the stems
        # the workers worked out, stems.work_out), and the words completion knows.
        db.execute(
            "CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, articles_search, instance)"
        )
        index = db.execute("SELECT * FROM temp.words ORDER BY 1, 2, 3, 4").fetchall()
        terms = db.execute("SELECT * FROM search_terms ORDER BY 1, 2").fetchall()
        libraries[jobs] = (results, rows, index, terms)
        db.close()
    assert len(libraries[0][2]) > 10_000
    assert libraries[0] == libraries[1] == libraries[2]
    results = libraries[2][0]
    assert [r[1] for r in results].count("failed") == 1
    assert len(results) == len(sources) and Path(results[-1][0]).suffix == ".xml"


def test_files_written_together_are_kept_up_to_the_one_that_fails(tmp_path, monkeypatch):
    """Prepared files share a transaction (FILES_PER_TRANSACTION), each in its own
    savepoint: when one cannot be stored, those before it stay and the error is raised."""
    from webreader.importers.pipeline import import_sources

    paths = generate.write_dumps(tmp_path / "dumps", 4)
    save = articles.save_dump

    def failing(db, article, *args):
        if article["source_path"] == str(paths[2].resolve()):
            save(db, article, *args)  # written, then undone with its savepoint
            raise OSError("disk full")
        return save(db, article, *args)

    monkeypatch.setattr(articles, "save_dump", failing)
    db = open_db(tmp_path / "library.db")
    stored = []
    with pytest.raises(OSError, match="disk full"):
        for source, result in import_sources(db, paths, load_rules()):
            stored.append((source, result.status))
    assert stored == [(paths[0], "imported"), (paths[1], "imported")]
    kept = [row[0] for row in db.execute("SELECT source_path FROM articles WHERE kind = 'article'")]
    assert kept == [str(p.resolve()) for p in paths[:2]]
    assert not db.conn.in_transaction


def test_a_transaction_sqlite_rolls_back_reports_none_of_its_files(tmp_path):
    """A full disk or an I/O error makes SQLite roll back the whole transaction, savepoints
    and all: none of the files written together may then be reported as imported."""
    from webreader.importers.pipeline import import_sources

    paths = generate.write_dumps(tmp_path / "dumps", 4)
    db = open_db(tmp_path / "library.db")
    third = str(paths[2].resolve()).replace("'", "''")
    db.execute(
        "CREATE TEMP TRIGGER fail AFTER INSERT ON articles "
        f"WHEN new.source_path = '{third}' BEGIN SELECT RAISE(ROLLBACK, 'disk I/O error'); END"
    )
    reported = []
    with pytest.raises(Exception, match="disk I/O error"):
        for source, result in import_sources(db, paths, load_rules()):
            reported.append((source, result.status))
    assert reported == []
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    assert not db.conn.in_transaction


def test_files_prepared_before_an_unexpected_error_are_stored(tmp_path, monkeypatch):
    """Preparing a file fails in a way no file should (a bug): those prepared before it
    are stored and reported, then the error stops the import."""
    from webreader.importers import pipeline

    paths = generate.write_dumps(tmp_path / "dumps", 4)
    prepare = pipeline._prepare_file

    def failing(path, rules):
        if path == paths[2]:
            raise RuntimeError("a bug")
        return prepare(path, rules)

    monkeypatch.setattr(pipeline, "_prepare_file", failing)
    db = open_db(tmp_path / "library.db")
    reported = []
    with pytest.raises(RuntimeError, match="a bug"):
        for source, result in pipeline.import_sources(db, paths, load_rules()):
            reported.append((source, result.status))
    assert reported == [(paths[0], "imported"), (paths[1], "imported")]
    kept = [row[0] for row in db.execute("SELECT source_path FROM articles WHERE kind = 'article'")]
    assert kept == [str(p.resolve()) for p in paths[:2]]
