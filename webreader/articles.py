"""Every query webreader makes. Views and importers call these; none of them writes SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

# SQLite integers are 64-bit; larger ids cannot exist and would overflow the driver.
MAX_ID = 2**63 - 1

_HEADLINE_COLUMNS = "id, kind, title, slug, source, published"
_ORDER = "published IS NULL, published DESC, id"

Article = dict[str, Any]


def list_headlines(db: Database) -> list[Article]:
    """Every headline for the sidebar, newest first, undated ones last in import order."""
    return list(db.query(f"SELECT {_HEADLINE_COLUMNS} FROM articles ORDER BY {_ORDER}"))


def get_article(db: Database, article_id: int) -> Article | None:
    if not 0 < article_id <= MAX_ID:
        return None
    rows = list(db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
    return rows[0] if rows else None


def get_newest_article(db: Database) -> Article | None:
    """The article the home page opens: the newest full article, else the newest teaser."""
    rows = db.query(f"SELECT * FROM articles ORDER BY kind != 'article', {_ORDER} LIMIT 1")
    return next(iter(rows), None)


def count_articles(db: Database) -> int:
    return db.execute("SELECT count(*) FROM articles").fetchone()[0]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _find_article_match(db: Database, article: Article) -> Article | None:
    """The stored row a full article replaces: same file first, else same title."""
    if article.get("source_path"):
        rows = list(
            db.query(
                "SELECT * FROM articles WHERE kind = 'article' AND source_path = ? LIMIT 1",
                [article["source_path"]],
            )
        )
        if rows:
            return rows[0]
    return _find_by_title(db, article["title_key"])


def _find_by_title(db: Database, key: str) -> Article | None:
    """The row with this title key, a full article before a teaser."""
    rows = db.query(
        "SELECT * FROM articles WHERE title_key = ? ORDER BY kind != 'article', id LIMIT 1", [key]
    )
    return next(iter(rows), None)


def _save(db: Database, row: Article, existing: Article | None) -> tuple[str, int]:
    if existing is None:
        now = _now()
        table = db["articles"].insert({**row, "imported_at": now, "updated_at": now})
        return "imported", table.last_pk
    if existing["content_hash"] == row["content_hash"] and existing["kind"] == row["kind"]:
        return "unchanged", existing["id"]
    db["articles"].update(existing["id"], {**row, "updated_at": _now()})
    status = "imported" if existing["kind"] == "teaser" and row["kind"] == "article" else "updated"
    return status, existing["id"]


def save_dump(db: Database, article: Article, teasers: list[Article]) -> dict[str, Any]:
    """Stores one dump's article and teasers in a single transaction.

    A full article replaces the teaser with its title; a teaser never replaces an
    article. Returns the article's status ('imported', 'updated' or 'unchanged'),
    its id, and how many teasers were added or changed.
    """
    teasers_saved = 0
    with db.atomic():
        status, article_id = _save(db, article, _find_article_match(db, article))
        for teaser in teasers:
            existing = _find_by_title(db, teaser["title_key"])
            if existing is not None and existing["kind"] == "article":
                continue
            if _save(db, teaser, existing)[0] != "unchanged":
                teasers_saved += 1
    return {"status": status, "id": article_id, "teasers": teasers_saved}
