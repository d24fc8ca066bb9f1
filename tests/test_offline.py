"""Reading offline, in Chromium with its service worker: the page and the newest unread
articles are kept, a saved headline opens offline as it would online, an article not kept
says so, logging out leaves nothing behind, and the app is installable."""

from __future__ import annotations

import contextlib
import json
import re
import urllib.request

from playwright.sync_api import Page, expect

from conftest import make_library
from webreader import auth
from webreader.db import open_db

PASSWORD = "correct horse battery"


def post(server, path: str, form: str) -> None:
    request = urllib.request.Request(server.url + path, data=form.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def marks(library, article_id: int) -> tuple[str | None, str | None]:
    db = open_db(library)
    try:
        row = db.execute(
            "SELECT read_at, starred_at FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        return row[0], row[1]
    finally:
        db.close()


def unread_ids(server) -> list[int]:
    with urllib.request.urlopen(server.url + "/offline/articles?limit=500", timeout=10) as r:
        return [a["id"] for a in json.load(r)["articles"]]


def test_saved_articles_open_offline_and_others_say_they_were_not_saved(
    page: Page, serve, tmp_path
):
    library = make_library(tmp_path, extra_articles=12)
    server = serve(library)
    headlines = unread_ids(server)
    read_elsewhere = headlines[5]
    post(server, f"/articles/{read_elsewhere}/read", "read=1")  # read: not kept offline
    never_opened = headlines[3]

    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=20_000)
    status = page.locator("#offline-status")
    expect(status).to_contain_text("saved for reading offline")
    # Keeping them left no read mark: the article never opened is still unread.
    assert never_opened in unread_ids(server)

    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#headlines a").first).to_be_visible()
    page.evaluate("window.__offlineMarker = 'no reload'")
    page.locator(f'#headlines a[data-article-id="{never_opened}"]').click()
    here = re.compile(rf"{re.escape(server.url)}/articles/{never_opened}(/[^/]*)?$")
    expect(page).to_have_url(here, timeout=10_000)
    expect(page.locator("#article [data-article-id]")).to_have_attribute(
        "data-article-id", str(never_opened)
    )
    expect(page.locator("#article h1")).to_be_focused()
    page.locator(f'#headlines a[data-article-id="{read_elsewhere}"]').click()
    expect(page.locator("#article h1")).to_have_text("Not saved for offline reading")
    page.go_back()
    expect(page).to_have_url(here)
    expect(page.locator("#article [data-article-id]")).to_have_attribute(
        "data-article-id", str(never_opened)
    )
    assert page.evaluate("window.__offlineMarker") == "no reload"
    # Searching offline searches the kept articles, and says so.
    title = page.locator("#article h1").inner_text()
    page.locator("#search").fill(title)
    expect(page.locator("#listing-count")).to_contain_text("searched offline", timeout=10_000)
    expect(page.locator(f'#headlines a[href="/articles/{never_opened}"]')).to_have_count(1)
    # Marks made offline: shown at once, queued, sent when the connection is back.
    page.locator(f'#headlines a[href="/articles/{never_opened}"]').click()
    expect(page.locator("#article [data-article-id]")).to_have_attribute(
        "data-article-id", str(never_opened)
    )
    page.locator("#article h1").click()
    page.keyboard.press("m")
    expect(page.locator("#article .read-form button")).to_have_text("Mark as unread")
    page.keyboard.press("s")
    expect(page.locator("#article .star-form button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#announcer")).to_contain_text("sent when back online")
    assert marks(library, never_opened) == (None, None)  # not sent yet
    page.context.set_offline(False)
    for _ in range(100):
        if None not in marks(library, never_opened):
            break
        page.wait_for_timeout(100)
    read_at, starred_at = marks(library, never_opened)
    assert read_at and starred_at
    page.context.set_offline(True)
    page.locator("#search").fill("cuvântnicăieri")
    expect(page.locator("#listing-count")).to_contain_text("0 of the", timeout=10_000)
    # A reload of a kept article's address works offline too; one no longer kept (read
    # now) shows the panel in the page's frame, never another article.
    still_unread = headlines[4]
    page.goto(f"{server.url}/articles/{still_unread}")
    expect(page.locator("#article [data-article-id]")).to_have_attribute(
        "data-article-id", str(still_unread)
    )
    page.goto(f"{server.url}/articles/{read_elsewhere}")
    expect(page.locator("#article h1")).to_have_text("Not saved for offline reading")
    expect(page.locator("#headlines a").first).to_be_visible()
    page.context.set_offline(False)


def test_the_app_is_installable(browser_type, browser_type_launch_args, serve, tmp_path):
    """Chromium's own installability check, read through the DevTools protocol, in a
    profile of its own (an incognito context is never installable)."""
    server = serve(make_library(tmp_path))
    context = browser_type.launch_persistent_context(
        str(tmp_path / "profile"), **browser_type_launch_args
    )
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=20_000)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"].endswith("/manifest.webmanifest") and not manifest["errors"]
    finally:
        context.close()


