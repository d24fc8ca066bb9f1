"""The schema: applied on open, idempotent, WAL, full-text index with triggers."""

from __future__ import annotations

import sqlite3

import pytest

from webreader.db import FTS_TOKENIZE, migrations, open_db


def test_opening_creates_the_schema_once(tmp_path):
    path = tmp_path / "new.db"
    open_db(path).close()
    db = open_db(path)
    assert {"articles", "articles_search", "_sqlite_migrations"} <= set(db.table_names())
    assert [m.name for m in migrations.applied(db)] == [
        "create_articles",
        "add_read_state_and_settings",
        "add_stemmed_search_paging_and_generation",
        "add_author_url_and_image",
        "add_learned_boilerplate",
        "add_duplicate_signatures",
        "add_admin_sessions",
        "add_counts",
        "add_paragraphs_and_words",
        "add_search_terms",
        "sign_again_with_rensa",
        "bands_in_their_index",
        "add_subscriptions",
        "add_leases",
        "add_subscription_folders",
        "index_teaser_summaries",
        "add_watched_files",
        "add_feeds_and_categories",
        "add_api_keys",
    ]
    assert migrations.pending(db) == []


def test_an_older_database_is_upgraded_without_losing_articles(tmp_path, sample_path):
    import sqlite_utils

    from webreader.importers.pipeline import import_file
    from webreader.importers.textdump import load_rules

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="add_read_state_and_settings")
    old["articles"].insert_all(
        [
            {
                "kind": "article",
                "title": "Vechi",
                "title_key": "vechi",
                "slug": "vechi",
                "html": "<p>Text.</p>",
                "text": "Text.",
                "content_hash": "h",
                "imported_at": "2024-01-01T00:00:00+00:00",
                "updated_at": "2024-01-01T00:00:00+00:00",
            }
        ]
    )
    old.close()

    db = open_db(path)
    assert db["articles"].get(1)["title"] == "Vechi"
    assert {"read_at", "starred_at"} <= set(db["articles"].columns_dict)
    assert import_file(db, sample_path, load_rules()).status == "imported"
    assert db["articles"].count == 11


def test_database_uses_wal(tmp_path):
    db = open_db(tmp_path / "new.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_full_text_index_strips_diacritics_and_has_triggers(tmp_path):
    db = open_db(tmp_path / "new.db")
    assert FTS_TOKENIZE in db["articles_search"].schema
    triggers = {t.name: t.sql for t in db.triggers}
    assert {"articles_search_ai", "articles_search_ad", "articles_search_au"} <= set(triggers)
    # A read mark or a star must not re-index the article's text.
    assert "UPDATE OF title, text, lang" in triggers["articles_search_au"]
    assert "articles_fts" not in db.table_names()


def test_a_file_that_is_not_a_database_is_an_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database, just notes\n" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        open_db(path)
    assert path.read_text().startswith("not a database")
