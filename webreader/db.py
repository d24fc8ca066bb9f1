"""The SQLite file: opening it, its schema as migrations, one connection per request."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app
from sqlite_utils.migrations import Migrations

from webreader.stems import FTS_TOKENIZE, index_term, index_terms, index_text

DEFAULT_DB = "articles.db"
BUSY_TIMEOUT_MS = 5000  # how long a writer waits for another's transaction to end

migrations = Migrations("webreader")
logger = logging.getLogger(__name__)


@migrations()
def create_articles(db: sqlite_utils.Database) -> None:
    """Articles and teasers share one table: a teaser is an article without its text yet."""
    db["articles"].create(
        {
            "id": int,
            "kind": str,  # 'article' or 'teaser'
            "title": str,
            "title_key": str,  # normalized title: how a teaser finds its full article
            "slug": str,
            "summary": str,
            "source": str,
            "lang": str,  # ISO 639-1, NULL when unknown
            "published": str,  # ISO date, NULL when unknown
            "html": str,  # sanitized body: the only column rendered unescaped
            "text": str,  # plain text of the body, for search and word counts
            "content_hash": str,
            "source_path": str,  # the file it was imported from
            "imported_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={
            "kind",
            "title",
            "title_key",
            "slug",
            "html",
            "text",
            "content_hash",
            "imported_at",
            "updated_at",
        },
        defaults={"html": "", "text": ""},
    )
    db["articles"].create_index(["title_key"])
    db["articles"].create_index(["source_path"])
    # The sidebar's order: newest first, undated last, then in import order.
    db.execute(
        "CREATE INDEX idx_articles_order ON articles (published IS NULL, published DESC, id)"
    )
    db["articles"].enable_fts(["title", "text"], tokenize=FTS_TOKENIZE, create_triggers=True)


@migrations()
def add_read_state_and_settings(db: sqlite_utils.Database) -> None:
    """Read and starred state per article; a settings table for what the app generates itself."""
    db["articles"].add_column("read_at", str)
    db["articles"].add_column("starred_at", str)
    db["settings"].create({"key": str, "value": str}, pk="key")


# Newest first, undated last, then in import order, as one integer an index can walk
# (keyset paging: WHERE sort_key < :last ORDER BY sort_key DESC).
SORT_KEY = (
    "(CASE WHEN published IS NULL THEN 0 ELSE CAST(julianday(published) AS INTEGER) END)"
    " * 10000000000 - id"
)


# What the search index's triggers run: a row's stems in, or out (the contentless index
# needs the old values to take a row out).
_STEMS = "webreader_stems({0}.title, {0}.lang), webreader_stems({0}.text, {0}.lang)"
_INDEX_ROW = (
    f"INSERT INTO articles_search(rowid, title, text) VALUES (new.id, {_STEMS.format('new')});"
)
_UNINDEX_ROW = (
    "INSERT INTO articles_search(articles_search, rowid, title, text) "
    f"VALUES ('delete', old.id, {_STEMS.format('old')});"
)


@migrations()
def add_stemmed_search_paging_and_generation(db: sqlite_utils.Database) -> None:
    """Search by Snowball stems, keyset paging, and a counter that names the library's state.

    articles_fts (plain words, re-indexed on every update, even a read mark) gives way to
    articles_search: stems written by triggers only when title, text or language change.
    """
    if db["articles"].detect_fts():
        db["articles"].disable_fts()
    insert, delete = _INDEX_ROW, _UNINDEX_ROW
    bump = "UPDATE library_state SET generation = generation + 1;"
    statements = [
        # prefix='2 3': the word being typed is matched as a prefix; these make it cheap.
        "CREATE VIRTUAL TABLE articles_search USING fts5(title, text, content='', "
        f"tokenize='{FTS_TOKENIZE}', prefix='2 3')",
        f"CREATE TRIGGER articles_search_ai AFTER INSERT ON articles BEGIN {insert} END",
        f"CREATE TRIGGER articles_search_ad AFTER DELETE ON articles BEGIN {delete} END",
        "CREATE TRIGGER articles_search_au AFTER UPDATE OF title, text, lang ON articles "
        f"BEGIN {delete} {insert} END",
        "INSERT INTO articles_search(rowid, title, text) "
        f"SELECT id, {_STEMS.format('articles')} FROM articles",
        "ALTER TABLE articles ADD COLUMN sort_key INTEGER "
        f"GENERATED ALWAYS AS ({SORT_KEY}) VIRTUAL",
        "DROP INDEX IF EXISTS idx_articles_order",
        "CREATE INDEX idx_articles_sort_key ON articles (sort_key)",
        "CREATE INDEX idx_articles_source ON articles (source, sort_key)",
        "CREATE INDEX idx_articles_unread ON articles (sort_key) WHERE read_at IS NULL",
        "CREATE INDEX idx_articles_starred ON articles (sort_key) WHERE starred_at IS NOT NULL",
        "CREATE TABLE library_state (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "generation INTEGER NOT NULL)",
        "INSERT INTO library_state VALUES (1, 0)",
        f"CREATE TRIGGER library_generation_ai AFTER INSERT ON articles BEGIN {bump} END",
        f"CREATE TRIGGER library_generation_au AFTER UPDATE ON articles BEGIN {bump} END",
        f"CREATE TRIGGER library_generation_ad AFTER DELETE ON articles BEGIN {bump} END",
    ]
    # One statement at a time: executescript() would commit the migration's transaction.
    for statement in statements:
        db.execute(statement)


@migrations()
def add_author_url_and_image(db: sqlite_utils.Database) -> None:
    """What web pages and feeds carry beyond a dump: author, the page's URL, a lead image."""
    for column in ("author", "url", "image"):
        db["articles"].add_column(column, str)
    db["articles"].create_index(["url"])