def test_logging_out_leaves_nothing_for_the_next_person(page: Page, serve, tmp_path):
    """Admin, then a visitor, in the same browser profile: after the logout, nothing the
    admin's browser kept is there, and offline nothing of the library is shown."""
    library = make_library(tmp_path)
    db = open_db(library)
    auth.set_password(db, PASSWORD)
    db.close()
    server = serve(library, args=["--private"])
    page.goto(server.url + "/login")
    page.get_by_label("Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=20_000)
    title = page.locator("#article h1").inner_text()
    assert page.evaluate("caches.keys()") != []
    page.get_by_role("button", name="Log out").first.click()
    expect(page).to_have_url(re.compile(r"/login\b"))
    # The login page may start a worker again: it keeps nothing of the library.
    kept = page.evaluate(
        """async () => {
            const found = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) found.push(request.url);
            }
            return found;
        }"""
    )
    assert not [url for url in kept if "/articles/" in url or url.rstrip("/") == server.url]
    page.context.set_offline(True)
    with contextlib.suppress(Exception):  # the browser's own offline error: nothing kept
        page.goto(server.url + "/")
    with contextlib.suppress(Exception):
        page.wait_for_load_state()
    page.wait_for_timeout(300)
    assert title not in page.content()
    page.context.set_offline(False)


def test_the_setting_says_how_many_are_kept_and_none_clears_them(page: Page, serve, tmp_path):
    server = serve(make_library(tmp_path, extra_articles=6))
    page.goto(server.url + "/")
    expect(page.locator("#offline-status")).to_contain_text(
        "saved for reading offline", timeout=20_000
    )
    count = "caches.open('webreader-articles').then((c) => c.keys()).then((k) => k.length)"
    assert page.evaluate(count) > 0
    page.locator(".tools button", has_text="Settings").click()
    page.get_by_label("None").check()
    expect(page.locator("html")).to_have_attribute("data-offline", "off", timeout=10_000)
    assert page.evaluate(count) == 0
    expect(page.locator("#offline-status")).to_be_hidden()
    page.reload()  # the choice is kept (the preferences cookie): nothing is kept again
    expect(page.locator("html")).to_have_attribute("data-kept", "0")
    expect(page.locator("html")).to_have_attribute("data-offline", "off", timeout=10_000)
    assert page.evaluate(count) == 0


def test_under_a_url_prefix_the_worker_keeps_to_its_prefix(page: Page, serve, tmp_path):
    server = serve(make_library(tmp_path, extra_articles=4), args=["--url-prefix", "/reader"])
    assert server.url.endswith("/reader")
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=20_000)
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == server.url + "/"
    page.context.set_offline(True)
    page.reload()
    link = page.locator("#headlines a").nth(2)
    article_id = link.get_attribute("data-article-id")
    link.click()
    expect(page.locator("#article [data-article-id]")).to_have_attribute(
        "data-article-id", article_id
    )
    assert page.url.startswith(server.url + "/articles/")
    page.context.set_offline(False)


def test_a_mark_for_an_article_deleted_meanwhile_is_dropped_with_a_notice(
    page: Page, serve, tmp_path
):
    server = serve(make_library(tmp_path, extra_articles=4))
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=20_000)
    page.context.set_offline(True)
    link = page.locator("#headlines a").nth(2)
    article_id = link.get_attribute("data-article-id")
    link.click()
    expect(page.locator("#article [data-article-id]")).to_have_attribute(
        "data-article-id", article_id
    )
    page.locator("#article h1").click()
    page.keyboard.press("s")
    expect(page.locator("#announcer")).to_contain_text("sent when back online")
    post(server, f"/articles/{article_id}/delete", "")
    page.context.set_offline(False)
    expect(page.locator("#announcer")).to_contain_text("deleted meanwhile", timeout=15_000)
    queued = page.evaluate(
        """() => new Promise((resolve) => {
            const opening = indexedDB.open("webreader", 1);
            opening.onsuccess = () => {
                const request = opening.result.transaction("marks").objectStore("marks").count();
                request.onsuccess = () => resolve(request.result);
            };
        })"""
    )
    assert queued == 0


