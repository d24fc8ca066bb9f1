"""Every query webreader makes. Views and importers call these; none of them writes SQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, TypedDict

from sqlite_utils import Database

from webreader import boilerplate, duplicates
from webreader.db import writing
from webreader.search import Query
from webreader.text import count_words

# SQLite integers are 64-bit; larger ids cannot exist and would overflow the driver.
MAX_ID = 2**63 - 1

HEADLINE_COLUMNS = (
    "id",
    "kind",
    "title",
    "slug",
    "source",
    "lang",
    "published",
    "read_at",
    "starred_at",
    "sort_key",
)
_HEADLINE_COLUMNS = ", ".join(HEADLINE_COLUMNS)
# sort_key orders newest first, undated last, then by import (see db.SORT_KEY).
_ORDER = "sort_key DESC"
HEADLINES_PER_PAGE = 50
# Search as you type shows the best few: each result costs a snippet and highlighting.
SEARCH_RESULTS = 20
# Search ranks the newest this many matches by relevance: ranking every match of a word
# found in nearly every article would take a tenth of a second or more at 100,000 articles.
SEARCH_CANDIDATES = 1000
# The word being typed is asked for as the words it may complete to, up to this many.
COMPLETIONS = 64

# How many newer headlines stand above the article on screen when it is deep in the list.
NEWER_HEADLINES_SHOWN = 5

SHOWS = ("all", "unread", "starred")
# Headlines under a date range are counted up to this many (other counts are kept by
# triggers): counting a wide range would read as many rows as the library holds.
COUNT_CAP = 1000


class Article(TypedDict, total=False):
    """A row of the articles table, as queries return it (db.py's migrations make it)."""

    id: int
    kind: str  # 'article' or 'teaser'
    title: str
    title_key: str  # normalized title: how a teaser finds its full article
    slug: str
    summary: str | None
    source: str | None
    lang: str | None  # ISO 639-1
    published: str | None  # ISO date
    html: str  # sanitized body: the only column rendered unescaped
    text: str  # plain text of the body
    content_hash: str
    source_path: str | None
    imported_at: str
    updated_at: str
    read_at: str | None
    starred_at: str | None
    author: str | None
    url: str | None
    image: str | None
    boilerplate_kept: int
    paragraphs: str | None  # JSON: [start, end, fingerprint] of each top-level element
    words: int | None
    sort_key: int


Signature = Any  # duplicates.signature(): a MinHash's values, or None


def _rows(db: Database, sql: str, params: Any = ()) -> list[Article]:
    """The rows of a SELECT as dicts. (sqlite-utils' query() guards each statement with a
    savepoint: two more statements for every query on the path of a click.)"""
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


@dataclass(frozen=True)
class Filters:
    """What the sidebar lists: read state, source, publication dates. Each is in the URL."""

    show: str = "all"
    source: str | None = None
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        """SQL conditions on articles (aliased a) and their parameters."""
        conditions = []
        show = self.show_condition()
        if show:
            conditions.append(show)
        if self.source:
            conditions.append("a.source = :source")
        # A date range is also a range of sort_key (days since the epoch of julianday, times
        # 10**10, less the id), a little wider than the dates: the index finds the rows.
        if self.date_from:
            conditions.append("a.published >= :date_from AND a.sort_key > :key_from")
        if self.date_to:
            conditions.append("a.published <= :date_to AND a.sort_key < :key_to")
        params = {
            "source": self.source,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "key_from": (_julian_day(self.date_from) - 1) * DAY_KEY if self.date_from else None,
            "key_to": (_julian_day(self.date_to) + 2) * DAY_KEY if self.date_to else None,
        }
        return " AND ".join(conditions) or "1", params

    def show_condition(self) -> str | None:
        return {"unread": "a.read_at IS NULL", "starred": "a.starred_at IS NOT NULL"}.get(self.show)


# sort_key is the publication's julian day number times this, less the id (db.SORT_KEY).
DAY_KEY = 10_000_000_000


def _julian_day(iso_date: str) -> int:
    """SQLite's CAST(julianday(iso_date) AS INTEGER) for a date."""
    return dt.date.fromisoformat(iso_date[:10]).toordinal() + 1_721_424


def _listed(
    filters: Filters, keep: int | None, columns: str, more: str, order: str
) -> tuple[str, dict[str, Any]]:
    """A query of the headlines the sidebar lists (filters) that meet `more`, in `order`,
    :limit of them. The article on screen (keep) stays listed when it no longer matches
    (it was just read, say): a second query for that one row, so that each part walks its
    own index (unread or starred) instead of testing every row on the way."""
    where, params = filters.where()
    sql = f"SELECT {columns} FROM articles a WHERE {where} AND {more} ORDER BY {order} LIMIT :limit"
    show = filters.show_condition()
    if keep is None or not show:
        return sql, params
    others, _ = replace(filters, show="all").where()
    kept = f"SELECT {columns} FROM articles a WHERE a.id = :keep AND NOT {show} AND {others}"
    sql = f"SELECT * FROM ({sql}) UNION ALL {kept} AND {more} ORDER BY {order} LIMIT :limit"
    return sql, {**params, "keep": keep}


def list_headlines(
    db: Database,
    filters: Filters = Filters(),
    *,
    keep: int | None = None,
    after: int | None = None,
    limit: int = HEADLINES_PER_PAGE,
) -> list[Article]:
    """One page of headlines in sidebar order, after the sort_key `after` (keyset paging)."""
    more = "a.sort_key < :after" if after is not None else "1"
    sql, params = _listed(filters, keep, _HEADLINE_COLUMNS, more, _ORDER)
    return _rows(db, sql, {**params, "after": after, "limit": limit})


def list_unread_versions(db: Database, limit: int) -> list[Article]:
    """The newest unread articles, in sidebar order, with when each last changed: what the
    offline worker keeps (offline.py)."""
    sql = (
        "SELECT id, slug, updated_at FROM articles a WHERE a.read_at IS NULL "
        f"ORDER BY {_ORDER} LIMIT ?"
    )
    return _rows(db, sql, [limit])


def newest_id(db: Database) -> int:
    """The id of the newest row: what an open page knows of, for its live updates."""
    return db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]


