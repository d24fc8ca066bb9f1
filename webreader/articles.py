"""Every query webreader makes. Views and importers call these; none of them writes SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

# SQLite integers are 64-bit; larger ids cannot exist and would overflow the driver.
MAX_ID = 2**63 - 1

_HEADLINE_COLUMNS = "id, kind, title, slug, source, lang, published, read_at, starred_at"
_ORDER = "published IS NULL, published DESC, id"

# What the sidebar can show; each is a real URL (/?show=unread). The article on screen
# stays in its list even once it no longer matches (it was just read, say).
SHOW = {
    "all": "1",
    "unread": "(read_at IS NULL OR id = :keep)",
    "starred": "(starred_at IS NOT NULL OR id = :keep)",
}

Article = dict[str, Any]


def list_headlines(db: Database, show: str = "all", keep: int | None = None) -> list[Article]:
    """The sidebar's headlines, newest first, undated ones last in import order."""
    sql = f"SELECT {_HEADLINE_COLUMNS} FROM articles WHERE {SHOW[show]} ORDER BY {_ORDER}"
    return list(db.query(sql, {"keep": keep}))


def get_article(db: Database, article_id: int) -> Article | None:
    if not 0 < article_id <= MAX_ID:
        return None
    rows = list(db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
    return rows[0] if rows else None


def get_headline(db: Database, article_id: int) -> Article | None:
    rows = db.query(f"SELECT {_HEADLINE_COLUMNS} FROM articles WHERE id = ?", [article_id])
    return next(iter(rows), None)


def get_newest_article(db: Database, show: str = "all") -> Article | None:
    """The article a list opens on: its newest full article, else its newest teaser."""
    sql = f"SELECT * FROM articles WHERE {SHOW[show]} ORDER BY kind != 'article', {_ORDER} LIMIT 1"
    return next(iter(db.query(sql, {"keep": None})), None)


def get_neighbours(db: Database, article_id: int, show: str = "all") -> dict[str, Article | None]:
    """The headlines before and after an article in the sidebar's order, for previous/next."""
    sql = f"""
        WITH ordered AS (
            SELECT id, LAG(id) OVER w AS prev_id, LEAD(id) OVER w AS next_id
            FROM articles WHERE {SHOW[show]}
            WINDOW w AS (ORDER BY {_ORDER})
        )
        SELECT prev_id, next_id FROM ordered WHERE id = :keep
    """
    row = next(iter(db.query(sql, {"keep": article_id})), None) or {}
    return {
        "prev": get_headline(db, row["prev_id"]) if row.get("prev_id") else None,
        "next": get_headline(db, row["next_id"]) if row.get("next_id") else None,
    }


def count_unread(db: Database) -> int:
    return db.execute("SELECT count(*) FROM articles WHERE read_at IS NULL").fetchone()[0]


def set_read(db: Database, article_id: int, read: bool) -> None:
    """Marks read (keeping the first time it was read) or unread."""
    with db.atomic():
        if read:
            db.execute(
                "UPDATE articles SET read_at = ? WHERE id = ? AND read_at IS NULL",
                [_now(), article_id],
            )
        else:
            db.execute("UPDATE articles SET read_at = NULL WHERE id = ?", [article_id])


def set_starred(db: Database, article_id: int, starred: bool) -> None:
    with db.atomic():
        db.execute(
            "UPDATE articles SET starred_at = ? WHERE id = ?",
            [_now() if starred else None, article_id],
        )


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
