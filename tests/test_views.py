"""Full page, htmx fragment, history restore, Vary, 404s, escaping (Flask's test client)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from conftest import HTMX, soup
from webreader import create_app
from webreader.db import open_db

RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def article_id_shown(page: BeautifulSoup) -> int:
    return int(page.select_one("article[data-article-id]")["data-article-id"])


def test_home_page_has_every_headline_and_the_newest_article(client):
    page = soup(client.get("/"))
    links = page.select("#headlines a")
    assert len(links) == 10
    assert article_id_shown(page) == 1
    assert page.select_one("#article h1").get_text().startswith("Vladimir Putin, în vizită")
    assert page.select_one('#headlines a[aria-current="page"]')["data-article-id"] == "1"
    assert page.title.get_text().startswith("Vladimir Putin, în vizită")


def test_headlines_are_newest_first_with_teasers_marked(client, app, tmp_path):
    dump = tmp_path / "newer.txt"
    dump.write_text("O știre mai nouă\n📅 2024-12-01\n\nText nou.\n", encoding="utf-8")
    from webreader.importers.pipeline import import_file
    from webreader.importers.textdump import load_rules

    db = open_db(app.config["DATABASE"])
    import_file(db, dump, load_rules())
    db.close()
    links = soup(client.get("/")).select("#headlines a")
    titles = [a.select_one(".headline-title").get_text() for a in links]
    assert titles[0] == "O știre mai nouă"
    assert titles[1].startswith("Vladimir Putin")
    assert links[0].select_one("time")["datetime"] == "2024-12-01"
    assert links[1].select_one(".source").get_text() == "PRO TV"
    teasers = [a for a in links if "is-teaser" in a["class"]]
    assert len(teasers) == 9
    assert all(a.select_one(".badge").get_text() == "Teaser" for a in teasers)
    assert not links[0].select_one(".badge")


def test_every_headline_is_a_real_link_enhanced_by_htmx(client):
    for link in soup(client.get("/")).select("#headlines a"):
        assert link["href"].startswith(f"/articles/{link['data-article-id']}/")
        assert link["hx-get"] == link["href"]
        assert link["hx-target"] == "#article"
        assert link["hx-push-url"] == "true"


def test_article_url_gives_the_full_page(client):
    response = client.get("/articles/3")
    page = soup(response)
    assert response.status_code == 200
    assert page.select_one("#headlines") is not None
    assert article_id_shown(page) == 3
    assert page.select_one('#headlines a[aria-current="page"]')["data-article-id"] == "3"


def test_slug_is_optional_and_any_slug_works(client):
    for url in ["/articles/1", "/articles/1/vladimir-putin", "/articles/1/anything"]:
        assert article_id_shown(soup(client.get(url))) == 1


def test_fragment_request_gets_no_page_frame(client):
    response = client.get("/articles/1/x", headers=HTMX)
    text = response.get_data(as_text=True)
    page = soup(response)
    assert response.status_code == 200
    assert "<html" not in text and "<body" not in text
    assert page.select_one("#headlines") is None
    assert article_id_shown(page) == 1
    # app.js takes the document title from here after a swap.
    assert page.select_one("article")["data-page-title"].startswith("Vladimir Putin, în vizită")
    assert page.select_one("article")["data-page-title"].endswith(" · webreader")


def test_history_restore_request_gets_the_full_page(client):
    page = soup(client.get("/articles/2", headers=RESTORE))
    assert page.find("html") is not None
    assert len(page.select("#headlines a")) == 10
    assert article_id_shown(page) == 2


@pytest.mark.parametrize(
    "headers", [{}, HTMX, RESTORE], ids=["page", "fragment", "history-restore"]
)
@pytest.mark.parametrize("url", ["/", "/articles/1", "/articles/999"])
def test_responses_vary_on_htmx_headers(client, url, headers):
    vary = {v.strip() for v in client.get(url, headers=headers).headers["Vary"].split(",")}
    assert {"HX-Request", "HX-History-Restore-Request"} <= vary


def test_article_body_is_rendered_inside_hx_disable(client):
    page = soup(client.get("/articles/1"))
    body = page.select_one(".article-body")
    assert body.has_attr("hx-disable")
    assert len(body.find_all("p")) == 13


def test_article_carries_its_language(client):
    assert soup(client.get("/articles/1")).select_one("article")["lang"] == "ro"
    assert soup(client.get("/")).find("html")["lang"] == "en"


def test_teaser_page_says_it_is_a_teaser(client):
    page = soup(client.get("/articles/2"))
    assert "is-teaser" in page.select_one("article")["class"]
    assert page.select_one(".summary").get_text().startswith("Ambasadorii UE au agreat")
    assert "teaser" in page.select_one(".notice").get_text()
    assert page.select_one(".article-body") is None


@pytest.mark.parametrize(
    "url",
    [
        "/articles/999",
        "/articles/0",
        "/articles/abc",
        "/articles/-1",
        "/articles/1.5",
        "/articles/99999999999999999999999999",
        "/articles/",
        "/nothing-here",
    ],
)
def test_unknown_or_malformed_ids_are_404_page(client, url):
    response = client.get(url)
    page = soup(response)
    assert response.status_code == 404
    assert page.select_one("#headlines") is not None
    assert page.select_one(".error-state h1").get_text().startswith("404")


@pytest.mark.parametrize("url", ["/articles/999", "/articles/abc"])
def test_unknown_ids_are_404_fragment_for_htmx(client, url):
    response = client.get(url, headers=HTMX)
    page = soup(response)
    assert response.status_code == 404
    assert page.select_one("#headlines") is None and page.find("body") is None
    assert page.select_one(".error-state h1").get_text().startswith("404")


def test_wrong_method_is_405_with_allow(client):
    response = client.post("/articles/1")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert soup(response).select_one(".error-state h1").get_text().startswith("405")


def test_server_errors_show_no_traceback(app, monkeypatch):
    from webreader import articles

    def broken(*args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(articles, "get_article", broken)
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    response = app.test_client().get("/articles/1")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert soup(response).select_one(".error-state h1").get_text().startswith("500")


def test_every_field_but_the_body_is_escaped(tmp_path):
    db = open_db(tmp_path / "x.db")
    db["articles"].insert(
        {
            "kind": "article",
            "title": "<script>alert('title')</script>",
            "title_key": "x",
            "slug": "x",
            "summary": "<img src=x onerror=alert('summary')>",
            "source": "<b>source</b>",
            "lang": '"><script>alert("lang")</script>',
            "published": "<i>2024</i>",
            "html": "<p>Body</p>",
            "text": "Body",
            "content_hash": "h",
            "imported_at": "now",
            "updated_at": "now",
        }
    )
    db.close()
    client = create_app(
        {"DATABASE": str(tmp_path / "x.db"), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()
    for headers in ({}, HTMX):
        page = soup(client.get("/articles/1", headers=headers))
        assert page.find("script", src=False) is None
        assert page.select("img") == []
        assert page.find("b") is None and page.find("i") is None
        assert page.select_one("article h1").get_text() == "<script>alert('title')</script>"


def test_empty_library_says_how_to_import(tmp_path):
    path = tmp_path / "empty.db"
    client = create_app(
        {"DATABASE": str(path), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()
    response = client.get("/")
    page = soup(response)
    assert response.status_code == 200
    assert path.exists()
    assert page.select("#headlines a") == []
    assert "webreader import --db empty.db SOURCE" in page.select_one(".empty-state").get_text()


def test_page_loads_only_local_scripts_and_styles(client):
    page = soup(client.get("/"))
    scripts = page.find_all("script")
    assert scripts and all(s["src"].startswith("/static/") and not s.string for s in scripts)
    assert page.find("style") is None
    assert not page.select("[style]")
    assert all(link["href"].startswith("/static/") for link in page.select("link[rel=stylesheet]"))
    for script in scripts:
        response = client.get(script["src"])
        assert response.status_code == 200
        response.close()


def test_a_malformed_after_is_a_400_and_an_empty_one_is_none(client):
    """Found by the property tests: the error page rendered its sidebar from the same
    malformed ?after= and failed again, with a 500."""
    assert client.get("/?after=abc").status_code == 400
    assert client.get("/?after=9223372036854775808").status_code == 400  # beyond SQLite
    assert client.get("/?after=").status_code == 200
    assert client.get("/articles/999?after=abc").status_code == 404
    assert client.get("/headlines?after=x", headers={"HX-Request": "true"}).status_code == 400


def test_busy_is_told_by_sqlites_error_code(tmp_path):
    import sqlite3

    from webreader.reading import is_busy

    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.commit()
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as busy:
            other.execute("INSERT INTO t VALUES (1)")
        assert is_busy(busy.value)
        with pytest.raises(sqlite3.OperationalError) as missing:
            other.execute("SELECT * FROM no_such_table")
        assert not is_busy(missing.value)
        # A message that merely mentions the word is not a busy database.
        assert not is_busy(sqlite3.OperationalError("column 'locked' is unknown"))
    finally:
        holder.rollback()
        holder.close()
        other.close()


def test_a_feeds_teaser_says_it_came_from_a_feed(tmp_path):
    """A feed item is no page's "list of latest headlines": its notice names the feed."""
    from pathlib import Path

    from webreader import create_app
    from webreader.db import open_db
    from webreader.importers.pipeline import import_file
    from webreader.importers.textdump import load_rules

    db = open_db(tmp_path / "feed.db")
    template = Path(__file__).parent / "fixtures" / "feeds" / "rss-summaries.xml"
    feed = tmp_path / "feed.xml"
    feed.write_text(
        template.read_text(encoding="utf-8").replace("{base}", "http://example.org"),
        encoding="utf-8",
    )
    assert import_file(db, feed, load_rules()).status == "imported"
    (teaser_id,) = db.execute("SELECT id FROM articles WHERE kind = 'teaser' LIMIT 1").fetchone()
    db.close()
    app = create_app({"DATABASE": str(tmp_path / "feed.db"), "TESTING": True})
    notice = soup(app.test_client().get(f"/articles/{teaser_id}")).select_one(".notice")
    assert "feed" in notice.get_text() and "latest headlines" not in notice.get_text()