def list_new_headlines(
    db: Database,
    filters: Filters,
    since: int,
    limit: int = HEADLINES_PER_PAGE,
    upto: int = MAX_ID,
) -> list[Article]:
    """Headlines the sidebar lists (filters) of rows stored after the row `since` (and up to
    the row `upto`)."""
    more = "a.id > :since AND a.id <= :upto"
    sql, params = _listed(filters, None, _HEADLINE_COLUMNS, more, _ORDER)
    return _rows(db, sql, {**params, "since": since, "upto": upto, "limit": limit})


def find_page_start(
    db: Database, article: Article, filters: Filters = Filters(), keep: int | None = None
) -> int | None:
    """Where a sidebar page starts (an `after` key) so that it shows `article` with a few
    newer headlines above it; None when the article is on the first page anyway."""
    sql, params = _listed(filters, keep, "sort_key", "a.sort_key > :key", "sort_key ASC")
    params = {**params, "key": article["sort_key"], "limit": HEADLINES_PER_PAGE}
    newer = [row[0] for row in db.execute(sql, params)]
    if len(newer) < HEADLINES_PER_PAGE - NEWER_HEADLINES_SHOWN:
        return None
    return newer[NEWER_HEADLINES_SHOWN]


def count_headlines(db: Database, filters: Filters = Filters(), keep: int | None = None) -> int:
    """How many headlines the sidebar lists, from the counts triggers keep (db.add_counts).
    Under a date range they are counted, up to COUNT_CAP + 1: more means "more than"."""
    if filters.date_from or filters.date_to:
        sql, params = _listed(filters, keep, "1", "1", "1")
        sql = f"SELECT count(*) FROM ({sql})"
        return db.execute(sql, {**params, "limit": COUNT_CAP + 1}).fetchone()[0]
    column = {"unread": "unread", "starred": "starred"}.get(filters.show, "articles")
    if filters.source:
        sql = f"SELECT {column} FROM source_counts WHERE source = ?"
        row = db.execute(sql, [filters.source]).fetchone()
        total = row[0] if row else 0
    else:
        total = db.execute(f"SELECT {column} FROM library_state").fetchone()[0]
    show = filters.show_condition()
    if keep is not None and show:
        # The article on screen is listed even when it no longer matches.
        where, params = replace(filters, show="all").where()
        sql = f"SELECT count(*) FROM articles a WHERE a.id = :keep AND {where} AND NOT {show}"
        total += db.execute(sql, {**params, "keep": keep}).fetchone()[0]
    return total


