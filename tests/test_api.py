"""The Miniflux-compatible API (/v1/): its shapes, filters and errors, who may call it,
and that it and the page show the same library."""

from __future__ import annotations

import base64
import re

import pytest
from bs4 import BeautifulSoup
from test_subscriptions import feeds  # noqa: F401  (the local feed server, a fixture)

from conftest import CROSS_SITE, article_row
from webreader import auth, create_app
from webreader.db import insert_subscription, list_subscriptions, open_db

PASSWORD = "correct horse battery"


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def library(db_path):
    """The sample (one article, nine teasers) plus: a subscription in a folder with two
    articles of its own, and an article with markup a page must never run."""
    db = open_db(db_path)
    auth.set_password(db, PASSWORD)
    key = auth.create_api_key(db, "phone")
    sid = insert_subscription(
        db,
        {
            "url": "https://example.org/feed.xml",
            "title": "Știri locale",
            "every_seconds": 3600,
            "next_check_at": 0,
            "created_at": 0,
            "folder": "Local",
        },
    )
    for n, published in [(1, "2024-11-20"), (2, "2024-11-25")]:
        db["articles"].insert(
            article_row(
                100 + n,
                title=f"Podul {n}",
                source="Știri locale",
                subscription_id=sid,
                published=published,
                imported_at=f"{published}T08:00:00+00:00",  # arrived the day it came out
                html=f"<p>Podul numărul {n} a fost reparat.</p>",
                text=f"Podul numărul {n} a fost reparat.",
                url=f"https://example.org/podul-{n}",
            )
        )
    db.conn.commit()
    db.close()
    return {"path": db_path, "key": key, "subscription": sid}


@pytest.fixture
def api(library):
    app = create_app({"DATABASE": str(library["path"]), "TESTING": True, "LOGIN_REQUIRED": False})
    client = app.test_client()
    key = {"X-Auth-Token": library["key"]}

    class Api:
        def get(self, path, **kw):
            return client.get(path, headers={**key, **kw.pop("headers", {})}, **kw)

        def put(self, path, **kw):
            return client.put(path, headers={**key, **kw.pop("headers", {})}, **kw)

        def post(self, path, **kw):
            return client.post(path, headers={**key, **kw.pop("headers", {})}, **kw)

        def delete(self, path, **kw):
            return client.delete(path, headers={**key, **kw.pop("headers", {})}, **kw)

    found = Api()
    found.client = client
    found.app = app
    return found


def ids(response) -> list[int]:
    return [entry["id"] for entry in response.get_json()["entries"]]


# ---- who may call it -------------------------------------------------------------------------


def test_every_call_needs_a_key_or_the_password_even_on_loopback(api, library):
    client = api.client
    none = client.get("/v1/me")
    assert none.status_code == 401
    assert none.get_json() == {"error_message": "access unauthorized"}
    assert none.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/v1/me", headers={"X-Auth-Token": "not-a-key"}).status_code == 401
    assert client.get("/v1/me", headers={"X-Auth-Token": library["key"]}).status_code == 200
    assert client.get("/v1/me", headers=basic("admin", PASSWORD)).get_json()["username"] == "admin"
    assert client.get("/v1/me", headers=basic("admin", "wrong password")).status_code == 401
    assert client.get("/v1/me", headers=basic("someone", PASSWORD)).status_code == 401


def test_a_logged_in_cookie_never_authenticates_the_api(library):
    app = create_app({"DATABASE": str(library["path"]), "TESTING": True, "LOGIN_REQUIRED": True})
    client = app.test_client()
    client.post("/login", data={"password": PASSWORD, "next": "/"})
    assert "Log out" in client.get("/").get_data(as_text=True)  # the cookie is good
    assert client.get("/v1/entries").status_code == 401
    assert client.put("/v1/entries", json={"entry_ids": [1], "status": "read"}).status_code == 401


