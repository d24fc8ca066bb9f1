"""Read state, stars, filters, previous/next, preferences and article details (test client)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from conftest import CROSS_SITE, HTMX, soup
from webreader import create_app
from webreader.db import open_db


def out_of_band(page: BeautifulSoup) -> BeautifulSoup:
    """The out-of-band part of a fragment (soupsieve does not look inside <template>)."""
    return BeautifulSoup(page.find("template").decode_contents(), "html.parser")


def state(app, article_id: int) -> dict:
    db = open_db(app.config["DATABASE"])
    try:
        return db["articles"].get(article_id)
    finally:
        db.close()


# ---- read when opened --------------------------------------------------------------------


def test_opening_an_article_marks_it_read(app, client):
    assert state(app, 3)["read_at"] is None
    client.get("/articles/3")
    assert state(app, 3)["read_at"] is not None
    client.get("/articles/4", headers=HTMX)
    assert state(app, 4)["read_at"] is not None
    assert state(app, 5)["read_at"] is None


def test_the_home_page_reads_the_article_it_opens(app, client):
    client.get("/")
    assert state(app, 1)["read_at"] is not None


def test_unread_headlines_look_distinct_and_are_counted(client):
    page = soup(client.get("/articles/2"))
    unread = page.select("#headlines a.is-unread")
    assert len(unread) == 9
    assert all(a.select_one(".unread-dot").get_text() == "Unread" for a in unread)
    read = [a for a in page.select("#headlines a") if "is-unread" not in a["class"]]
    assert [a["data-article-id"] for a in read] == ["2"]
    assert page.select_one("#unread-count").get_text() == "9"


def test_htmx_open_updates_headline_and_count_out_of_band(client):
    client.get("/articles/1")
    fragment = soup(client.get("/articles/2", headers=HTMX))
    template = out_of_band(fragment)
    item = template.select_one("li#headline-2")
    assert item["hx-swap-oob"] == "true"
    assert "is-unread" not in item.a["class"]
    count = template.select_one("#unread-count")
    assert count["hx-swap-oob"] == "true" and count.get_text() == "8"
    # Nothing nested in the article may carry an out-of-band swap.
    assert fragment.select_one("article [hx-swap-oob]") is None


# ---- read / star forms ---------------------------------------------------------------------


@pytest.mark.parametrize("action", ["read", "star"])
@pytest.mark.parametrize(
    "headers",
    [
        CROSS_SITE,
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another origin
        {"Origin": "https://evil.example"},  # a browser from before Sec-Fetch-Site
        {"Origin": "null"},  # a sandboxed frame, a data: URL
    ],
)
def test_write_actions_from_another_origin_are_refused(app, client, action, headers):
    before = state(app, 2)
    field = "read" if action == "read" else "starred"
    response = client.post(f"/articles/2/{action}", data={field: "1"}, headers=headers)
    assert response.status_code == 403
    assert "another site" in soup(response).select_one(".error-state").get_text()
    assert state(app, 2) == before


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}, {}],
)
def test_write_actions_from_this_site_or_no_browser_are_accepted(app, client, headers):
    response = client.post("/articles/2/star", data={"starred": "1"}, headers=headers)
    assert response.status_code == 303
    assert state(app, 2)["starred_at"] is not None


def test_mark_unread_without_javascript_redirects_and_keeps_it_unread(app, client):
    client.get("/articles/1")
    assert state(app, 1)["read_at"] is not None
    response = client.post("/articles/1/read", data={"read": "0"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/articles/1/vladimir-putin")
    assert "keep_unread=1" in response.headers["Location"]
    page = soup(client.get(response.headers["Location"]))
    assert state(app, 1)["read_at"] is None
    assert page.select_one(".read-form button").get_text() == "Mark as read"


def test_mark_read_and_star_with_htmx_return_the_article(app, client):
    response = client.post("/articles/3/star", data={"starred": "1"}, headers=HTMX)
    page = soup(response)
    assert response.status_code == 200
    assert state(app, 3)["starred_at"] is not None
    assert state(app, 3)["read_at"] is None  # starring does not read
    assert page.select_one(".star-form button")["aria-pressed"] == "true"
    assert out_of_band(page).select_one("li#headline-3 .star-mark").get_text() == "Starred"

    client.post("/articles/3/read", data={"read": "1"}, headers=HTMX)
    assert state(app, 3)["read_at"] is not None
    client.post("/articles/3/star", data={"starred": "0"}, headers=HTMX)
    assert state(app, 3)["starred_at"] is None


@pytest.mark.parametrize("data", [{}, {"read": "yes"}, {"read": "2"}])
def test_a_malformed_form_is_a_clear_400(client, data):
    response = client.post("/articles/1/read", data={**data})
    assert response.status_code == 400
    assert "read=1 or read=0" in soup(response).select_one(".error-state").get_text()


def test_write_actions_on_a_missing_article_are_404(client):
    response = client.post("/articles/999/star", data={"starred": "1"})
    assert response.status_code == 404


def test_a_get_of_an_action_url_changes_nothing(app, client):
    # /articles/3/star is also an article URL with "star" as its slug: it only shows it.
    client.get("/articles/3/star")
    assert state(app, 3)["starred_at"] is None
    assert client.put("/articles/3/star").status_code == 405


# ---- filters -------------------------------------------------------------------------------


def test_unread_filter_is_a_real_url_and_keeps_the_open_article(app, client):
    client.get("/articles/3")
    page = soup(client.get("/articles/4?show=unread"))
    ids = [a["data-article-id"] for a in page.select("#headlines a")]
    assert "3" not in ids
    assert "4" in ids  # just read, but it is the one on screen
    assert len(ids) == 9
    assert all("show=unread" in a["href"] for a in page.select("#headlines a"))
    current = page.select_one('.filters a[aria-current="true"]')
    assert current["href"] == "/?show=unread"


def test_starred_filter_lists_starred_articles(client):
    client.post("/articles/5/star", data={"starred": "1"})
    page = soup(client.get("/?show=starred"))
    assert [a["data-article-id"] for a in page.select("#headlines a")] == ["5"]
    assert page.select_one("article")["data-article-id"] == "5"


def test_an_empty_filter_says_so(client):
    page = soup(client.get("/?show=starred"))
    assert page.select("#headlines a") == []
    assert page.select_one(".empty-state h1").get_text() == "Nothing starred yet"


def test_an_unknown_filter_shows_everything(client):
    page = soup(client.get("/?show=<script>"))
    assert len(page.select("#headlines a")) == 10


# ---- previous / next -----------------------------------------------------------------------


def test_previous_and_next_links_follow_the_sidebar_order(client):
    page = soup(client.get("/articles/2"))
    assert page.select_one('a[rel="prev"]')["href"].startswith("/articles/1/")
    assert page.select_one('a[rel="next"]')["href"].startswith("/articles/3/")
    first = soup(client.get("/articles/1"))
    assert first.select_one('a[rel="prev"]') is None
    last = soup(client.get("/articles/10"))
    assert last.select_one('a[rel="next"]') is None
    for link in page.select(".article-pager a"):
        assert link["hx-get"] == link["href"] and link["hx-target"] == "#article"


def test_previous_and_next_stay_within_the_filter(client):
    for article_id in (4, 7):
        client.post(f"/articles/{article_id}/star", data={"starred": "1"})
    page = soup(client.get("/articles/4?show=starred"))
    assert page.select_one('a[rel="next"]')["href"].startswith("/articles/7/")
    assert "show=starred" in page.select_one('a[rel="next"]')["href"]


# ---- article details -----------------------------------------------------------------------


def test_article_details_in_the_articles_language(client):
    page = soup(client.get("/articles/1"))
    meta = page.select_one(".article-meta")
    assert meta.find("time").get_text() == "27 noiembrie 2024"
    assert meta.find("time")["datetime"] == "2024-11-27"
    words = len(page.select_one(".article-body").get_text().split())
    assert f"{words} words" in meta.get_text()
    assert "3 min read" in meta.get_text()
    assert "PRO TV" in meta.get_text()
    assert page.select_one("article")["lang"] == "ro"
    assert page.select_one('#headlines a[data-article-id="1"] time').get_text() == (
        "27 noiembrie 2024"
    )


def test_reading_time_uses_the_named_speed():
    from webreader.text import WORDS_PER_MINUTE, reading_minutes

    assert reading_minutes(1) == 1
    assert reading_minutes(WORDS_PER_MINUTE) == 1
    assert reading_minutes(WORDS_PER_MINUTE + 1) == 2


# ---- preferences ---------------------------------------------------------------------------


def test_preferences_default_to_the_system(client):
    html = soup(client.get("/")).find("html")
    assert (html["data-theme"], html["data-font"], html["data-width"]) == (
        "system",
        "medium",
        "medium",
    )
    assert soup(client.get("/")).find("meta", attrs={"name": "color-scheme"})["content"] == (
        "light dark"
    )


def test_saved_preferences_are_applied_on_the_first_paint(client):
    response = client.post(
        "/settings",
        data={
            "theme": "dark",
            "font": "large",
            "width": "wide",
            "next": "/articles/2?show=unread",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/articles/2?show=unread"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = soup(client.get("/articles/2"))
    html = page.find("html")
    assert (html["data-theme"], html["data-font"], html["data-width"]) == ("dark", "large", "wide")
    assert page.find("meta", attrs={"name": "color-scheme"})["content"] == "dark"
    assert page.select_one('#settings input[name="theme"][value="dark"]').has_attr("checked")


def test_preferences_over_htmx_answer_204(client):
    response = client.post("/settings", data={"theme": "light"}, headers=HTMX)
    assert response.status_code == 204
    assert "theme=light" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x", ""]
)
def test_settings_never_redirect_off_site(client, target):
    response = client.post("/settings", data={"next": target})
    assert response.headers["Location"] == "/"


def test_settings_from_another_site_are_refused(client):
    response = client.post("/settings", data={"theme": "dark"}, headers=CROSS_SITE)
    assert response.status_code == 403 and "Set-Cookie" not in response.headers


def test_a_tampered_cookie_falls_back_to_defaults(client):
    client.set_cookie("webreader_prefs", 'theme="><script>&font=huge&width=wide')
    html = soup(client.get("/")).find("html")
    assert (html["data-theme"], html["data-font"], html["data-width"]) == (
        "system",
        "medium",
        "wide",
    )


# ---- the secret behind sessions ---------------------------------------------------------


def test_secret_key_is_made_once_and_kept_in_the_database(db_path):
    first = create_app({"DATABASE": str(db_path)}).config["SECRET_KEY"]
    second = create_app({"DATABASE": str(db_path)}).config["SECRET_KEY"]
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert first == second


def test_a_configured_secret_key_wins(db_path, monkeypatch):
    monkeypatch.setenv("WEBREADER_SECRET_KEY", "from-the-environment")
    assert create_app({"DATABASE": str(db_path)}).config["SECRET_KEY"] == "from-the-environment"
