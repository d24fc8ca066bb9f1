"""Deleting an article: gone from the list, the search and the duplicate index, with a
confirmation first, and only for who may change the library."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

from playwright.sync_api import Page, expect

from conftest import CROSS_SITE, HTMX
from webreader import articles, search
from webreader.db import connect


def count(app, sql: str, params=()) -> int:
    with closing(sqlite3.connect(app.config["DATABASE"])) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_deleting_removes_the_article_and_what_came_from_it(app, client):
    db = connect(app.config["DATABASE"])
    source = db.execute("SELECT source FROM articles WHERE id = 1").fetchone()[0]
    counted = db.execute(
        "SELECT sum(articles) FROM paragraph_counts WHERE source = ?", [source]
    ).fetchone()[0]
    db.close()
    assert count(app, "SELECT count(*) FROM article_signatures WHERE article_id = 1") == 1
    response = client.post("/articles/1/delete", data={})
    assert response.status_code == 303
    assert re.fullmatch(r"/articles/\d+/[\w-]+", response.headers["Location"])
    assert client.get("/articles/1").status_code == 404
    assert count(app, "SELECT count(*) FROM articles WHERE id = 1") == 0
    assert count(app, "SELECT count(*) FROM article_signatures WHERE article_id = 1") == 0
    assert count(app, "SELECT count(*) FROM article_bands WHERE article_id = 1") == 0
    remaining = count(
        app, "SELECT coalesce(sum(articles), 0) FROM paragraph_counts WHERE source = ?", [source]
    )
    assert remaining < counted
    db = connect(app.config["DATABASE"])
    results, _ = articles.search_articles(db, search.parse_query("Kazahstan").fts)
    db.close()
    assert 1 not in [row["id"] for row in results]
    assert "/articles/1/" not in client.get("/articles/2").text  # not in the sidebar


def test_deleting_with_htmx_sends_the_browser_on(client):
    response = client.post("/articles/2/delete", headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/articles/")


def test_deleting_needs_a_post_from_this_site(app, client):
    client.get("/articles/1/delete")  # the article's page (as a slug): changes nothing
    assert client.post("/articles/1/delete", headers=CROSS_SITE).status_code == 403
    assert client.post("/articles/999/delete", data={}).status_code == 404
    assert count(app, "SELECT count(*) FROM articles WHERE id = 1") == 1


def test_deleting_in_a_browser_asks_first(page: Page, fresh_server):
    page.goto(fresh_server.url + "/articles/1")
    title = page.locator("#article h1").inner_text()
    page.get_by_role("button", name="Delete…").click()
    dialog = page.get_by_role("dialog", name="Delete this article?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#article h1")).to_have_text(title)
    page.get_by_role("button", name="Delete…").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator("#article h1")).not_to_have_text(title)
    expect(page.locator("#headlines a.headline", has_text=title)).to_have_count(0)
    assert page.goto(fresh_server.url + "/articles/1").status == 404