@pytest.mark.parametrize("method", ["get", "put", "post", "delete"])
def test_a_page_of_another_site_is_refused_even_with_a_key(api, method):
    response = getattr(api, method)("/v1/entries", headers=CROSS_SITE, json={})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_no_answer_lets_another_origin_read_it(api):
    """No CORS header is ever sent, so a browser gives no page of another origin what the
    API answers; a preflight is not granted either."""
    preflight = api.client.options(
        "/v1/entries",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "X-Auth-Token",
        },
    )
    assert not any(h.lower().startswith("access-control-") for h, _ in preflight.headers)
    answer = api.get("/v1/entries", headers={"Origin": "https://evil.example"})
    assert not any(h.lower().startswith("access-control-") for h, _ in answer.headers)


def test_a_private_library_answers_a_key(library):
    app = create_app(
        {"DATABASE": str(library["path"]), "TESTING": True, "PRIVATE": True, "LOGIN_REQUIRED": True}
    )
    client = app.test_client()
    assert client.get("/").status_code in (302, 303)  # the page wants the login
    assert client.get("/v1/me", headers={"X-Auth-Token": library["key"]}).status_code == 200


def test_a_read_only_library_answers_reads_only(library):
    app = create_app(
        {
            "DATABASE": str(library["path"]),
            "TESTING": True,
            "READ_ONLY": True,
            "LOGIN_REQUIRED": True,
        }
    )
    client = app.test_client()
    key = {"X-Auth-Token": library["key"]}
    assert client.get("/v1/entries", headers=key).status_code == 200
    refused = client.put("/v1/entries", headers=key, json={"entry_ids": [1], "status": "read"})
    assert refused.status_code == 403 and "read-only" in refused.get_json()["error_message"]


def test_password_guesses_through_the_api_are_limited_and_a_good_password_is_not(library):
    app = create_app({"DATABASE": str(library["path"]), "TESTING": True, "LOGIN_REQUIRED": True})
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.77"  # an address of this test's own
    assert client.get("/v1/me", headers=basic("admin", PASSWORD)).status_code == 200
    statuses = [
        client.get("/v1/me", headers=basic("admin", f"guess {n}")).status_code for n in range(8)
    ]
    # The first call counted as an attempt (its password was not verified yet): 5 a minute.
    assert statuses[:4] == [401] * 4 and statuses[4:] == [429] * 4
    # The verified password, and keys, still pass: the app in use keeps working.
    assert client.get("/v1/me", headers=basic("admin", PASSWORD)).status_code == 200
    assert client.get("/v1/me", headers={"X-Auth-Token": library["key"]}).status_code == 200


def test_a_revoked_key_is_refused_from_the_next_call(api, library, runner):
    from webreader.cli import cli

    assert api.get("/v1/me").status_code == 200
    result = runner.invoke(cli, ["api-key", "revoke", "phone", "--db", str(library["path"])])
    assert result.exit_code == 0, result.output
    assert api.get("/v1/me").status_code == 401


def test_api_key_commands_show_a_key_once_and_keep_only_its_hash(runner, library):
    from webreader.cli import cli

    db = str(library["path"])
    made = runner.invoke(cli, ["api-key", "create", "tablet", "--db", db])
    token = made.stdout.strip()
    assert made.exit_code == 0 and len(token) >= 40
    listed = runner.invoke(cli, ["api-key", "list", "--db", db]).output
    assert "tablet" in listed and "phone" in listed and token not in listed
    stored = open_db(library["path"])
    assert token not in str(list(stored.execute("SELECT * FROM api_keys")))
    stored.close()
    again = runner.invoke(cli, ["api-key", "create", "tablet", "--db", db])
    assert again.exit_code == 1 and "already" in again.output


# ---- entries ---------------------------------------------------------------------------------


def test_entries_have_minifluxs_shape(api):
    body = api.get("/v1/entries?limit=1").get_json()
    assert set(body) == {"total", "entries"} and body["total"] == 12
    (entry,) = body["entries"]
    for field, kind in [
        ("id", int), ("user_id", int), ("feed_id", int), ("status", str), ("hash", str),
        ("title", str), ("url", str), ("comments_url", str), ("published_at", str),
        ("created_at", str), ("changed_at", str), ("content", str), ("author", str),
        ("share_code", str), ("starred", bool), ("reading_time", int), ("enclosures", list),
        ("tags", list), ("feed", dict),
    ]:  # fmt: skip
        assert isinstance(entry[field], kind), field
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", entry["published_at"])
    assert entry["feed"]["id"] == entry["feed_id"]


