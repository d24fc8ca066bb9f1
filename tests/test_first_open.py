"""A first open (the click on a new headline, which marks it read) costs the same at any
library size: no query on its path reads the whole library, whatever the sidebar's filters;
and a read mark re-renders only what it changed."""

from __future__ import annotations

import re
import sqlite3

import pytest

from conftest import HTMX, article_row, soup
from webreader import caching, create_app
from webreader.db import open_db, thread_connection

ARTICLES = 3000
FILTERS = [
    "",
    "?show=unread",
    "?show=starred",
    "?source=Surse+2",
    "?show=unread&source=Surse+2",
    "?from=2024-03-01&to=2024-06-30",
    "?show=unread&from=2024-03-01",
]
# A plan step that reads a whole table of articles or a whole index of it: SCAN a,
# SCAN articles, SCAN a USING COVERING INDEX (a count). SCAN a USING INDEX walks an index in
# its order and stops at the query's LIMIT; how far it walks is measured below, in steps.
FULL_SCAN = re.compile(r"\bSCAN (a|articles)\b(?! USING INDEX)")
ORDERED_WALK = re.compile(r"\bSCAN (a|articles) USING INDEX")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Enough articles that SQLite's planner would show a scan, some read, some starred."""
    path = tmp_path_factory.mktemp("first-open") / "big.db"
    db = open_db(path)
    with db.atomic():
        db["articles"].insert_all(
            article_row(
                n,
                source=f"Surse {n % 5}",
                published=f"{2022 + n % 3}-{1 + n % 12:02}-{1 + n % 28:02}",
                html="<p>Un paragraf de știri.</p><p>Și încă unul.</p>",
                text="Un paragraf de știri. Și încă unul.",
                read_at="2024-12-01T00:00:00+00:00" if n % 3 else None,
                starred_at="2024-12-01T00:00:00+00:00" if n % 7 == 0 else None,
            )
            for n in range(ARTICLES)
        )
    db.close()
    return path


def _unread(path, count: int) -> list[int]:
    db = open_db(path)
    try:
        sql = "SELECT id FROM articles WHERE read_at IS NULL ORDER BY sort_key DESC LIMIT ?"
        return [row[0] for row in db.execute(sql, [count])]
    finally:
        db.close()


def _traced(client, url: str, headers: dict) -> list[str]:
    conn = thread_connection(client.application.config["DATABASE"]).conn
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    try:
        response = client.get(url, headers=headers)
    finally:
        conn.set_trace_callback(None)
    assert response.status_code == 200, url
    return [sql for sql in executed if not sql.startswith("--")]  # not trigger markers


@pytest.mark.parametrize("query", FILTERS)
def test_no_query_of_a_first_open_reads_the_whole_library(library, query):
    app = create_app({"DATABASE": str(library), "TESTING": True, "LOGIN_REQUIRED": False})
    client = app.test_client()
    first, second = _unread(library, 2)[:2] if "unread" in query else _unread(library, 2)
    for article_id, headers in ((first, HTMX), (second, {})):  # a fragment, then a full page
        executed = _traced(client, f"/articles/{article_id}{query}", headers)
        assert any(sql.startswith("UPDATE articles SET read_at") for sql in executed)
        conn = thread_connection(str(library)).conn
        for sql in executed:
            if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
                continue
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
            assert not any(FULL_SCAN.search(step) for step in plan), (sql, plan)
            if any(ORDERED_WALK.search(step) for step in plan):
                assert "LIMIT" in sql.upper(), (sql, plan)


def test_a_read_mark_re_renders_only_the_headline_it_changed(library, monkeypatch):
    app = create_app({"DATABASE": str(library), "TESTING": True, "LOGIN_REQUIRED": False})
    client = app.test_client()
    rendered: list[tuple] = []
    kept = caching.kept

    def counting(name, key, render):
        def counted():
            rendered.append(key)
            return render()

        return kept(name, key, counted)

    monkeypatch.setattr(caching, "kept", counting)
    first, second = _unread(library, 2)
    client.get(f"/articles/{first}")
    assert len(rendered) > 40  # the sidebar's page of headlines, each rendered once
    client.get(f"/articles/{second}", headers=HTMX)  # read now: a new generation
    rendered.clear()
    page = client.get(f"/articles/{first}").get_data(as_text=True)
    # The same page of the sidebar, after a write: only the row that changed is rendered.
    assert [dict(key[0])["id"] for key in rendered] == [second]
    assert f'id="headline-{first}"' in page and f'id="headline-{second}"' in page