@migrations()
def add_learned_boilerplate(db: sqlite_utils.Database) -> None:
    """How many articles of each source hold each paragraph (boilerplate.py), and a flag
    for articles whose reader put the set-aside paragraphs back."""
    from webreader.boilerplate import fingerprints, paragraphs

    db["paragraph_counts"].create(
        {"source": str, "fingerprint": str, "articles": int},
        pk=("source", "fingerprint"),
        not_null={"source", "fingerprint", "articles"},
    )
    db["articles"].add_column("boilerplate_kept", int, not_null_default=0)
    counts: dict[tuple[str, str], int] = {}
    for row in db.query(
        "SELECT source, html FROM articles WHERE kind = 'article' AND source IS NOT NULL"
    ):
        for print_ in fingerprints(paragraphs(row["html"])):
            counts[(row["source"], print_)] = counts.get((row["source"], print_), 0) + 1
    db["paragraph_counts"].insert_all(
        {"source": s, "fingerprint": f, "articles": n} for (s, f), n in counts.items()
    )


@migrations()
def add_duplicate_signatures(db: sqlite_utils.Database) -> None:
    """MinHash signatures and their bands (duplicates.py), to find the same story again."""
    db.execute(
        "CREATE TABLE article_signatures (article_id INTEGER PRIMARY KEY "
        "REFERENCES articles(id) ON DELETE CASCADE, signature BLOB NOT NULL)"
    )
    db.execute(
        "CREATE TABLE article_bands (band INTEGER NOT NULL, bucket TEXT NOT NULL, "
        "article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE)"
    )
    db.execute("CREATE INDEX idx_article_bands ON article_bands (band, bucket)")
    db.execute("CREATE INDEX idx_article_bands_article ON article_bands (article_id)")
    _sign_articles(db)


def _sign_articles(db: sqlite_utils.Database) -> None:
    """Every stored article's signature and bands, made from its text."""
    from webreader.duplicates import bands, signature, to_blob

    for row in db.query("SELECT id, text FROM articles WHERE kind = 'article'"):
        values = signature(row["text"])
        if values is not None:
            db.execute("INSERT INTO article_signatures VALUES (?, ?)", [row["id"], to_blob(values)])
            db.conn.executemany(
                "INSERT INTO article_bands VALUES (?, ?, ?)",
                [(b, bucket, row["id"]) for b, bucket in enumerate(bands(values))],
            )


@migrations()
def add_admin_sessions(db: sqlite_utils.Database) -> None:
    """Admin logins kept on the server, so that logging out ends one for good: the cookie
    holds a random token, this table its hash. Deleting a row (log out, log out everywhere,
    a new password) moves the generation on, so no cached page made for it is replayed."""
    db.execute(
        "CREATE TABLE admin_sessions (token_hash TEXT PRIMARY KEY, created_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TRIGGER admin_sessions_ad AFTER DELETE ON admin_sessions "
        "BEGIN UPDATE library_state SET generation = generation + 1; END"
    )


def _count_changes(row: str, sign: str) -> tuple[str, str]:
    """SQL that adds (sign '+') or takes away ('-') one article row (`new` or `old`) from
    the library's counts and its source's."""
    unread, starred = f"({row}.read_at IS NULL)", f"({row}.starred_at IS NOT NULL)"
    library = (
        f"UPDATE library_state SET unread = unread {sign} {unread}, "
        f"starred = starred {sign} {starred};"
    )
    source = (
        "INSERT INTO source_counts (source, articles, unread, starred) "
        f"SELECT {row}.source, {sign}1, {sign}{unread}, {sign}{starred} "
        f"WHERE {row}.source IS NOT NULL ON CONFLICT (source) DO UPDATE SET "
        "articles = articles + excluded.articles, unread = unread + excluded.unread, "
        f"starred = starred + excluded.starred; DELETE FROM source_counts "
        f"WHERE source = {row}.source AND articles = 0;"
    )
    return library, source


