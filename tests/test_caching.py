"""caching.py: responses replayed without Flask, never stale, never shared between viewers
who would see different pages, and bounded."""

from __future__ import annotations

import json
import logging

from conftest import HTMX
from webreader import caching
from webreader.caching import BoundedCache
from webreader.db import connect


def _served(client, caplog, url: str, headers: dict | None = None):
    with caplog.at_level(logging.INFO, logger="webreader.access"):
        response = client.get(url, headers=headers or {})
    return response, json.loads(caplog.records[-1].getMessage())


def test_a_repeated_read_is_replayed_byte_for_byte(client, caplog):
    client.get("/articles/2", headers=HTMX)  # the first open marks it read: a write
    first, first_log = _served(client, caplog, "/articles/2", HTMX)
    again, again_log = _served(client, caplog, "/articles/2", HTMX)
    assert (first_log["cached"], again_log["cached"]) == (False, True)
    assert again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_opening_an_unread_article_is_not_kept(client, caplog):
    """The request that marks it read changed the library: its response is not replayed."""
    _, log = _served(client, caplog, "/articles/3", HTMX)
    _, log_again = _served(client, caplog, "/articles/3", HTMX)
    assert (log["cached"], log_again["cached"]) == (False, False)


def test_a_write_is_seen_by_the_next_read(client, app):
    client.get("/articles/2", headers=HTMX)
    before = client.get("/articles/2", headers=HTMX).text
    assert 'name="starred" value="1"' in before
    client.post("/articles/2/star", data={"starred": "1"})
    after = client.get("/articles/2", headers=HTMX).text
    assert 'name="starred" value="0"' in after


def test_a_write_by_another_process_is_seen(client, app):
    client.get("/articles/2", headers=HTMX)
    client.get("/articles/2", headers=HTMX)
    db = connect(app.config["DATABASE"])  # another connection, as the importer has
    db.execute("UPDATE articles SET title = 'Changed elsewhere' WHERE id = 2")
    db.conn.commit()
    assert "Changed elsewhere" in client.get("/articles/2", headers=HTMX).text


def test_a_visitor_gets_no_session_cookie(client):
    """No page needs a session (no CSRF token to keep): every visitor shares the cache."""
    for url in ("/", "/articles/2", "/search?q=putin", "/login"):
        assert "Set-Cookie" not in client.get(url).headers, url


def test_the_admin_and_a_visitor_never_share_a_page(db_path, caplog):
    from webreader import auth, create_app

    db = connect(db_path)
    auth.set_password(db, "a long password")
    db.close()
    app = create_app({"DATABASE": str(db_path), "TESTING": True, "LOGIN_REQUIRED": True})
    admin, visitor = app.test_client(), app.test_client()
    admin.post("/login", data={"password": "a long password", "next": "/"})
    for _ in range(2):
        assert 'class="star-form"' in admin.get("/articles/2").text
        assert 'class="star-form"' not in visitor.get("/articles/2").text


def test_a_conditional_request_gets_304_from_the_cache(client, caplog):
    client.get("/articles/2", headers=HTMX)
    etag = client.get("/articles/2", headers=HTMX).headers["ETag"]
    response, log = _served(client, caplog, "/articles/2", {**HTMX, "If-None-Match": etag})
    assert response.status_code == 304 and response.data == b"" and log["cached"]
    assert response.headers["ETag"] == etag and "Content-Security-Policy" in response.headers
    changed, _ = _served(client, caplog, "/articles/2", {**HTMX, "If-None-Match": '"other"'})
    assert changed.status_code == 200 and changed.data


def test_a_cross_site_request_is_not_replayed_to_the_reader(client, app):
    """An <img> on another site reads an unread article without marking it; the reader's
    own click afterwards must still mark it, not get the other response replayed."""
    cross = {**HTMX, "Sec-Fetch-Site": "cross-site"}
    for _ in range(2):
        client.get("/articles/3", headers=cross)
    assert _read_at(app, 3) is None
    client.get("/articles/3", headers={**HTMX, "Sec-Fetch-Site": "same-origin"})
    assert _read_at(app, 3) is not None


def _read_at(app, article_id: int):
    db = connect(app.config["DATABASE"])
    try:
        return db.execute("SELECT read_at FROM articles WHERE id = ?", [article_id]).fetchone()[0]
    finally:
        db.close()


def test_caches_are_bounded_by_bytes():

    entry = caching.ENTRY_OVERHEAD + len(repr(("000",))) + 100
    cache = BoundedCache(10 * entry, len)
    for n in range(100):
        cache.put((f"{n:03}",), b"x" * 100)
    assert len(cache) == 10 and cache.get(("099",)) and cache.get(("000",)) is None
    cache.put(("huge",), b"x" * (2 * entry))  # over an eighth of the whole: not kept
    assert cache.get(("huge",)) is None


def test_keys_count_and_empty_values_are_bounded_too():
    """A client chooses much of a key (cookies, headers): an empty rendering under a 200 KB
    cookie must not be free to keep."""
    cache = BoundedCache(1_000_000, len)
    for n in range(10_000):
        cache.put((str(n), "c" * 3000), b"")
    assert len(cache) <= 1_000_000 // (caching.ENTRY_OVERHEAD + 3000)
    cache.put(("x" * (caching.MAX_KEY_BYTES + 1),), b"")  # a key that long is not kept
    assert cache.get(("x" * (caching.MAX_KEY_BYTES + 1),)) is None


def test_huge_cookies_do_not_grow_the_caches(client, app):
    rendered = app.extensions["webreader_rendered"]
    sizes = []
    for n in range(300):
        cookie = {"Cookie": f"webreader_prefs={n}{'a' * 20_000}"}
        client.get("/headlines?after=-9223372036854775808", headers={**HTMX, **cookie})
        client.get("/articles/2", headers={**HTMX, **cookie})
        sizes.append(len(rendered))
    assert sizes[-1] == sizes[10] <= 5