def test_each_filter(api, library):
    everything = ids(api.get("/v1/entries?limit=100"))
    assert len(everything) == 12
    assert ids(api.get("/v1/entries?order=id&direction=asc"))[:3] == sorted(everything)[:3]
    assert (
        ids(api.get("/v1/entries?order=id&direction=desc&limit=2&offset=1"))
        == sorted(everything, reverse=True)[1:3]
    )
    api.put("/v1/entries", json={"entry_ids": everything[:3], "status": "read"})
    assert set(ids(api.get("/v1/entries?status=read"))) == set(everything[:3])
    assert len(ids(api.get("/v1/entries?status=unread"))) == 9
    assert len(ids(api.get("/v1/entries?status=read&status=unread"))) == 12
    api.put(f"/v1/entries/{everything[5]}/bookmark")
    assert ids(api.get("/v1/entries?starred=true")) == [everything[5]]
    assert everything[5] not in ids(api.get("/v1/entries?starred=false"))
    top = max(everything)
    assert ids(api.get(f"/v1/entries?after_entry_id={top - 1}")) == [top]
    assert top not in ids(api.get(f"/v1/entries?before_entry_id={top}"))
    # Dates: the subscription's two articles were published on the 20th and the 25th.
    nov_22 = 1732233600
    local = {e["title"] for e in api.get(f"/v1/entries?after={nov_22}").get_json()["entries"]}
    assert "Podul 2" in local and "Podul 1" not in local
    local = {e["title"] for e in api.get(f"/v1/entries?before={nov_22}").get_json()["entries"]}
    assert "Podul 1" in local and "Podul 2" not in local
    assert {e["title"] for e in api.get("/v1/entries?search=podul").get_json()["entries"]} == {
        "Podul 1",
        "Podul 2",
    }


def test_feeds_and_categories_filter_entries(api, library):
    shown = {f["title"]: f for f in api.get("/v1/feeds").get_json()}
    local = shown["Știri locale"]
    assert local["category"]["title"] == "Local" and local["feed_url"].startswith("https://")
    assert local["disabled"] is False
    titles = {e["title"] for e in api.get(f"/v1/feeds/{local['id']}/entries").get_json()["entries"]}
    assert titles == {"Podul 1", "Podul 2"}
    assert ids(api.get(f"/v1/entries?feed_id={local['id']}")) == ids(
        api.get(f"/v1/feeds/{local['id']}/entries")
    )
    category = local["category"]["id"]
    assert ids(api.get(f"/v1/categories/{category}/entries")) == ids(
        api.get(f"/v1/entries?category_id={category}")
    )
    assert len(ids(api.get(f"/v1/categories/{category}/entries"))) == 2
    # The sample's source is a feed of its own, never checked: to apps, disabled.
    others = [f for f in shown.values() if f["id"] != local["id"]]
    assert others and all(f["disabled"] and f["feed_url"] == "" for f in others)
    assert sum(len(ids(api.get(f"/v1/feeds/{f['id']}/entries"))) for f in others) == 10


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=gone", "invalid entry status"),
        ("order=title", "invalid entry order"),
        ("direction=up", "invalid entry direction"),
        ("limit=many", "limit must be a number"),
        ("feed_id=999", "invalid feed ID"),
        ("category_id=999", "invalid category ID"),
        ("after_entry_id=-4", "after_entry_id is out of range"),
    ],
)
def test_bad_filters_get_a_400_in_minifluxs_shape(api, query, message):
    response = api.get(f"/v1/entries?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error_message": message}