def test_a_login_ended_elsewhere_leaves_nothing_readable(page: Page, serve, tmp_path):
    """A new password ends every login (as logging out everywhere, or expiry, would): the
    next page this browser loads is a visitor's, and the worker forgets the admin's."""
    library = make_library(tmp_path, extra_articles=4)
    db = open_db(library)
    auth.set_password(db, PASSWORD)
    db.close()
    server = serve(library, args=["--private"])
    page.goto(server.url + "/login")
    page.get_by_label("Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=20_000)
    title = page.locator("#article h1").inner_text()
    db = open_db(library)
    auth.set_password(db, "another long password")
    db.close()
    page.reload()  # online: the login page now, a visitor's
    expect(page).to_have_url(re.compile(r"/login\b"))
    page.wait_for_timeout(500)
    page.context.set_offline(True)
    for path in ("/", "/articles/3"):
        with contextlib.suppress(Exception):
            page.goto(server.url + path)
        with contextlib.suppress(Exception):
            page.wait_for_load_state()
        page.wait_for_timeout(200)
        assert title not in page.content(), path
    page.context.set_offline(False)


def test_offline_back_and_pages_not_kept_keep_the_frame_and_the_csp(page: Page, serve, tmp_path):
    server = serve(make_library(tmp_path, extra_articles=4))
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=20_000)
    page.context.set_offline(True)
    page.reload()
    page.locator("#search").fill("generat")
    expect(page.locator("#listing-count")).to_contain_text("searched offline", timeout=10_000)
    page.locator("#headlines a").first.click()
    expect(page.locator("#article h1")).to_contain_text("Articolul generat")
    page.go_back()  # to the search: a whole page, with its frame
    expect(page.locator(".topbar")).to_be_visible()
    expect(page.locator("#search")).to_be_visible()
    response = page.goto(server.url + "/subscriptions")
    expect(page.locator("#article h1")).to_have_text("Not available offline")
    expect(page.locator("#headlines a").first).to_be_visible()
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.context.set_offline(False)


def test_an_articles_images_are_kept_with_it(page: Page, serve, tmp_path):
    """An image of another site (here another local server) is kept with its article and
    shown offline."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from pathlib import Path

    icons = Path(__file__).resolve().parent.parent / "static" / "icons"
    picture = (icons / "icon-192.png").read_bytes()

    class Images(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(picture)))
            self.end_headers()
            self.wfile.write(picture)

    images = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    threading.Thread(target=images.serve_forever, daemon=True).start()
    source = f"http://localhost:{images.server_port}/pic.png"
    library = make_library(tmp_path, extra_articles=3)
    db = open_db(library)
    newest = db.execute(
        "SELECT id FROM articles WHERE kind = 'article' ORDER BY sort_key DESC LIMIT 1 OFFSET 1"
    ).fetchone()[0]
    db.execute(
        "UPDATE articles SET html = html || ?, paragraphs = NULL, updated_at = ? WHERE id = ?",
        [f'<p><img src="{source}" alt="Podul"></p>', "2030-01-01T00:00:00+00:00", newest],
    )
    db.conn.commit()
    db.close()
    server = serve(library)
    try:
        page.goto(server.url + "/")
        expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=20_000)
        kept = page.evaluate(
            "caches.open('webreader-images').then((c) => c.keys()).then((k) => k.map((r) => r.url))"
        )
        assert kept == [source]
        page.context.set_offline(True)
        page.locator(f'#headlines a[data-article-id="{newest}"]').click()
        shown = page.locator("#article .article-body img")
        expect(shown).to_have_attribute("src", source)
        page.wait_for_function(
            "document.querySelector('#article .article-body img').naturalWidth > 0", timeout=10_000
        )
    finally:
        page.context.set_offline(False)
        images.shutdown()
        images.server_close()
