"""The SQLite file: opening it, its schema as migrations, one connection per request."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g
from sqlite_utils.migrations import Migrations

DEFAULT_DB = "articles.db"
FTS_TOKENIZE = "unicode61 remove_diacritics 2"

migrations = Migrations("webreader")


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
        not_null={"kind", "title", "title_key", "slug", "html", "text", "content_hash",
                  "imported_at", "updated_at"},
        defaults={"html": "", "text": ""},
    )  # fmt: skip
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


def open_db(path: str | os.PathLike[str]) -> sqlite_utils.Database:
    """Opens (creating if needed) a webreader database with its schema up to date."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a database file")
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 5000")
    if db.journal_mode != "wal":
        db.enable_wal()
    migrations.apply(db)
    return db


def get_db() -> sqlite_utils.Database:
    """The request's connection, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = sqlite_utils.Database(current_app.config["DATABASE"])
        g.db.execute("PRAGMA busy_timeout = 5000")
    return g.db


def close_db(exception: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


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