def test_content_is_the_sanitized_html_the_page_shows(api, library):
    db = open_db(library["path"])
    db["articles"].update(
        1,
        {
            "html": '<p>Text.</p><script>alert(1)</script><p onclick="x()">Click</p>',
            "paragraphs": None,
        },
    )
    db.conn.commit()
    db.close()
    # The stored html is sanitized at import; whatever is stored, what leaves is what the
    # page shows, and a teaser's summary is text, escaped.
    page = BeautifulSoup(api.client.get("/articles/1").get_data(as_text=True), "html.parser")
    shown = page.select_one(".article-body").decode_contents().strip()
    content = api.get("/v1/entries/1").get_json()["content"]
    assert BeautifulSoup(content, "html.parser").get_text() in page.get_text()
    assert shown  # the page shows a body
    teaser = next(
        e for e in api.get("/v1/entries?limit=100").get_json()["entries"] if e["reading_time"] == 0
    )
    assert teaser["content"].startswith("<p>") and "<script" not in teaser["content"]


def test_update_entries_validates_and_the_page_follows(api):
    api.client.get("/")  # the page opens (and marks read) the newest article first
    unread = int(
        BeautifulSoup(api.client.get("/").get_data(as_text=True), "html.parser")
        .select_one("#unread-count")
        .get_text()
    )
    two = ids(api.get("/v1/entries?status=unread&limit=2"))
    assert api.put("/v1/entries", json={"entry_ids": two, "status": "read"}).status_code == 204
    page = BeautifulSoup(api.client.get("/").get_data(as_text=True), "html.parser")
    assert int(page.select_one("#unread-count").get_text()) == unread - 2
    for body, message in [
        ({"status": "read"}, "the list of entries is required"),
        ({"entry_ids": [1], "status": "gone"}, "invalid entry status"),
        ({"entry_ids": ["x"], "status": "read"}, "entry_ids must be a number"),
        ({"entry_ids": [1], "status": "removed"}, "webreader does not remove entries"),
    ]:
        response = api.put("/v1/entries", json=body)
        assert response.status_code == 400 and message in response.get_json()["error_message"]
    assert api.put("/v1/entries", data="{not json").status_code == 400


def test_a_star_in_the_api_is_a_star_in_the_page_and_back(api):
    assert api.put("/v1/entries/1/bookmark").status_code == 204
    page = BeautifulSoup(api.client.get("/articles/1").get_data(as_text=True), "html.parser")
    assert page.select_one(".star-form button")["aria-pressed"] == "true"
    api.client.post("/articles/1/star", data={"starred": "0"})
    assert api.get("/v1/entries/1").get_json()["starred"] is False
    api.client.post("/articles/1/read", data={"read": "1"})
    assert api.get("/v1/entries/1").get_json()["status"] == "read"


def test_missing_things_are_404s_in_minifluxs_shape(api):
    for path in [
        "/v1/entries/999",
        "/v1/feeds/999",
        "/v1/feeds/999/entries",
        "/v1/categories/999/feeds",
        "/v1/users/7",
        "/v1/enclosures/1",
        "/v1/nothing/here",
        "/v1/entries/99999999999999999999",
    ]:
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.get_json() == {"error_message": "resource not found"}, path
    assert api.put("/v1/entries/999/bookmark").status_code == 404


# ---- feeds, categories, OPML -------------------------------------------------------------------


def test_categories_are_made_renamed_and_removed_without_losing_feeds(api):
    made = api.post("/v1/categories", json={"title": "Sport"})
    assert made.status_code == 201
    sport = made.get_json()
    assert sport["title"] == "Sport" and sport["user_id"] == 1
    assert api.post("/v1/categories", json={"title": "Sport"}).status_code == 400
    assert api.post("/v1/categories", json={}).status_code == 400
    renamed = api.put(f"/v1/categories/{sport['id']}", json={"title": "Fotbal"})
    assert renamed.status_code == 201 and renamed.get_json()["title"] == "Fotbal"
    local = next(f for f in api.get("/v1/feeds").get_json() if f["title"] == "Știri locale")
    moved = api.put(f"/v1/feeds/{local['id']}", json={"category_id": sport["id"]})
    assert moved.status_code == 201 and moved.get_json()["category"]["title"] == "Fotbal"
    counted = {c["title"]: c for c in api.get("/v1/categories?counts=true").get_json()}
    assert counted["Fotbal"]["feed_count"] == 1 and counted["Fotbal"]["total_unread"] == 2
    assert api.delete(f"/v1/categories/{sport['id']}").status_code == 204
    feed = api.get(f"/v1/feeds/{local['id']}").get_json()
    assert feed["category"]["title"] == "All"  # the feed stays, in All
    assert api.delete("/v1/categories/1").status_code == 400


