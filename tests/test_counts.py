"""The counts the sidebar shows (headlines, unread, starred, per source) are kept by triggers:
whatever happens to the library, they equal what counting the rows gives."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import article_row
from webreader import articles
from webreader.db import migrations, open_db

SOURCES = ["Știri", "ProTV", None]
DATES = ["2024-11-27", "2023-01-31", None]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.sampled_from(SOURCES), st.sampled_from(DATES)),
        st.tuples(st.just("read"), st.integers(1, 12), st.booleans()),
        st.tuples(st.just("star"), st.integers(1, 12), st.booleans()),
        st.tuples(st.just("move"), st.integers(1, 12), st.sampled_from(SOURCES)),
        st.tuples(st.just("delete"), st.integers(1, 12)),
    ),
    max_size=25,
)


def _insert(db, source: str | None, published: str | None) -> None:
    n = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    db["articles"].insert(article_row(n, source=source, published=published))


def _apply(db, operation: tuple) -> None:
    kind, *args = operation
    if kind == "insert":
        _insert(db, *args)
    elif kind == "read":
        articles.set_read(db, *args)
    elif kind == "star":
        articles.set_starred(db, *args)
    elif kind == "move":
        db.execute("UPDATE articles SET source = ? WHERE id = ?", [args[1], args[0]])
    else:
        articles.delete_article(db, args[0])


def _counted(db, filters: articles.Filters, keep: int | None) -> int:
    """Counted the slow way: every row tested."""
    show = {"unread": "read_at IS NULL", "starred": "starred_at IS NOT NULL"}.get(filters.show)
    sql = "SELECT count(*) FROM articles WHERE (? IS NULL OR source = ?)"
    if show:
        sql += f" AND ({show} OR id = ?)"
    return db.execute(sql, [filters.source, filters.source, keep][: 3 if show else 2]).fetchone()[0]


@settings(max_examples=60, deadline=None)
@given(operations)
def test_counts_equal_the_rows_after_any_changes(tmp_path_factory, ops):
    db = open_db(tmp_path_factory.mktemp("counts") / "a.db")
    try:
        for operation in ops:
            _apply(db, operation)
        db.conn.commit()
        rows = db.execute("SELECT count(*) FROM articles WHERE read_at IS NULL").fetchone()[0]
        assert articles.count_unread(db) == rows
        sources = [r[0] for r in db.execute("SELECT DISTINCT source FROM articles")]
        assert articles.list_sources(db) == sorted(s for s in sources if s is not None)
        for show in articles.SHOWS:
            for source in SOURCES:
                for keep in (None, 1, 3):
                    filters = articles.Filters(show=show, source=source)
                    assert articles.count_headlines(db, filters, keep) == _counted(
                        db, filters, keep
                    ), (show, source, keep)
    finally:
        db.close()


def test_a_library_from_before_the_counts_is_counted_when_it_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    db = open_db(path)
    for source in ("A", "A", "B", None):
        _insert(db, source, "2024-11-27")
    articles.set_read(db, 1, True)
    articles.set_starred(db, 3, True)
    # Back to the schema before counts: what an older webreader left.
    for trigger in ("ai", "ad", "au"):
        db.execute(f"DROP TRIGGER article_counts_{trigger}")
    db.execute("DROP TABLE source_counts")
    for column in ("articles", "unread", "starred"):
        db.execute(f"ALTER TABLE library_state DROP COLUMN {column}")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'add_counts'")
    db.conn.commit()
    db.close()

    db = open_db(path)
    try:
        assert not migrations.pending(db)
        assert articles.count_unread(db) == 3
        assert articles.count_headlines(db, articles.Filters(show="starred")) == 1
        assert articles.count_headlines(db, articles.Filters(source="A")) == 2
        assert articles.count_headlines(db, articles.Filters(show="unread", source="A")) == 1
        assert articles.list_sources(db) == ["A", "B"]
    finally:
        db.close()


def test_under_a_date_range_the_count_stops_past_the_cap(db, monkeypatch):
    monkeypatch.setattr(articles, "COUNT_CAP", 3)
    for _ in range(6):
        _insert(db, "A", "2024-11-27")
    _insert(db, "A", "2020-01-01")
    db.conn.commit()
    in_range = articles.Filters(date_from="2024-11-01", date_to="2024-11-30")
    assert articles.count_headlines(db, in_range) == 4  # "3+"
    assert articles.count_headlines(db, articles.Filters(date_to="2021-01-01")) == 1
    assert articles.count_headlines(db, articles.Filters(date_from="2024-11-28")) == 0


def test_dates_in_filters_and_in_sort_keys_agree(db):
    """The sort_key range a date filter adds never leaves out a row the dates keep."""
    for published in ("1970-01-01", "2000-02-29", "2024-11-27", "2024-11-28", "2999-12-31"):
        _insert(db, None, published)
    db.conn.commit()
    for day in ("1970-01-01", "2000-02-29", "2024-11-27", "2024-11-28", "2999-12-31"):
        for filters in (
            articles.Filters(date_from=day),
            articles.Filters(date_to=day),
            articles.Filters(date_from=day, date_to=day),
        ):
            plain = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM articles WHERE (? IS NULL OR published >= ?) "
                    "AND (? IS NULL OR published <= ?) ORDER BY sort_key DESC",
                    [filters.date_from] * 2 + [filters.date_to] * 2,
                )
            ]
            listed = [r["id"] for r in articles.list_headlines(db, filters)]
            assert listed == plain, filters


def test_julian_days_are_sqlites():
    db = sqlite3.connect(":memory:")
    for day in ("0001-01-01", "1970-01-01", "2024-02-29", "9999-12-31"):
        expected = db.execute("SELECT CAST(julianday(?) AS INTEGER)", [day]).fetchone()[0]
        assert articles._julian_day(day) == expected