def test_a_first_open_shows_the_article_as_marked_not_as_it_was_before_the_wait(tmp_path):
    """The click waits for the write lock (an import holds it) while the import changes the
    article: the page shows the row as marked read, with the import's changes."""
    import threading
    import time

    from webreader.db import connect

    path = tmp_path / "race.db"
    db = open_db(path)
    db["articles"].insert(
        article_row(1, title="Teaser title", html="<p>Only a teaser</p>", text="Only a teaser")
    )
    db.conn.commit()
    client = create_app({"DATABASE": str(path), "TESTING": True, "LOGIN_REQUIRED": False})
    client = client.test_client()
    importer = connect(path)
    importer.execute("BEGIN IMMEDIATE")
    importer.execute(
        "UPDATE articles SET title = 'Full title', html = '<p>The full text</p>', "
        "text = 'The full text', starred_at = '2024-12-01T10:00:00+00:00' WHERE id = 1"
    )
    answer: dict = {}

    def open_it() -> None:
        answer["response"] = client.get("/articles/1", headers=HTMX)

    click = threading.Thread(target=open_it)
    click.start()
    time.sleep(0.3)  # the click now waits for the lock
    importer.conn.commit()
    click.join()
    page = soup(answer["response"])
    assert page.select_one("h1").get_text() == "Full title"
    assert "The full text" in page.select_one(".article-body").get_text()
    html = answer["response"].get_data(as_text=True)
    assert 'class="star-mark"' in html  # in the headline sent out of band
    assert 'class="unread-dot"' not in html
    row = db.execute("SELECT read_at IS NOT NULL FROM articles WHERE id = 1").fetchone()
    assert row == (1,)
    importer.close()
    db.close()


def _big_rows(path, count: int) -> None:
    """Articles whose rows span several pages, as real ones do (HTML and text)."""
    db = open_db(path)
    body = "Un paragraf de știri, destul de lung. " * 150
    with db.atomic():
        db["articles"].insert_all(
            article_row(n, published="2024-11-27", html=f"<p>{body}</p>", text=body)
            for n in range(count)
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def test_with_background_checkpoints_no_request_checkpoints(tmp_path):
    """The commit that fills the WAL past 1,000 pages would checkpoint it, making that
    request 10 ms slower; the server's connections leave it to a thread of their own."""
    from webreader.db import checkpoint_in_background

    path = tmp_path / "wal.db"
    _big_rows(path, 600)
    checkpoint_in_background(path, every=3600)  # it will not run during the test
    client = create_app({"DATABASE": str(path), "TESTING": True, "LOGIN_REQUIRED": False})
    client = client.test_client()
    for article_id in _unread(path, 500):
        assert client.get(f"/articles/{article_id}", headers=HTMX).status_code == 200
    db = open_db(path)
    try:
        _, frames, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert frames > 1000  # more than the default threshold: nobody checkpointed
    finally:
        db.close()


def test_webreader_serve_checkpoints_its_wal_in_the_background(tmp_path, serve):
    """What the server wrote reaches the database file itself within seconds: a copy of
    the file alone, without its WAL, holds the read marks."""
    import shutil
    import time
    import urllib.request

    path = tmp_path / "serve.db"
    _big_rows(path, 50)
    server = serve(path)
    opened = _unread(path, 20)
    for article_id in opened:
        request = urllib.request.Request(f"{server.url}/articles/{article_id}", headers=HTMX)
        urllib.request.urlopen(request).read()
    copy = tmp_path / "copy.db"
    for _ in range(50):
        time.sleep(0.2)
        shutil.copyfile(path, copy)  # the main file only: no -wal beside it
        db = sqlite3.connect(copy)
        read = db.execute("SELECT count(*) FROM articles WHERE read_at IS NOT NULL").fetchone()
        db.close()
        copy.unlink()
        if read[0] >= len(opened):
            break
    assert read[0] >= len(opened)