@migrations()
def add_counts(db: sqlite_utils.Database) -> None:
    """Counts kept by triggers: how many articles, unread and starred, in the library and
    in each source. Counting them at a click scanned the whole table (93 ms at 100,000)."""
    db.execute(
        "CREATE TABLE source_counts (source TEXT PRIMARY KEY, articles INTEGER NOT NULL, "
        "unread INTEGER NOT NULL, starred INTEGER NOT NULL)"
    )
    for column in ("articles", "unread", "starred"):
        db.execute(f"ALTER TABLE library_state ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
    counted = "count(*), count(*) FILTER (WHERE read_at IS NULL), count(starred_at)"
    db.execute(
        f"UPDATE library_state SET (articles, unread, starred) = (SELECT {counted} FROM articles)"
    )
    db.execute(
        f"INSERT INTO source_counts SELECT source, {counted} FROM articles "
        "WHERE source IS NOT NULL GROUP BY source"
    )
    add_library, add_source = _count_changes("new", "+")
    take_library, take_source = _count_changes("old", "-")
    db.execute(
        "CREATE TRIGGER article_counts_ai AFTER INSERT ON articles BEGIN "
        f"UPDATE library_state SET articles = articles + 1; {add_library} {add_source} END"
    )
    db.execute(
        "CREATE TRIGGER article_counts_ad AFTER DELETE ON articles BEGIN "
        f"UPDATE library_state SET articles = articles - 1; {take_library} {take_source} END"
    )
    db.execute(
        "CREATE TRIGGER article_counts_au AFTER UPDATE OF read_at, starred_at, source "
        f"ON articles BEGIN {take_library} {take_source} {add_library} {add_source} END"
    )


@migrations()
def add_paragraphs_and_words(db: sqlite_utils.Database) -> None:
    """What opening an article needs from its body, found when it is saved: where each
    paragraph is and its fingerprint (boilerplate.py), and how many words it has. Rows
    saved before have NULL and are measured when opened, as they were."""
    db["articles"].add_column("paragraphs", str)
    db["articles"].add_column("words", int)


@migrations()
def add_search_terms(db: sqlite_utils.Database) -> None:
    """Every word the search index holds, in a table of its own: the word being typed is
    completed from it (search.Query.fts) into the words it may be. FTS5 answered a prefix
    of four letters or more (beyond its prefix indexes) by merging the lists of every word
    it starts: 70 ms for "ucrain" at 100,000 articles, against 8 ms for its four words."""
    # exact: 1 when the word is spelled as the index holds it (stems.index_terms); a word
    # being typed that starts any inexact word is left to FTS5's prefix query.
    db.execute(
        "CREATE TABLE search_terms (term TEXT PRIMARY KEY, exact INTEGER NOT NULL) WITHOUT ROWID"
    )
    upsert = (
        "INSERT INTO search_terms (term, exact) VALUES (?, ?) "
        "ON CONFLICT (term) DO UPDATE SET exact = 0 WHERE exact AND NOT excluded.exact"
    )
    db.execute("CREATE VIRTUAL TABLE temp.search_vocab USING fts5vocab(main, articles_search, row)")
    tokens = [row[0] for row in db.execute("SELECT term FROM temp.search_vocab")]
    db.conn.executemany(upsert, [index_term(token) for token in tokens])
    db.execute("DROP TABLE temp.search_vocab")
    learn = " ".join(
        "INSERT OR IGNORE INTO search_terms (term, exact) "
        f"SELECT value, 1 FROM json_each(webreader_terms(new.{column}, new.lang, 1)); "
        "INSERT INTO search_terms (term, exact) "
        f"SELECT value, 0 FROM json_each(webreader_terms(new.{column}, new.lang, 0)) "
        "WHERE true ON CONFLICT (term) DO UPDATE SET exact = 0;"
        for column in ("title", "text")
    )
    insert, delete = _INDEX_ROW, _UNINDEX_ROW
    db.execute("DROP TRIGGER articles_search_ai")
    db.execute("DROP TRIGGER articles_search_au")
    db.execute(
        f"CREATE TRIGGER articles_search_ai AFTER INSERT ON articles BEGIN {insert} {learn} END"
    )
    db.execute(
        "CREATE TRIGGER articles_search_au AFTER UPDATE OF title, text, lang ON articles "
        f"BEGIN {delete} {insert} {learn} END"
    )


@migrations()
def sign_again_with_rensa(db: sqlite_utils.Database) -> None:
    """Near-duplicate signatures made again with rensa (duplicates.py), which replaced
    datasketch: its values are other numbers, and datasketch brought numpy and scipy
    (216 MB of the environment) for them."""
    db.execute("DELETE FROM article_bands")
    db.execute("DELETE FROM article_signatures")
    _sign_articles(db)


@migrations()
def bands_in_their_index(db: sqlite_utils.Database) -> None:
    """article_bands as one index holding its rows (WITHOUT ROWID, keyed by band, bucket and
    article): finding a new article's candidates reads the article ids from the index it
    searches, where it looked each row up in the table (2 ms an article at 100,000
    articles, on the path of every import), and a row is written to two B-trees, not three."""
    db.execute(
        "CREATE TABLE article_bands_keyed (band INTEGER NOT NULL, bucket TEXT NOT NULL, "
        "article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE, "
        "PRIMARY KEY (band, bucket, article_id)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT OR IGNORE INTO article_bands_keyed SELECT band, bucket, article_id "
        "FROM article_bands"
    )
    db.execute("DROP TABLE article_bands")
    db.execute("ALTER TABLE article_bands_keyed RENAME TO article_bands")
    db.execute("CREATE INDEX idx_article_bands_article ON article_bands (article_id)")


@migrations()
def add_subscriptions(db: sqlite_utils.Database) -> None:
    """Feeds refreshed on a schedule (subscriptions.py): where, how often, what the server
    said last (its validators for a conditional GET, the body's hash), and how it went."""
    db.execute(
        """CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            title TEXT,
            full_text INTEGER NOT NULL DEFAULT 0,
            every_seconds INTEGER NOT NULL,
            paused INTEGER NOT NULL DEFAULT 0,
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            status TEXT NOT NULL DEFAULT 'new',
            error TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            checked_at REAL,
            new_article_at REAL,
            next_check_at REAL NOT NULL,
            created_at REAL NOT NULL
        )"""
    )
    db.execute(
        "CREATE INDEX idx_subscriptions_due ON subscriptions (next_check_at) WHERE NOT paused"
    )


@migrations()
def add_leases(db: sqlite_utils.Database) -> None:
    """Work only one process may do at a time (refreshing subscriptions, whether several
    servers or a cron job ask): who holds it, and until when."""
    db.execute(
        "CREATE TABLE leases "
        "(name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL)"
    )


def take_lease(
    db: sqlite_utils.Database, name: str, holder: str, seconds: float, now: float
) -> bool:
    """Takes (or extends) the lease `name` for holder, unless another holds it unexpired."""
    with writing(db):
        row = db.execute("SELECT holder, expires_at FROM leases WHERE name = ?", [name]).fetchone()
        if row and row[0] != holder and row[1] > now:
            return False
        db.execute(
            "INSERT INTO leases VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "holder = excluded.holder, expires_at = excluded.expires_at",
            [name, holder, now + seconds],
        )
        return True


def lease_holder(db: sqlite_utils.Database, name: str) -> str | None:
    row = db.execute("SELECT holder FROM leases WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def release_lease(db: sqlite_utils.Database, name: str, holder: str) -> None:
    with writing(db):
        db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder])