def list_sources(db: Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT source FROM source_counts ORDER BY source")]


def headline_of(article: Article) -> Article:
    """The columns of an article its headline shows (those list_headlines() returns)."""
    return {column: article[column] for column in HEADLINE_COLUMNS}


def get_headline(db: Database, article_id: int) -> Article | None:
    rows = _rows(db, f"SELECT {_HEADLINE_COLUMNS} FROM articles WHERE id = ?", [article_id])
    return next(iter(rows), None)


def get_cache_state(db: Database) -> tuple[int, float | None]:
    """The generation, and when the oldest admin login began: once that login has expired
    the response cache has it ended (a deletion, which moves the generation on) before it
    replays anything, so no page made for it outlives it."""
    return db.execute(
        "SELECT generation, (SELECT min(created_at) FROM admin_sessions) FROM library_state"
    ).fetchone()


def get_generation(db: Database) -> int:
    """A number that changes with every write to articles and whenever an admin login
    ends: the start of every cache key (caching.dependencies)."""
    return db.execute("SELECT generation FROM library_state").fetchone()[0]


def get_article(db: Database, article_id: int) -> Article | None:
    if not 0 < article_id <= MAX_ID:
        return None
    rows = _rows(db, "SELECT * FROM articles WHERE id = ?", [article_id])
    return rows[0] if rows else None


def get_newest_article(db: Database, filters: Filters = Filters()) -> Article | None:
    """The article a list opens on: its newest full article, else its newest teaser."""
    where, params = filters.where()
    for kind in ("article", "teaser"):
        sql = f"SELECT * FROM articles a WHERE {where} AND kind = :kind ORDER BY {_ORDER} LIMIT 1"
        row = next(iter(_rows(db, sql, {**params, "kind": kind})), None)
        if row:
            return row
    return None


def get_neighbours(
    db: Database, article: Article, filters: Filters = Filters()
) -> dict[str, Article | None]:
    """The headlines before and after an article in the sidebar's order, for previous/next."""
    around = {
        "prev": ("a.sort_key > :key", "sort_key ASC"),
        "next": ("a.sort_key < :key", "sort_key DESC"),
    }
    neighbours = {}
    for name, (more, order) in around.items():
        sql, params = _listed(filters, article["id"], _HEADLINE_COLUMNS, more, order)
        rows = _rows(db, sql, {**params, "key": article["sort_key"], "limit": 1})
        neighbours[name] = next(iter(rows), None)
    return neighbours


def search_articles(
    db: Database, fts_query: str, filters: Filters = Filters(), limit: int = SEARCH_RESULTS
) -> tuple[list[Article], int]:
    """The best matches, title weighted above text, newer first on ties, and how many of
    the newest SEARCH_CANDIDATES matched (so a count of SEARCH_CANDIDATES means 'or more').

    Only the newest matches are ranked: FTS5 yields them in rowid order, bm25 is computed
    for those alone, in the same pass (a prefix such as `ucra*` merges the lists of every
    word it starts, which is the costly part: done once). Then the best rows are fetched.
    """
    where, params = filters.where()
    ranked = db.execute(
        "SELECT id, score, count(*) OVER () FROM ("
        "  SELECT a.id, a.sort_key, bm25(articles_search, 4.0, 1.0) AS score"
        "  FROM articles_search JOIN articles a ON a.id = articles_search.rowid"
        f"  WHERE articles_search MATCH :q AND {where}"
        "  ORDER BY articles_search.rowid DESC LIMIT :candidates"
        ") ORDER BY score, sort_key DESC LIMIT :limit",
        {**params, "q": fts_query, "candidates": SEARCH_CANDIDATES, "limit": limit},
    ).fetchall()
    if not ranked:
        return [], 0
    # The rows only for the few shown, and without their HTML (a result shows a passage
    # of the text): sorting whole rows cost more than the ranking.
    marks = ", ".join("?" * len(ranked))
    sql = f"SELECT {_HEADLINE_COLUMNS}, summary, text FROM articles WHERE id IN ({marks})"
    by_id = {row["id"]: row for row in _rows(db, sql, [r[0] for r in ranked])}
    return [{**by_id[i], "score": score} for i, score, _ in ranked], ranked[0][2]


def complete_word(db: Database, prefix: str) -> tuple[str, ...] | None:
    """The indexed words that start with `prefix`, or None to leave the prefix to FTS5: a
    short one (its prefix indexes serve two and three letters), one that starts more than
    COMPLETIONS words (a query of that many would cost more than the prefix's), or one
    that starts a word whose spelling in the index fold() cannot vouch for."""
    if len(prefix) <= 3:
        return None
    rows = db.execute(
        "SELECT term, exact FROM search_terms WHERE term >= ? AND term < ? LIMIT ?",
        [prefix, prefix + "\U0010ffff", COMPLETIONS + 1],
    ).fetchall()
    if len(rows) > COMPLETIONS or not all(exact for _, exact in rows):
        return None  # too many, or a word the index spells otherwise than fold() does
    return tuple(term for term, _ in rows)


def complete(db: Database, query: Query) -> Query:
    """The query with its word being typed completed from the index's words, if it can be."""
    if not query.prefix:
        return query
    return dataclasses.replace(query, completions=complete_word(db, query.prefix))


def iter_articles(db: Database) -> Iterator[Article]:
    """Every article and teaser, in import order: what an export writes."""
    yield from db.query("SELECT * FROM articles ORDER BY id")


def count_unread(db: Database) -> int:
    return db.execute("SELECT unread FROM library_state").fetchone()[0]


def set_read(db: Database, article_id: int, read: bool) -> None:
    """Marks read (keeping the first time it was read) or unread."""
    with writing(db):
        if read:
            db.execute(
                "UPDATE articles SET read_at = ? WHERE id = ? AND read_at IS NULL",
                [_now(), article_id],
            )
        else:
            db.execute("UPDATE articles SET read_at = NULL WHERE id = ?", [article_id])


def open_unread(db: Database, article_id: int) -> Article | None:
    """Marks an unread article read and returns its row as written, in one statement (a
    row read before waiting for the write lock may be older than the one marked); None
    when it was read already, or is gone."""
    with writing(db):
        rows = _rows(
            db,
            "UPDATE articles SET read_at = ? WHERE id = ? AND read_at IS NULL RETURNING *",
            [_now(), article_id],
        )
    return rows[0] if rows else None


def set_starred(db: Database, article_id: int, starred: bool) -> None:
    with writing(db):
        db.execute(
            "UPDATE articles SET starred_at = ? WHERE id = ?",
            [_now() if starred else None, article_id],
        )


def delete_article(db: Database, article_id: int) -> None:
    """Removes an article and what was derived from it: its search entry (a trigger), its
    duplicate signature, its part in its source's paragraph counts. Importing its file
    again brings it back."""
    with writing(db):
        row = get_article(db, article_id)
        if row is None:
            return
        _count_paragraphs(db, row, -1)
        db.execute("DELETE FROM article_signatures WHERE article_id = ?", [article_id])
        db.execute("DELETE FROM article_bands WHERE article_id = ?", [article_id])
        db.execute("DELETE FROM articles WHERE id = ?", [article_id])


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _find_article_match(db: Database, article: Article, values: Signature) -> Article | None:
    """The stored row a full article replaces: same page URL, else same file, else same
    title, else near-identical text (its MinHash signature, values)."""
    if article.get("url"):
        rows = _rows(db, "SELECT * FROM articles WHERE url = ? LIMIT 1", [article["url"]])
        if rows:
            return rows[0]
    if article.get("source_path"):
        rows = list(
            _rows(
                db,
                "SELECT * FROM articles WHERE kind = 'article' AND source_path = ? LIMIT 1",
                [article["source_path"]],
            )
        )
        if rows:
            return rows[0]
    return _find_by_title(db, article["title_key"]) or _find_near_duplicate(db, values)


def has_full_article(db: Database, url: str, key: str) -> bool:
    """Whether a teaser's story is stored as a whole article: by its address, or by its
    title (a page's canonical address may differ from the one its feed links to)."""
    sql = "SELECT 1 FROM articles WHERE kind = 'article' AND (url = ? OR title_key = ?) LIMIT 1"
    return db.execute(sql, [url, key]).fetchone() is not None


def _find_near_duplicate(db: Database, values: Signature) -> Article | None:
    """A stored article with near-identical text (duplicates.py), if there is one."""
    if values is None:
        return None
    conditions = " OR ".join("(band = ? AND bucket = ?)" for _ in range(duplicates.BANDS))
    params = [x for pair in enumerate(duplicates.bands(values)) for x in pair]
    candidates = db.execute(
        "SELECT s.article_id, s.signature FROM (SELECT article_id FROM article_bands "
        f"WHERE {conditions} GROUP BY article_id HAVING count(*) >= ?) "
        "JOIN article_signatures s USING (article_id)",
        [*params, duplicates.MIN_SHARED_BANDS],
    ).fetchall()
    best = max(
        candidates,
        key=lambda c: duplicates.similarity(values, duplicates.from_blob(c[1])),
        default=None,
    )
    if best and duplicates.similarity(values, duplicates.from_blob(best[1])) >= duplicates.SIMILAR:
        return get_article(db, best[0])
    return None


def _store_signature(db: Database, article_id: int, values: Signature, new: bool = False) -> None:
    if not new:
        db.execute("DELETE FROM article_signatures WHERE article_id = ?", [article_id])
        db.execute("DELETE FROM article_bands WHERE article_id = ?", [article_id])
    if values is None:
        return
    db.execute(
        "INSERT INTO article_signatures VALUES (?, ?)", [article_id, duplicates.to_blob(values)]
    )
    db.conn.executemany(
        "INSERT INTO article_bands VALUES (?, ?, ?)",
        [(b, bucket, article_id) for b, bucket in enumerate(duplicates.bands(values))],
    )


def _find_by_title(db: Database, key: str) -> Article | None:
    """The row with this title key, a full article before a teaser."""
    rows = _rows(
        db,
        "SELECT * FROM articles WHERE title_key = ? ORDER BY kind != 'article', id LIMIT 1",
        [key],
    )
    return next(iter(rows), None)


def _count_paragraphs(db: Database, row: Article | None, delta: int) -> None:
    """Adds (or takes back) an article's paragraphs to its source's counts."""
    if row is None or row["kind"] != "article" or not row.get("source"):
        return
    found = boilerplate.of_article(row["html"], row.get("paragraphs"))
    db.conn.executemany(
        "INSERT INTO paragraph_counts (source, fingerprint, articles) VALUES (?, ?, ?) "
        "ON CONFLICT (source, fingerprint) DO UPDATE SET articles = articles + ?",
        [
            (row["source"], print_, max(delta, 0), delta)
            for print_ in boilerplate.fingerprints(found)
        ],
    )


def list_common_paragraphs(
    db: Database, source: str | None, prints: set[str], threshold: int
) -> set[str]:
    """Which of these paragraph prints stand in at least `threshold` articles of source."""
    if not source or not prints or threshold <= 0:
        return set()
    marks = ", ".join("?" * len(prints))
    sql = (
        "SELECT fingerprint FROM paragraph_counts WHERE source = ? AND articles >= ? "
        f"AND fingerprint IN ({marks})"
    )
    return {row[0] for row in db.execute(sql, [source, threshold, *prints])}


def set_boilerplate_kept(db: Database, article_id: int, kept: bool) -> None:
    with writing(db):
        db.execute("UPDATE articles SET boilerplate_kept = ? WHERE id = ?", [int(kept), article_id])


def _save(
    db: Database, row: Article, existing: Article | None, values: Signature
) -> tuple[str, int]:
    if existing is not None and (
        existing["content_hash"] == row["content_hash"] and existing["kind"] == row["kind"]
    ):
        return "unchanged", existing["id"]
    if "paragraphs" not in row:  # derived before the transaction by the importer, else here
        row = {**row, **derived_columns(row)}
    if existing is None:
        now = _now()
        article_id = _insert(db, {**row, "imported_at": now, "updated_at": now})
        _count_paragraphs(db, row, +1)
        _store_signature(db, article_id, values, new=True)
        return "imported", article_id
    _count_paragraphs(db, existing, -1)
    _count_paragraphs(db, row, +1)
    db["articles"].update(existing["id"], {**row, "updated_at": _now()})
    _store_signature(db, existing["id"], values)
    status = "imported" if existing["kind"] == "teaser" and row["kind"] == "article" else "updated"
    return status, existing["id"]


def _insert(db: Database, row: Article) -> int:
    """A new articles row; its id. (sqlite-utils' insert() looks the table up and builds
    its statement again for every row: a tenth of the import's writer.)"""
    columns = ", ".join(f"[{column}]" for column in row)
    marks = ", ".join("?" * len(row))
    sql = f"INSERT INTO articles ({columns}) VALUES ({marks})"
    return db.conn.execute(sql, list(row.values())).lastrowid


def derived_columns(row: Article) -> dict[str, Any]:
    """What opening an article needs from its body, found once when it is stored: its
    paragraphs (offsets and fingerprints, for boilerplate) and its word count."""
    found = boilerplate.paragraphs(row["html"]) if row["kind"] == "article" else []
    return {"paragraphs": boilerplate.to_json(found), "words": count_words(row["text"])}


def save_entry(db: Database, row: Article, values: Signature = None) -> tuple[str, int | None]:
    """Stores one article or teaser: a full article replaces the stored row with its URL,
    file, title or near-identical text (a teaser too); a teaser never replaces an article.
    values is the article's MinHash signature (duplicates.signature), made before the
    write transaction; None for a teaser or a text too short to sign. Returns the status
    ('imported', 'updated', 'unchanged', or 'skipped' for a teaser of a stored article)
    and the row's id."""
    if row["kind"] == "article":
        return _save(db, row, _find_article_match(db, row, values), values)
    existing = _find_by_title(db, row["title_key"])
    if existing is not None and existing["kind"] == "article":
        return "skipped", existing["id"]
    return _save(db, row, existing, None)


def save_dump(
    db: Database, article: Article, teasers: list[Article], values: Signature = None
) -> dict[str, Any]:
    """Stores one dump's article (with its signature, values) and teasers in a single
    transaction. Returns the article's status, its id, and how many teasers were added or
    changed."""
    with writing(db):
        status, article_id = save_entry(db, article, values)
        saved = [save_entry(db, teaser)[0] for teaser in teasers]
    teasers_saved = sum(s in ("imported", "updated") for s in saved)
    return {"status": status, "id": article_id, "teasers": teasers_saved}


# ---- entries as the APIs see them (api.py, fever.py) ----------------------------------------

# An article's feed (db.py's feeds): its subscription's, or else its source's.
_ENTRY_FROM = (
    "FROM articles a LEFT JOIN feeds fs ON fs.subscription_id = a.subscription_id "
    "LEFT JOIN feeds fo ON a.subscription_id IS NULL AND fo.source = coalesce(a.source, '')"
)
_ENTRY_COLUMNS = (
    "a.id, a.kind, a.title, a.url, a.author, a.html, a.summary, a.source, a.lang, a.published, "
    "a.imported_at, a.updated_at, a.read_at, a.starred_at, a.content_hash, "
    # The word count; the text (half of a row) only for a row stored before words were.
    "coalesce(a.words, length(a.text) - length(replace(a.text, ' ', '')) + 1) AS words, "
    "a.paragraphs, a.boilerplate_kept, coalesce(fs.id, fo.id) AS feed_id, "
    "coalesce(fs.category_id, fo.category_id) AS category_id"
)
ENTRY_ORDERS = {
    "id": "a.id",
    "status": "a.read_at IS NULL",
    "published_at": "a.sort_key",
    "category_id": "coalesce(fs.category_id, fo.category_id)",
    "category_title": "(SELECT title FROM categories WHERE id = "
    "coalesce(fs.category_id, fo.category_id))",
}


def feed_condition(feed: dict) -> tuple[str, list[Any]]:
    """SQL (on articles a) for the entries of one feed (db.get_feed's row)."""
    if feed["subscription_id"] is not None:
        return "a.subscription_id = ?", [feed["subscription_id"]]
    if feed["source"] == "":
        return "a.subscription_id IS NULL AND (a.source IS NULL OR a.source = '')", []
    return "a.subscription_id IS NULL AND a.source = ?", [feed["source"]]


def category_condition(category_id: int) -> tuple[str, list[Any]]:
    """SQL for the entries of a category's feeds, asked of the feeds table (a category may
    hold thousands of feeds: one condition each would pass SQLite's expression depth)."""
    return (
        "(a.subscription_id IN (SELECT subscription_id FROM feeds WHERE category_id = ? "
        "AND subscription_id IS NOT NULL) OR (a.subscription_id IS NULL AND "
        "coalesce(a.source, '') IN (SELECT source FROM feeds WHERE category_id = ? "
        "AND source IS NOT NULL)))",
        [category_id, category_id],
    )


def list_entries(
    db: Database,
    conditions: list[str],
    params: list[Any],
    *,
    order: str = "a.sort_key",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
    count: bool = True,
    total: int | None = None,
) -> tuple[int | None, list[dict[str, Any]]]:
    """Entries meeting every condition (SQL on articles a alone, with their params), in
    order, and how many meet them (None when count is False; `total` when the caller knows
    it from the counts triggers keep)."""
    where = " AND ".join(conditions) or "1"
    direction = "DESC" if descending else "ASC"
    rows = _rows(
        db,
        f"SELECT {_ENTRY_COLUMNS} {_ENTRY_FROM} WHERE {where} "
        f"ORDER BY {order} {direction}, a.id {direction} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    if count and total is None:  # the conditions are on articles alone: no join to count
        sql = f"SELECT count(*) FROM articles a WHERE {where}"
        total = db.execute(sql, params).fetchone()[0]
    return total, rows


def get_entry(db: Database, entry_id: int) -> dict[str, Any] | None:
    rows = _rows(db, f"SELECT {_ENTRY_COLUMNS} {_ENTRY_FROM} WHERE a.id = ?", [entry_id])
    return rows[0] if rows else None


def set_entries_read(db: Database, ids: list[int], read: bool) -> None:
    """Read or unread marks on many entries at once (the first read time kept)."""
    marks = ", ".join("?" * len(ids))
    with writing(db):
        if read:
            db.execute(
                f"UPDATE articles SET read_at = ? WHERE id IN ({marks}) AND read_at IS NULL",
                [_now(), *ids],
            )
        else:
            db.execute(f"UPDATE articles SET read_at = NULL WHERE id IN ({marks})", ids)


def mark_read_where(db: Database, condition: str, params: list[Any]) -> None:
    """Marks read every unread entry meeting condition (SQL on a)."""
    with writing(db):
        db.execute(
            f"UPDATE articles AS a SET read_at = ? WHERE a.read_at IS NULL AND {condition}",
            [_now(), *params],
        )


def entry_ids(db: Database, condition: str) -> str:
    """The ids of entries meeting a fixed condition (read state, star), comma-separated as
    Fever sends them: joined by SQLite (100,000 ids through Python rows took 45 ms)."""
    row = db.execute(f"SELECT group_concat(a.id, ',') FROM articles a WHERE {condition}")
    return row.fetchone()[0] or ""


def count_by_feed(db: Database, feeds: list[dict]) -> dict[str, dict[int, int]]:
    """Read and unread entries per feed (db.list_feeds' rows). From the counts triggers
    keep per source (source_counts, library_state), less what subscriptions brought: a
    GROUP BY over every article read the whole table (175 ms at 100,000)."""
    per_source = {
        source: (articles, unread)
        for source, articles, unread in db.execute(
            "SELECT source, articles, unread FROM source_counts"
        )
    }
    total, unread_total = db.execute("SELECT articles, unread FROM library_state").fetchone()
    named = sum(n for n, _ in per_source.values())
    named_unread = sum(u for _, u in per_source.values())
    empty = per_source.get("", (0, 0))  # a source of '' and no source are one feed
    per_source[""] = (total - named + empty[0], unread_total - named_unread + empty[1])
    per_subscription: dict[int, list[int]] = {}
    for subscription, source, unread, n in db.execute(
        "SELECT subscription_id, coalesce(source, ''), read_at IS NULL, count(*) FROM articles "
        "WHERE subscription_id IS NOT NULL GROUP BY 1, 2, 3"
    ):
        counts = per_subscription.setdefault(subscription, [0, 0])
        counts[0] += n
        counts[1] += n if unread else 0
        articles, unread_n = per_source.get(source, (0, 0))
        per_source[source] = (articles - n, unread_n - (n if unread else 0))
    reads: dict[int, int] = {}
    unreads: dict[int, int] = {}
    for feed in feeds:
        if feed["subscription_id"] is not None:
            articles, unread = per_subscription.get(feed["subscription_id"], (0, 0))
        else:
            articles, unread = per_source.get(feed["source"], (0, 0))
        if articles - unread:
            reads[feed["id"]] = articles - unread
        if unread:
            unreads[feed["id"]] = unread
    return {"reads": reads, "unreads": unreads}
