"""The response cache (replays without Flask) and the remembered session cookies: fast,
and never stale or shared between sessions."""

from __future__ import annotations

import json
import logging

from bs4 import BeautifulSoup
from flask import request

from webreader.db import connect

HTMX = {"HX-Request": "true"}


def _served(client, caplog, url: str, headers: dict | None = None):
    with caplog.at_level(logging.INFO, logger="webreader.access"):
        response = client.get(url, headers=headers or {})
    return response, json.loads(caplog.records[-1].getMessage())


def _token(client) -> str:
    page = BeautifulSoup(client.get("/articles/1").text, "html.parser")
    return page.select_one("input[name=csrf_token]")["value"]


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
    client.post("/articles/2/star", data={"starred": "1", "csrf_token": _token(client)})
    after = client.get("/articles/2", headers=HTMX).text
    assert 'name="starred" value="0"' in after


def test_a_write_by_another_process_is_seen(client, app):
    client.get("/articles/2", headers=HTMX)
    client.get("/articles/2", headers=HTMX)
    db = connect(app.config["DATABASE"])  # another connection, as the importer has
    db.execute("UPDATE articles SET title = 'Changed elsewhere' WHERE id = 2")
    db.conn.commit()
    assert "Changed elsewhere" in client.get("/articles/2", headers=HTMX).text


def test_sessions_never_see_each_others_pages(app):
    """A full page carries its session's CSRF token: each browser gets its own."""
    alice, bob = app.test_client(), app.test_client()
    for browser in (alice, bob):
        browser.get("/articles/2")
    tokens = {}
    for name, browser in (("alice", alice), ("bob", bob)):
        pages = [browser.get("/articles/2").text for _ in range(2)]
        assert pages[0] == pages[1]
        tokens[name] = BeautifulSoup(pages[1], "html.parser").select_one("input[name=csrf_token]")[
            "value"
        ]
    assert tokens["alice"] != tokens["bob"]


def test_a_response_that_sets_a_cookie_is_not_replayed(app, caplog):
    """A first visit starts a session: replaying it would hand out someone's session."""
    app.test_client().get("/articles/2")  # mark read
    cookies = []
    for browser in (app.test_client(), app.test_client()):
        response, log = _served(browser, caplog, "/articles/2")
        assert log["cached"] is False
        cookies.append(response.headers["Set-Cookie"])
    assert cookies[0] != cookies[1]


def test_a_conditional_request_gets_304(client):
    client.get("/articles/2", headers=HTMX)
    etag = client.get("/articles/2", headers=HTMX).headers["ETag"]
    response = client.get("/articles/2", headers={**HTMX, "If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""


def test_a_remembered_session_is_a_copy(app):
    """A request that changes its session must not change what the old cookie meant."""
    client = app.test_client()
    client.get("/articles/2")
    with client.session_transaction() as session:
        old = dict(session)
        session["visits"] = 1
    cookie = client.get_cookie("session").value
    client.get("/articles/2")
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        opened = app.session_interface.open_session(app, request)
        opened["visits"] = 2
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        reopened = app.session_interface.open_session(app, request)
    assert reopened["visits"] == 1
    assert reopened["webreader_csrf"] == old["webreader_csrf"]


def test_a_forged_session_cookie_is_an_empty_session(app):
    client = app.test_client()
    client.get("/articles/2")
    cookie = client.get_cookie("session").value
    with app.test_request_context(headers={"Cookie": f"session={cookie[:-2]}xx"}):
        assert dict(app.session_interface.open_session(app, request)) == {}