@migrations()
def add_subscription_folders(db: sqlite_utils.Database) -> None:
    """A subscription's folder: the outline it sat in, in the OPML it came from."""
    db.execute("ALTER TABLE subscriptions ADD COLUMN folder TEXT")


# What the search index holds of a row since index_teaser_summaries: its title, and its text,
# or a teaser's summary (a teaser has no text of its own).
_TEXT = "CASE WHEN {0}.kind = 'teaser' THEN coalesce({0}.summary, '') ELSE {0}.text END"
_STEMS_NOW = f"webreader_stems({{0}}.title, {{0}}.lang), webreader_stems({_TEXT}, {{0}}.lang)"


@migrations()
def index_teaser_summaries(db: sqlite_utils.Database) -> None:
    """A teaser is found by what it shows: its summary is indexed as its text, so a word
    only a teaser's summary holds finds it; when the teaser becomes an article (its page
    imported), the index follows."""
    old_stems = _STEMS.format("articles")
    db.execute(
        "INSERT INTO articles_search(articles_search, rowid, title, text) "
        f"SELECT 'delete', id, {old_stems} FROM articles WHERE kind = 'teaser'"
    )
    db.execute(
        "INSERT INTO articles_search(rowid, title, text) "
        f"SELECT id, {_STEMS_NOW.format('articles')} FROM articles WHERE kind = 'teaser'"
    )
    summary = "coalesce(articles.summary, '')"
    db.execute(
        "INSERT OR IGNORE INTO search_terms (term, exact) SELECT value, 1 FROM articles, "
        f"json_each(webreader_terms({summary}, articles.lang, 1)) WHERE kind = 'teaser'"
    )
    db.execute(
        "INSERT INTO search_terms (term, exact) SELECT value, 0 FROM articles, "
        f"json_each(webreader_terms({summary}, articles.lang, 0)) WHERE kind = 'teaser' "
        "ON CONFLICT (term) DO UPDATE SET exact = 0"
    )
    insert = (
        "INSERT INTO articles_search(rowid, title, text) "
        f"VALUES (new.id, {_STEMS_NOW.format('new')});"
    )
    delete = (
        "INSERT INTO articles_search(articles_search, rowid, title, text) "
        f"VALUES ('delete', old.id, {_STEMS_NOW.format('old')});"
    )
    learn = " ".join(
        "INSERT OR IGNORE INTO search_terms (term, exact) "
        f"SELECT value, 1 FROM json_each(webreader_terms({column}, new.lang, 1)); "
        "INSERT INTO search_terms (term, exact) "
        f"SELECT value, 0 FROM json_each(webreader_terms({column}, new.lang, 0)) "
        "WHERE true ON CONFLICT (term) DO UPDATE SET exact = 0;"
        for column in ("new.title", _TEXT.format("new"))
    )
    for name in ("ai", "ad", "au"):
        db.execute(f"DROP TRIGGER articles_search_{name}")
    db.execute(
        f"CREATE TRIGGER articles_search_ai AFTER INSERT ON articles BEGIN {insert} {learn} END"
    )
    db.execute(f"CREATE TRIGGER articles_search_ad AFTER DELETE ON articles BEGIN {delete} END")
    db.execute(
        "CREATE TRIGGER articles_search_au AFTER UPDATE OF title, text, lang, kind, summary "
        f"ON articles BEGIN {delete} {insert} {learn} END"
    )