def test_a_subscription_feed_is_updated_and_removed_and_its_articles_stay(api, library):
    local = next(f for f in api.get("/v1/feeds").get_json() if f["title"] == "Știri locale")
    changed = api.put(
        f"/v1/feeds/{local['id']}", json={"title": "Local", "crawler": True, "disabled": True}
    ).get_json()
    assert (changed["title"], changed["crawler"], changed["disabled"]) == ("Local", True, True)
    (row,) = list_subscriptions(open_db(library["path"]))
    assert (row["title"], row["full_text"], row["paused"]) == ("Local", 1, 1)
    assert api.delete(f"/v1/feeds/{local['id']}").status_code == 204
    assert api.get(f"/v1/feeds/{local['id']}").status_code == 404
    titles = {e["title"] for e in api.get("/v1/entries?limit=100").get_json()["entries"]}
    assert {"Podul 1", "Podul 2"} <= titles  # now in their source's feed


def test_a_sources_feed_is_not_a_subscription(api):
    source = next(f for f in api.get("/v1/feeds").get_json() if f["feed_url"] == "")
    for response in [
        api.delete(f"/v1/feeds/{source['id']}"),
        api.put(f"/v1/feeds/{source['id']}/refresh"),
        api.put(f"/v1/feeds/{source['id']}", json={"title": "Renamed"}),
    ]:
        assert response.status_code == 400
        assert "not a subscription" in response.get_json()["error_message"]
    assert api.get(f"/v1/feeds/{source['id']}/icon").status_code == 404


def test_creating_a_feed_subscribes_and_imports(api, feeds):  # noqa: F811
    made = api.post("/v1/feeds", json={"feed_url": f"{feeds.base}/feed", "category_id": 1})
    assert made.status_code == 201
    feed_id = made.get_json()["feed_id"]
    assert len(ids(api.get(f"/v1/feeds/{feed_id}/entries"))) == 2
    again = api.post("/v1/feeds", json={"feed_url": f"{feeds.base}/feed"})
    assert again.status_code == 400 and "already subscribed" in again.get_json()["error_message"]
    assert api.post("/v1/feeds", json={}).get_json() == {
        "error_message": "the feed URL is required"
    }
    feeds.items = [1, 2, 3]
    assert api.put(f"/v1/feeds/{feed_id}/refresh").status_code == 204
    assert len(ids(api.get(f"/v1/feeds/{feed_id}/entries"))) == 3
    assert api.put(f"/v1/feeds/{feed_id}/mark-all-as-read").status_code == 204
    assert ids(api.get(f"/v1/feeds/{feed_id}/entries?status=unread")) == []
    counters = api.get("/v1/feeds/counters").get_json()
    assert counters["reads"][str(feed_id)] == 3 and str(feed_id) not in counters["unreads"]
    found = api.post("/v1/discover", json={"url": f"{feeds.base}/page"}).get_json()
    assert found == [{"url": f"{feeds.base}/feed", "title": "", "type": "rss"}]


def test_opml_export_and_import_round_trip(api, library):
    exported = api.get("/v1/export")
    assert exported.status_code == 200 and b"https://example.org/feed.xml" in exported.data
    other = open_db(library["path"].parent / "other.db")
    auth.set_password(other, PASSWORD)
    key = auth.create_api_key(other, "k")
    other.close()
    app = create_app(
        {
            "DATABASE": str(library["path"].parent / "other.db"),
            "TESTING": True,
            "LOGIN_REQUIRED": False,
        }
    )
    client = app.test_client()
    imported = client.post("/v1/import", data=exported.data, headers={"X-Auth-Token": key})
    assert imported.status_code == 201
    assert imported.get_json() == {"message": "Feeds imported successfully"}
    feeds_there = client.get("/v1/feeds", headers={"X-Auth-Token": key}).get_json()
    assert [(f["feed_url"], f["category"]["title"]) for f in feeds_there] == [
        ("https://example.org/feed.xml", "Local")
    ]
    bad = client.post("/v1/import", data=b"<html>", headers={"X-Auth-Token": key})
    assert bad.status_code == 400


