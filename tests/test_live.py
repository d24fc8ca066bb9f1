"""New headlines arriving live: with the page open, an article dropped into a watched folder
is offered within seconds, and choosing the offer inserts its headline without a reload,
leaving the open article alone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from conftest import make_library


def test_a_new_article_is_offered_and_inserted_without_a_reload(page: Page, serve, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    server = serve(make_library(tmp_path), args=("--watch", str(drop), "--no-refresh"))
    documents: list[str] = []
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else 0)
    page.goto(server.url + "/")
    reading = page.locator("#article h1").inner_text()
    page.evaluate("window.__webreaderMarker = 'still here'")
    expect(page.locator(".new-articles")).to_have_count(0)

    (drop / "nou.txt").write_text(
        "Podul de pe Mureș se redeschide\n📅 2024-11-29\n\nCirculația revine vineri.\n",
        encoding="utf-8",
    )
    offer = page.locator("#live .new-articles")
    expect(offer).to_have_text("1 new article", timeout=15_000)
    expect(page.locator("#live")).to_have_attribute("aria-live", "polite")
    offer.click()
    first = page.locator("#headlines a").first
    expect(first.locator(".headline-title")).to_have_text("Podul de pe Mureș se redeschide")
    expect(first).to_be_focused()
    expect(page.locator(".new-articles")).to_have_count(0)
    expect(page.locator("#article h1")).to_have_text(reading)  # the open article untouched
    assert page.evaluate("window.__webreaderMarker") == "still here"
    assert documents == [server.url + "/"]
    expect(page.locator("#live")).to_have_attribute("data-sse-connect", re.compile(r"since=\d+"))


def _app(tmp_path, extra_articles: int = 0, **config):
    from webreader import create_app

    library = make_library(tmp_path, extra_articles)
    app = create_app({"DATABASE": str(library), "TESTING": True, "LOGIN_REQUIRED": False, **config})
    return app, library


def _add(library, title: str = "Știre nouă sosită acum") -> None:
    from webreader.db import open_db
    from webreader.importers.pipeline import import_file
    from webreader.importers.textdump import load_rules

    dump = library.parent / f"{len(title)}-nou.txt"
    dump.write_text(f"{title}\n📅 2024-11-28\n\nUn text nou despre pod.\n", encoding="utf-8")
    db = open_db(library)
    assert import_file(db, dump, load_rules()).status == "imported"
    db.close()


def _events(client, query: str, **headers) -> str:
    response = client.get(f"/events?{query}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_the_stream_offers_what_is_new_under_the_pages_filters(tmp_path):
    from webreader.db import open_db

    app, library = _app(tmp_path, STREAM_SECONDS=0.5)
    db = open_db(library)
    (since,) = db.execute("SELECT max(id) FROM articles").fetchone()
    db.close()
    client = app.test_client()
    assert "event:" not in _events(client, f"since={since}")  # nothing new: only retry:
    _add(library)
    stream = _events(client, f"since={since}")
    assert f"id: {since + 1}\nevent: new-articles\n" in stream
    assert "1 new article</button>" in stream and f"since={since}" in stream
    assert "event:" not in _events(client, f"since={since}&show=starred")  # not listed there
    # Reconnecting after that event (Last-Event-ID) does not offer the same again.
    assert "event:" not in _events(client, f"since={since}", **{"Last-Event-ID": str(since + 1)})


def test_choosing_the_offer_gives_the_new_headlines_and_listens_on_from_them(tmp_path):
    from conftest import HTMX, soup

    app, library = _app(tmp_path)
    client = app.test_client()
    page = soup(client.get("/"))
    since = int(re.search(r"since=(\d+)", page.select_one("#live")["data-sse-connect"]).group(1))
    _add(library, "Prima nouă")
    _add(library, "A doua, mai nouă")
    fragment = soup(client.get(f"/headlines/new?since={since}", headers=HTMX))
    titles = [t.get_text() for t in fragment.select(".headline-title")]
    assert sorted(titles) == ["A doua, mai nouă", "Prima nouă"]
    live = fragment.select_one("#live")
    assert live["hx-swap-oob"] == "true" and f"since={since + 2}" in live["data-sse-connect"]
    plain = client.get(f"/headlines/new?since={since}")
    assert plain.status_code == 303


def test_streams_are_bounded_and_bad_input_is_refused(tmp_path):
    """Each stream holds one of waitress's threads while it lasts: beyond STREAMS at a time
    the page is told to come back (its SSE extension retries later)."""
    from webreader import live

    app, _ = _app(tmp_path, STREAMS=1, STREAM_SECONDS=0.2)
    client = app.test_client()
    assert client.get("/events?since=-1").status_code == 400
    assert client.get("/events?since=99999999999999999999").status_code == 400
    with app.app_context():
        slots = live._slots()
    assert slots.acquire(blocking=False)  # a stream being served
    busy = client.get("/events?since=0")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    slots.release()
    assert client.get("/events?since=0").status_code == 200  # and its slot is free again
    assert slots.acquire(blocking=False)  # released when that stream ended
    slots.release()


def test_a_private_servers_stream_needs_the_login(tmp_path):
    app, _ = _app(tmp_path, PRIVATE=True, LOGIN_REQUIRED=True)
    response = app.test_client().get("/events?since=0")
    assert response.status_code in (302, 303, 401, 403)


def test_a_head_request_gives_its_stream_slot_back(tmp_path):
    """HEAD (or a client gone before the first byte) closes the stream unread: the slot is
    given back all the same, or two requests would switch the live offer off for good."""
    app, _ = _app(tmp_path, STREAMS=1, STREAM_SECONDS=0.2)
    client = app.test_client()
    for _ in range(3):
        response = client.head("/events?since=0")
        assert response.status_code == 200
        response.close()  # what a WSGI server does once it has sent the headers
    assert client.get("/events?since=0").status_code == 200


def test_the_offer_follows_the_listing_it_belongs_to(tmp_path):
    """The live offer is part of the list: a filter's list listens under that filter, a
    search's results have none, and the More headlines page adds none."""
    from conftest import HTMX, soup

    app, _ = _app(tmp_path, extra_articles=60)
    client = app.test_client()
    live = soup(client.get("/?show=unread")).select_one("#listing #live")
    assert live is not None and "show=unread" in live["data-sse-connect"]
    results = soup(client.get("/search?q=putin", headers={**HTMX, "HX-Target": "listing"}))
    assert results.select_one("#headlines") is not None and results.select_one("#live") is None
    more = soup(client.get("/")).select_one("#headlines .more")
    assert soup(client.get(more["hx-get"], headers=HTMX)).select_one("#live") is None