@migrations()
def add_watched_files(db: sqlite_utils.Database) -> None:
    """What became of each file in a watched folder (watching.py): the page's import status
    shows the failures, and a restart skips files already imported unchanged."""
    db.execute(
        """CREATE TABLE watched_files (
            path TEXT PRIMARY KEY,
            folder TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            status TEXT NOT NULL,
            message TEXT,
            moved_to TEXT,
            at REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_watched_files_at ON watched_files (status, at)")


@migrations()
def add_feeds_and_categories(db: sqlite_utils.Database) -> None:
    """The model the APIs speak (api.py, fever.py). Categories: a subscription's folder, with
    an id (1, "All", is no folder). Feeds: each a subscription, or the articles of one source
    that came another way (dumps, pages, a feed imported once; '' for no source), kept by
    triggers. An article notes the subscription that brought it; when the subscription goes,
    its articles join their source's feed."""
    # AUTOINCREMENT: an id is never given again, so an app's copy cannot name another's.
    db.execute(
        "CREATE TABLE categories (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL UNIQUE)"
    )
    db.execute("INSERT INTO categories (id, title) VALUES (1, 'All')")
    db.execute(
        "INSERT OR IGNORE INTO categories (title) SELECT DISTINCT folder FROM subscriptions "
        "WHERE folder IS NOT NULL AND folder != '' ORDER BY folder"
    )
    db.execute(
        """CREATE TABLE feeds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id INTEGER UNIQUE,
            source TEXT UNIQUE,
            category_id INTEGER NOT NULL DEFAULT 1,
            CHECK ((subscription_id IS NULL) != (source IS NULL))
        )"""
    )
    db.execute(
        "INSERT INTO feeds (subscription_id, category_id) SELECT s.id, coalesce(c.id, 1) "
        "FROM subscriptions s LEFT JOIN categories c ON c.title = s.folder ORDER BY s.id"
    )
    db.execute("ALTER TABLE subscriptions DROP COLUMN folder")
    db.execute("ALTER TABLE articles ADD COLUMN subscription_id INTEGER")
    db.execute(
        "CREATE INDEX idx_articles_subscription ON articles (subscription_id, sort_key) "
        "WHERE subscription_id IS NOT NULL"
    )
    db.execute(
        "INSERT OR IGNORE INTO feeds (source) "
        "SELECT DISTINCT coalesce(source, '') FROM articles ORDER BY 1"
    )
    source_feed = "INSERT OR IGNORE INTO feeds (source) VALUES (coalesce(new.source, ''));"
    db.execute(
        "CREATE TRIGGER feeds_of_sources_ai AFTER INSERT ON articles "
        f"WHEN new.subscription_id IS NULL BEGIN {source_feed} END"
    )
    db.execute(
        "CREATE TRIGGER feeds_of_sources_au AFTER UPDATE OF source, subscription_id ON articles "
        f"WHEN new.subscription_id IS NULL BEGIN {source_feed} END"
    )
    db.execute(
        "CREATE TRIGGER feeds_of_subscriptions_ai AFTER INSERT ON subscriptions "
        "BEGIN INSERT INTO feeds (subscription_id) VALUES (new.id); END"
    )
    db.execute(
        "CREATE TRIGGER feeds_of_subscriptions_ad AFTER DELETE ON subscriptions BEGIN "
        "DELETE FROM feeds WHERE subscription_id = old.id; "
        "UPDATE articles SET subscription_id = NULL WHERE subscription_id = old.id; END"
    )


MAX_FAILED_FILES = 100  # failures remembered for the import status; the oldest go first


def record_watched_file(db: sqlite_utils.Database, row: dict) -> None:
    """Notes what became of a watched file (a later import of the same path replaces it)."""
    with writing(db):
        db["watched_files"].upsert(row, pk="path")
        db.execute(
            "DELETE FROM watched_files WHERE status = 'failed' AND path NOT IN (SELECT path "
            "FROM watched_files WHERE status = 'failed' ORDER BY at DESC LIMIT ?)",
            [MAX_FAILED_FILES],
        )


def watched_file(db: sqlite_utils.Database, path: str) -> dict | None:
    return next(db.query("SELECT * FROM watched_files WHERE path = ?", [path]), None)


def forget_watched_files(db: sqlite_utils.Database, folder: str, keep: set[str]) -> None:
    """Forgets the files of a folder that are gone from it, but not its failures (moved
    aside, they stay in the import status until newer ones push them out)."""
    rows = db.execute(
        "SELECT path FROM watched_files WHERE folder = ? AND status != 'failed'", [folder]
    ).fetchall()
    gone = [[path] for (path,) in rows if path not in keep]
    if gone:
        with writing(db):
            db.conn.executemany("DELETE FROM watched_files WHERE path = ?", gone)


def watched_files_summary(db: sqlite_utils.Database, limit: int = 20) -> dict:
    """The import status of the watched folders: per folder the files imported and the
    last import, and the newest failures."""
    folders = list(
        db.query(
            "SELECT folder, count(*) AS files, max(at) AS last_at, "
            "sum(status = 'failed') AS failed FROM watched_files GROUP BY folder ORDER BY folder"
        )
    )
    failures = list(
        db.query(
            "SELECT * FROM watched_files WHERE status = 'failed' ORDER BY at DESC LIMIT ?",
            [limit],
        )
    )
    return {"folders": folders, "failures": failures}


# A subscription's row as code sees it: its folder is its feed's category (none for "All").
_SUBSCRIPTION = (
    "SELECT s.*, f.id AS feed_id, CASE WHEN c.id = 1 THEN NULL ELSE c.title END AS folder "
    "FROM subscriptions s JOIN feeds f ON f.subscription_id = s.id "
    "JOIN categories c ON c.id = f.category_id"
)
ALL_CATEGORY = 1


def insert_subscription(db: sqlite_utils.Database, row: dict) -> int:
    """A new subscription (its feed made by a trigger, in its folder's category)."""
    row = dict(row)
    folder = row.pop("folder", None)
    with writing(db):
        subscription_id = db["subscriptions"].insert(row).last_pk
        _file_under(db, subscription_id, folder)
        return subscription_id


def insert_subscriptions(db: sqlite_utils.Database, rows: list[dict]) -> None:
    with writing(db):
        for row in rows:
            insert_subscription(db, row)


def _file_under(db: sqlite_utils.Database, subscription_id: int, folder: str | None) -> None:
    if folder:
        db.execute("INSERT OR IGNORE INTO categories (title) VALUES (?)", [folder])
        db.execute(
            "UPDATE feeds SET category_id = (SELECT id FROM categories WHERE title = ?) "
            "WHERE subscription_id = ?",
            [folder, subscription_id],
        )


def list_subscriptions(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query(f"{_SUBSCRIPTION} ORDER BY s.id"))


def due_subscriptions(db: sqlite_utils.Database, now: float) -> list[dict]:
    sql = f"{_SUBSCRIPTION} WHERE NOT s.paused AND s.next_check_at <= ? ORDER BY s.next_check_at"
    return list(db.query(sql, [now]))


def get_subscription(db: sqlite_utils.Database, subscription_id: int) -> dict | None:
    return next(db.query(f"{_SUBSCRIPTION} WHERE s.id = ?", [subscription_id]), None)


def find_subscription(db: sqlite_utils.Database, url_or_id: str) -> dict | None:
    sql = f"{_SUBSCRIPTION} WHERE s.url = ? OR CAST(s.id AS TEXT) = ?"
    return next(db.query(sql, [url_or_id, url_or_id]), None)


def update_subscription(db: sqlite_utils.Database, subscription_id: int, changes: dict) -> None:
    """Changes a subscription's columns (names from webreader's code, never from input); one
    removed meanwhile (unsubscribed during its check) changes nothing."""
    columns = ", ".join(f"{name} = ?" for name in changes)
    with writing(db):
        db.execute(
            f"UPDATE subscriptions SET {columns} WHERE id = ?", [*changes.values(), subscription_id]
        )


def delete_subscription(db: sqlite_utils.Database, subscription_id: int) -> None:
    with writing(db):
        db.execute("DELETE FROM subscriptions WHERE id = ?", [subscription_id])


@contextlib.contextmanager
def writing(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock first (BEGIN IMMEDIATE).

    sqlite-utils' atomic() begins a deferred transaction: one that reads first (is this
    article stored?) and writes later fails at once with "database is locked" when another
    connection (the server marking an article read) wrote in between, busy timeout or
    not, because its snapshot is stale. Taking the lock first waits its turn instead."""
    if db.conn.in_transaction:
        with db.atomic():  # nested: a savepoint
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.rollback()
        raise
    else:
        db.conn.commit()


def connect(path: str | os.PathLike[str]) -> sqlite_utils.Database:
    """A connection with what webreader's triggers need (webreader_stems) and a busy timeout."""
    db = sqlite_utils.Database(path)
    db.conn.create_function("webreader_stems", 2, index_text, deterministic=True)
    db.conn.create_function("webreader_terms", 3, index_terms, deterministic=True)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # In WAL mode NORMAL is durable across application crashes and loses at most the last
    # transactions on power loss, without an fsync at every commit (one per imported file).
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def open_db(path: str | os.PathLike[str]) -> sqlite_utils.Database:
    """Opens (creating if needed) a webreader database with its schema up to date."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a database file")
    db = connect(path)
    if db.journal_mode != "wal":
        db.enable_wal()
    migrations.apply(db)
    return db


_local = threading.local()


def get_db() -> sqlite_utils.Database:
    """This thread's connection to the app's database, opened once and reused.

    waitress answers requests from a fixed set of threads; a connection per thread saves
    opening one per request, and SQLite connections must not be shared between threads.
    """
    return thread_connection(current_app.config["DATABASE"])


def thread_connection(path: str) -> sqlite_utils.Database:
    """get_db() outside a request (the response cache asks before Flask is involved)."""
    connections = _local.__dict__.setdefault("connections", {})
    db = connections.get(path)
    if db is None:
        db = connections[path] = connect(path)
        if os.path.realpath(path) in _checkpointed:
            db.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's job
    return db


# Files whose WAL a thread of this process moves into the database (checkpoint_in_background).
_checkpointed: set[str] = set()
CHECKPOINT_SECONDS = 1.0


def checkpoint_in_background(
    path: str | os.PathLike[str], every: float = CHECKPOINT_SECONDS
) -> threading.Thread:
    """Moves the WAL into the database from a thread of its own, `every` seconds, and stops
    the server's connections from doing it when they commit. By default the commit that
    fills the WAL past 1,000 pages checkpoints it: about one read mark in 90 (each rewrites
    its article's whole row), which took that request 10 ms longer. A passive checkpoint
    waits for no one; what readers still use stays for the next."""
    key = os.path.realpath(path)
    _checkpointed.add(key)

    def run() -> None:
        conn = sqlite3.connect(key, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        failed = ""
        while True:
            time.sleep(every)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                failed = ""
            except sqlite3.Error as exc:  # busy, or the disk: try again next time
                if str(exc) != failed:  # said once, not every second
                    logger.warning("checkpoint of %s failed: %s", key, exc)
                failed = str(exc)

    thread = threading.Thread(target=run, name="webreader-checkpoint", daemon=True)
    thread.start()
    return thread


def close_db(exception: BaseException | None = None) -> None:
    """Ends any transaction a failed request left open, so the next request starts clean."""
    db = _local.__dict__.get("connections", {}).get(current_app.config["DATABASE"])
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def copy_database(source_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> tuple:
    """Copies a library with SQLite's online backup API (safe while others write), then
    checks the copy. Returns PRAGMA integrity_check's answer and the articles it holds."""
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(dest)
    try:
        with target:
            source.backup(target)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        count = target.execute("SELECT count(*) FROM articles").fetchone()[0]
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        return check, count
    finally:
        source.close()
        target.close()


@contextlib.contextmanager
def without_waiting(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Writes that fail at once (SQLITE_BUSY) rather than wait for another's lock."""
    db.execute("PRAGMA busy_timeout = 0")
    try:
        yield db
    finally:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


# ---- settings and admin logins (auth.py decides; these store) --------------------------------


def get_setting(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def save_setting(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def save_admin_session(db: sqlite_utils.Database, token_hash: str, created_at: float) -> None:
    db.execute("INSERT INTO admin_sessions VALUES (?, ?)", [token_hash, created_at])


def get_admin_session_start(db: sqlite_utils.Database, token_hash: str) -> float | None:
    row = db.execute(
        "SELECT created_at FROM admin_sessions WHERE token_hash = ?", [token_hash]
    ).fetchone()
    return row[0] if row else None


def delete_admin_sessions(
    db: sqlite_utils.Database,
    *,
    token_hash: str | None = None,
    started_before: float | None = None,
    beyond_newest: int | None = None,
) -> None:
    """Ends one login, the expired ones, those beyond the newest N, or (no argument) all.
    Each deletion moves the library's generation on (a trigger), for the caches."""
    if token_hash is not None:
        db.execute("DELETE FROM admin_sessions WHERE token_hash = ?", [token_hash])
    elif started_before is not None:
        db.execute("DELETE FROM admin_sessions WHERE created_at < ?", [started_before])
    elif beyond_newest is not None:
        db.execute(
            "DELETE FROM admin_sessions WHERE token_hash NOT IN (SELECT token_hash FROM "
            "admin_sessions ORDER BY created_at DESC LIMIT ?)",
            [beyond_newest],
        )
    else:
        db.execute("DELETE FROM admin_sessions")


def get_or_create_secret(db: sqlite_utils.Database, name: str) -> str:
    """A random secret made on first use and kept in the database, so it survives restarts."""
    db.execute(
        "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", [name, secrets.token_hex(32)]
    )
    db.conn.commit()
    return db.execute("SELECT value FROM settings WHERE key = ?", [name]).fetchone()[0]


def init_app(app: Flask) -> None:
    """Brings the schema up to date once at start-up and closes connections after requests."""
    db = open_db(app.config["DATABASE"])
    try:
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = get_or_create_secret(db, "secret_key")
    finally:
        db.close()
    app.teardown_appcontext(close_db)


# ---- the APIs' model: feeds, categories, keys (api.py, fever.py) ----------------------------


@migrations()
def add_api_keys(db: sqlite_utils.Database) -> None:
    """Keys for the Miniflux API (only a SHA-256 of each: a key is 32 random bytes, shown
    once), and when each was last used."""
    db.execute(
        "CREATE TABLE api_keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
        "token_hash TEXT NOT NULL UNIQUE, created_at REAL NOT NULL, last_used_at REAL)"
    )


_FEED = (
    "SELECT f.id, f.subscription_id, f.source, f.category_id, c.title AS category_title, "
    "s.url, s.title, s.full_text, s.paused, s.etag, s.last_modified, s.status, s.error, "
    "s.failures, s.checked_at, s.next_check_at, s.new_article_at "
    "FROM feeds f JOIN categories c ON c.id = f.category_id "
    "LEFT JOIN subscriptions s ON s.id = f.subscription_id"
)


def list_feeds(db: sqlite_utils.Database, category_id: int | None = None) -> list[dict]:
    where, params = ("WHERE f.category_id = ?", [category_id]) if category_id else ("", [])
    return list(db.query(f"{_FEED} {where} ORDER BY f.id", params))


def get_feed(db: sqlite_utils.Database, feed_id: int) -> dict | None:
    return next(db.query(f"{_FEED} WHERE f.id = ?", [feed_id]), None)


def feed_of_subscription(db: sqlite_utils.Database, subscription_id: int) -> dict | None:
    return next(db.query(f"{_FEED} WHERE f.subscription_id = ?", [subscription_id]), None)


def set_feed_category(db: sqlite_utils.Database, feed_id: int, category_id: int) -> None:
    with writing(db):
        db.execute("UPDATE feeds SET category_id = ? WHERE id = ?", [category_id, feed_id])


def list_categories(db: sqlite_utils.Database) -> list[dict]:
    """Each category with its feeds and unread articles counted."""
    return list(
        db.query(
            "SELECT c.id, c.title, (SELECT count(*) FROM feeds f WHERE f.category_id = c.id) "
            "AS feed_count FROM categories c ORDER BY c.title COLLATE NOCASE, c.id"
        )
    )


def get_category(db: sqlite_utils.Database, category_id: int) -> dict | None:
    return next(db.query("SELECT id, title FROM categories WHERE id = ?", [category_id]), None)


def find_category(db: sqlite_utils.Database, title: str) -> dict | None:
    return next(db.query("SELECT id, title FROM categories WHERE title = ?", [title]), None)


def insert_category(db: sqlite_utils.Database, title: str) -> int:
    with writing(db):
        return db.execute("INSERT INTO categories (title) VALUES (?)", [title]).lastrowid


def rename_category(db: sqlite_utils.Database, category_id: int, title: str) -> None:
    with writing(db):
        db.execute("UPDATE categories SET title = ? WHERE id = ?", [title, category_id])


def delete_category(db: sqlite_utils.Database, category_id: int) -> None:
    """Removes a category; its feeds move to "All" (nothing of theirs is lost)."""
    with writing(db):
        db.execute(
            "UPDATE feeds SET category_id = ? WHERE category_id = ?", [ALL_CATEGORY, category_id]
        )
        db.execute("DELETE FROM categories WHERE id = ?", [category_id])


def insert_api_key(db: sqlite_utils.Database, name: str, token_hash: str, now: float) -> None:
    with writing(db):
        db.execute(
            "INSERT INTO api_keys (name, token_hash, created_at) VALUES (?, ?, ?)",
            [name, token_hash, now],
        )


def list_api_keys(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT id, name, created_at, last_used_at FROM api_keys ORDER BY id"))


def find_api_key(db: sqlite_utils.Database, token_hash: str) -> dict | None:
    sql = "SELECT id, name, last_used_at FROM api_keys WHERE token_hash = ?"
    return next(db.query(sql, [token_hash]), None)


def note_api_key_used(db: sqlite_utils.Database, key_id: int, now: float) -> None:
    with writing(db):
        db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [now, key_id])


def delete_api_key(
    db: sqlite_utils.Database, *, key_id: int | None = None, name: str | None = None
) -> bool:
    """Removes the key with this id, or else with this name; whether there was one."""
    column, value = ("id", key_id) if key_id is not None else ("name", name)
    with writing(db):
        return db.execute(f"DELETE FROM api_keys WHERE {column} = ?", [value]).rowcount > 0