def test_what_webreader_has_no_meaning_for_answers_as_miniflux_does(api):
    assert api.get("/v1/users").get_json()[0]["username"] == "admin"
    assert api.get("/v1/users/1").status_code == 200
    assert api.post("/v1/users", json={"username": "bob"}).status_code == 403
    assert api.get("/v1/integrations/status").get_json() == {"has_integrations": False}
    assert api.post("/v1/entries/1/save").status_code == 400
    assert api.get("/v1/version").get_json()["version"]
    assert api.get("/v1/feeds/1/icon").status_code == 404


def test_an_older_library_keeps_its_folders_as_categories(tmp_path):
    """The migration: each folder a category, each subscription a feed in it."""
    from webreader.db import connect, migrations

    path = tmp_path / "old.db"
    db = connect(path)
    migrations.apply(db, stop_before="add_feeds_and_categories")
    db["subscriptions"].insert_all(
        [
            {"url": "https://a.example/f", "folder": "Sport", "every_seconds": 60,
             "next_check_at": 0, "created_at": 0},
            {"url": "https://b.example/f", "folder": None, "every_seconds": 60,
             "next_check_at": 0, "created_at": 0},
        ]
    )  # fmt: skip
    db.conn.commit()
    migrations.apply(db)
    assert [(r["url"], r["folder"]) for r in list_subscriptions(db)] == [
        ("https://a.example/f", "Sport"),
        ("https://b.example/f", None),
    ]
    db.close()


def test_counters_match_the_entries_of_each_feed(api, library):
    """The counts come from triggers' counts less what subscriptions brought: checked
    against counting each feed's entries, with articles of the subscription's source that
    came another way and an article of no source."""
    from conftest import article_row

    db = open_db(library["path"])
    db["articles"].insert_all(
        [
            article_row(300, source="Știri locale", read_at="2024-12-02T00:00:00+00:00"),
            article_row(301, source="Știri locale"),
            article_row(302, source=None),
        ]
    )
    db.conn.commit()
    db.close()
    api.put(
        "/v1/entries", json={"entry_ids": ids(api.get("/v1/entries?limit=3")), "status": "read"}
    )
    counters = api.get("/v1/feeds/counters").get_json()
    for feed in api.get("/v1/feeds").get_json():
        unread = api.get(f"/v1/feeds/{feed['id']}/entries?status=unread").get_json()["total"]
        read = api.get(f"/v1/feeds/{feed['id']}/entries?status=read").get_json()["total"]
        assert counters["unreads"].get(str(feed["id"]), 0) == unread, feed["title"]
        assert counters["reads"].get(str(feed["id"]), 0) == read, feed["title"]


# ---- keys from the page ----------------------------------------------------------------------


def test_the_admin_makes_and_revokes_keys_from_the_page(library):
    app = create_app({"DATABASE": str(library["path"]), "TESTING": True, "LOGIN_REQUIRED": True})
    visitor = app.test_client()
    assert "/login" in visitor.get("/api-keys").location
    assert "/login" in visitor.post("/api-keys", data={"name": "mine"}).location
    assert "/login" in visitor.post("/api-keys/1/revoke").location
    admin = app.test_client()
    admin.post("/login", data={"password": PASSWORD, "next": "/"})
    settings = BeautifulSoup(admin.get("/").get_data(as_text=True), "html.parser")
    assert settings.select_one("#settings a[href='/api-keys']") is not None
    made = admin.post("/api-keys", data={"name": "tablet"})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in made.headers  # the key is in this answer, nowhere else
    token = BeautifulSoup(made.get_data(as_text=True), "html.parser").select_one("#new-key")
    key = {"X-Auth-Token": token.get_text()}
    assert admin.get("/v1/me", headers=key).status_code == 200
    listed = BeautifulSoup(admin.get("/api-keys").get_data(as_text=True), "html.parser")
    assert listed.select_one("#new-key") is None and token.get_text() not in str(listed)
    names = [h.get_text() for h in listed.select(".subscription h3")]
    assert names == ["phone", "tablet"]
    refused = admin.post("/api-keys", data={"name": "tablet"})
    assert refused.status_code == 400 and "already" in refused.get_data(as_text=True)
    tablet_id = int(listed.select(".subscription")[1]["id"].split("-")[1])
    assert admin.post(f"/api-keys/{tablet_id}/revoke").status_code == 303
    assert admin.get("/v1/me", headers=key).status_code == 401
    assert admin.post(f"/api-keys/{tablet_id}/revoke").status_code == 404


