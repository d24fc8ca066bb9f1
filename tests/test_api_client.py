"""Miniflux's own Python client (from PyPI, unmodified) drives a live `webreader serve`:
what it changes is seen in the page, and what the page changes is seen through it."""

from __future__ import annotations

import urllib.parse
import urllib.request

import miniflux
import pytest
from bs4 import BeautifulSoup
from test_api import PASSWORD, library  # noqa: F401  (a library with a subscription, a fixture)


@pytest.fixture
def server(serve, library):  # noqa: F811
    return serve(library["path"])


@pytest.fixture
def client(server, library):  # noqa: F811
    return miniflux.Client(server.url, api_key=library["key"])


def page(server, path: str) -> BeautifulSoup:
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        return BeautifulSoup(response.read().decode(), "html.parser")


def post_form(server, path: str, **fields: str) -> None:
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(server.url + path, data=data, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_the_client_reads_the_library(client, server):
    assert client.me()["username"] == "admin"
    assert client.get_version()["version"]
    feeds = {f["title"]: f for f in client.get_feeds()}
    local = feeds["Știri locale"]
    assert client.get_feed(local["id"])["category"]["title"] == "Local"
    everything = client.get_entries(limit=100)
    assert everything["total"] == 12 and len(everything["entries"]) == 12
    assert client.get_entries(status="unread")["total"] == 12
    assert client.get_entries(starred=True)["total"] == 0
    assert {e["title"] for e in client.get_entries(search="podul")["entries"]} == {
        "Podul 1",
        "Podul 2",
    }
    by_id = client.get_entries(order="id", direction="asc", limit=3, offset=1)["entries"]
    assert [e["id"] for e in by_id] == sorted(e["id"] for e in everything["entries"])[1:4]
    newest = max(e["id"] for e in everything["entries"])
    assert [e["id"] for e in client.get_entries(after_entry_id=newest - 1)["entries"]] == [newest]
    assert client.get_entries(before=1732233600, feed_id=local["id"])["total"] == 1
    assert client.get_entries(after=1732233600, category_id=local["category"]["id"])["total"] == 1
    feed_entries = client.get_feed_entries(local["id"], direction="asc", order="published_at")
    assert [e["title"] for e in feed_entries["entries"]] == ["Podul 1", "Podul 2"]
    one = client.get_entry(feed_entries["entries"][0]["id"])
    assert one["feed"]["title"] == "Știri locale" and one["content"].startswith("<p>")
    assert client.get_feed_entry(local["id"], one["id"])["id"] == one["id"]
    counters = client.get_feed_counters()
    assert counters["unreads"][str(local["id"])] == 2


def test_changes_through_the_client_are_seen_in_the_page_and_back(client, server):
    unread_before = int(page(server, "/?show=unread").select_one("#unread-count").get_text())
    entries = client.get_entries(status="unread", order="id", direction="asc", limit=2)["entries"]
    chosen = [e["id"] for e in entries]
    client.update_entries(chosen, status="read")
    shown = page(server, f"/articles/{chosen[0]}?show=unread")
    # Opening it left no new mark (it was read already); the count fell by the two.
    assert int(shown.select_one("#unread-count").get_text()) == unread_before - 2
    client.toggle_bookmark(chosen[1])
    starred = page(server, f"/articles/{chosen[1]}")
    assert starred.select_one(".star-form button")["aria-pressed"] == "true"
    # The page's changes, through the client.
    post_form(server, f"/articles/{chosen[1]}/star", starred="0")
    post_form(server, f"/articles/{chosen[0]}/read", read="0")
    assert client.get_entry(chosen[1])["starred"] is False
    assert client.get_entry(chosen[0])["status"] == "unread"
    assert client.get_entries(starred=True)["total"] == 0


def test_categories_and_opml_through_the_client(client):
    made = client.create_category("Sport")
    assert client.update_category(made["id"], "Fotbal")["title"] == "Fotbal"
    assert "Fotbal" in {c["title"] for c in client.get_categories()}
    local = next(f for f in client.get_feeds() if f["title"] == "Știri locale")
    client.update_feed(local["id"], category_id=made["id"])
    assert [f["id"] for f in client.get_category_feeds(made["id"])] == [local["id"]]
    assert client.get_category_entries(made["id"])["total"] == 2
    client.delete_category(made["id"])
    assert client.get_feed(local["id"])["category"]["title"] == "All"
    opml = client.export_feeds()
    assert "https://example.org/feed.xml" in opml
    extra = opml.replace("https://example.org/feed.xml", "https://example.org/other.xml")
    client.import_feeds(extra)
    assert {f["feed_url"] for f in client.get_feeds() if f["feed_url"]} == {
        "https://example.org/feed.xml",
        "https://example.org/other.xml",
    }
    client.mark_feed_entries_as_read(local["id"])
    assert client.get_feed_entries(local["id"], status="unread")["total"] == 0


def test_the_clients_errors(server, client):
    with pytest.raises(miniflux.AccessUnauthorized):
        miniflux.Client(server.url, api_key="not a key").me()
    with pytest.raises(miniflux.AccessUnauthorized):
        miniflux.Client(server.url, username="admin", password="wrong password").me()
    assert miniflux.Client(server.url, username="admin", password=PASSWORD).me()["id"] == 1
    with pytest.raises(miniflux.ResourceNotFound):
        client.get_entry(999999)
    with pytest.raises(miniflux.ResourceNotFound):
        client.get_feed(999999)
    with pytest.raises(miniflux.BadRequest) as refused:
        client.get_entries(status="gone")
    assert "invalid entry status" in str(refused.value)
    with pytest.raises(miniflux.BadRequest):
        client.create_category("")
    with pytest.raises(miniflux.AccessForbidden):
        client.create_user("bob", "a password", False)