def test_boilerplate_the_page_sets_aside_is_left_out_of_the_content(api, library):
    from webreader import boilerplate

    db = open_db(library["path"])
    article = db["articles"].get(1)
    found = boilerplate.of_article(article["html"], article["paragraphs"])
    first = found[0]
    repeated = article["html"][first.start : first.end]
    db["paragraph_counts"].upsert(
        {"source": article["source"], "fingerprint": first.print, "articles": 99},
        pk=("source", "fingerprint"),
    )
    db.conn.commit()
    db.close()
    content = api.get("/v1/entries/1").get_json()["content"]
    listed = next(e for e in api.get("/v1/entries?limit=100").get_json()["entries"] if e["id"] == 1)
    page = api.client.get("/articles/1").get_data(as_text=True)
    body = BeautifulSoup(page, "html.parser").select_one(".article-body")
    assert repeated not in content and listed["content"] == content
    assert BeautifulSoup(repeated, "html.parser").get_text() not in body.get_text()
    assert content.strip() and article["html"].replace(repeated, "") == content


# ---- found by attacking it (a helper's review) ------------------------------------------------


def test_fetch_content_takes_an_article_page_only(api, library, tmp_path):
    """A teaser's link is its feed author's to choose: an OPML file or a feed there must
    not subscribe the library to anything, nor import anything."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    page = (
        "<html><head><title>Podul nou</title></head><body><article><h1>Podul nou</h1>"
        + "<p>Consiliul a votat reparația podului de pe râu, după ani de așteptare.</p>" * 12
        + "</article></body></html>"
    ).encode()
    opml = b"<opml version='2.0'><body><outline xmlUrl='https://example.org/x.xml'/></body></opml>"
    bodies = {"/page": ("text/html", page), "/list": ("text/xml", opml)}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            kind, body = bodies[self.path]
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        db = open_db(library["path"])
        teasers = [r["id"] for r in db.query("SELECT id FROM articles WHERE kind = 'teaser'")]
        db["articles"].update(teasers[0], {"url": f"{base}/list"})
        db["articles"].update(teasers[1], {"url": f"{base}/page", "title": "Podul nou"})
        db.conn.commit()
        db.close()
        refused = api.get(f"/v1/entries/{teasers[0]}/fetch-content")
        assert (
            refused.status_code == 400 and "not an article" in refused.get_json()["error_message"]
        )
        assert len(api.get("/v1/feeds").get_json()) == 2  # nothing subscribed to
        done = api.get(f"/v1/entries/{teasers[1]}/fetch-content").get_json()
        assert "Consiliul a votat" in done["content"] and done["reading_time"] >= 1
    finally:
        server.shutdown()
        server.server_close()


def test_a_category_of_a_thousand_feeds_is_filtered_in_sql(api, library):
    db = open_db(library["path"])
    for n in range(1100):
        insert_subscription(
            db,
            {"url": f"https://example.org/{n}.xml", "every_seconds": 3600, "next_check_at": 0,
             "created_at": 0, "folder": "Many"},
        )  # fmt: skip
    db.close()
    many = next(c["id"] for c in api.get("/v1/categories").get_json() if c["title"] == "Many")
    assert api.get(f"/v1/categories/{many}/entries").get_json()["total"] == 0
    assert api.get(f"/v1/entries?category_id={many}").status_code == 200
    assert api.put(f"/v1/categories/{many}/mark-all-as-read").status_code == 204
    statuses = "&".join(["status=read"] * 1100)
    assert api.get(f"/v1/entries?{statuses}").status_code == 200


def test_a_body_nested_too_deep_is_a_400(api):
    for body in [b"[" * 100_000, b'{"a":' * 5000]:
        response = api.put("/v1/entries", data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400


def test_a_category_made_twice_at_once_is_a_400_not_a_500(api, monkeypatch):
    from webreader import db as queries

    api.post("/v1/categories", json={"title": "Sport"})
    monkeypatch.setattr(queries, "find_category", lambda db, title: None)  # checked too early
    again = api.post("/v1/categories", json={"title": "Sport"})
    assert again.status_code == 400 and "already exists" in again.get_json()["error_message"]


def test_a_refused_feed_update_changes_nothing(api):
    local = next(f for f in api.get("/v1/feeds").get_json() if f["title"] == "Știri locale")
    refused = api.put(f"/v1/feeds/{local['id']}", json={"category_id": 1, "title": ""})
    assert refused.status_code == 400
    assert api.get(f"/v1/feeds/{local['id']}").get_json()["category"]["title"] == "Local"
    source = next(f for f in api.get("/v1/feeds").get_json() if f["feed_url"] == "")
    made = api.post("/v1/categories", json={"title": "Sport"}).get_json()
    api.put(f"/v1/feeds/{source['id']}", json={"category_id": made["id"], "crawler": True})
    assert api.get(f"/v1/feeds/{source['id']}").get_json()["category"]["title"] == "All"


def test_the_all_category_keeps_its_name(api):
    assert api.put("/v1/categories/1", json={"title": "Misc"}).status_code == 400


def test_revoking_key_2_never_revokes_a_key_named_2(api, library):
    db = open_db(library["path"])
    second = auth.create_api_key(db, "laptop")
    auth.create_api_key(db, "2")
    db.close()
    ids_by_name = {k["description"]: k["id"] for k in api.get("/v1/api-keys").get_json()}
    assert api.delete(f"/v1/api-keys/{ids_by_name['laptop']}").status_code == 204
    left = {k["description"] for k in api.get("/v1/api-keys").get_json()}
    assert left == {"phone", "2"}
    assert api.client.get("/v1/me", headers={"X-Auth-Token": second}).status_code == 401


def test_changed_after_and_before_filter_by_the_latest_change(api):
    """The subscription's two articles were stored in 2024; one is read now."""
    local = next(f for f in api.get("/v1/feeds").get_json() if f["title"] == "Știri locale")
    podul = {
        e["title"]: e["id"]
        for e in api.get(f"/v1/feeds/{local['id']}/entries").get_json()["entries"]
    }
    api.put("/v1/entries", json={"entry_ids": [podul["Podul 1"]], "status": "read"})
    in_feed = f"feed_id={local['id']}"
    assert ids(api.get(f"/v1/entries?{in_feed}&changed_after=1893456000")) == []  # 2030
    assert ids(api.get(f"/v1/entries?{in_feed}&changed_after=1735689600")) == [podul["Podul 1"]]
    assert ids(api.get(f"/v1/entries?{in_feed}&changed_before=1735689600")) == [podul["Podul 2"]]


def test_reading_with_a_key_never_waits_for_a_writer(api, library):
    """A key's last use is noted when the lock is free, and skipped when it is not: an
    import holding the lock must not keep an app's reads waiting."""
    import time

    db = open_db(library["path"])
    db.execute("UPDATE api_keys SET last_used_at = NULL")
    db.conn.commit()
    db.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert api.get("/v1/entries?limit=1").status_code == 200
        assert time.monotonic() - started < 2
    finally:
        db.conn.rollback()
        db.close()


def test_api_guesses_and_login_guesses_are_one_count(library):
    app = create_app({"DATABASE": str(library["path"]), "TESTING": True, "LOGIN_REQUIRED": True})
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.78"
    for n in range(5):
        client.post("/login", data={"password": f"guess {n}"})
    assert client.get("/v1/me", headers=basic("admin", "guess 5")).status_code == 429
