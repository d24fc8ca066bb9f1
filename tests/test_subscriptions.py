"""Subscriptions: feeds checked on a schedule, politely, against a local server whose feeds
change between requests and answer 304, 301, 410, 429 and 500."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webreader import subscriptions
from webreader.db import find_subscription, list_subscriptions, open_db
from webreader.importers.base import InvalidInput
from webreader.importers.textdump import load_rules


def rss(items: list[int]) -> bytes:
    entries = "".join(
        f"<item><title>Știrea numărul {n} despre podul de pe râu</title>"
        f"<link>http://example.org/stiri/{n}</link><guid>s{n}</guid>"
        f"<description><![CDATA[<p>{'Consiliul a votat reparația podului. ' * 40} {n}</p>]]>"
        "</description></item>"
        for n in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Știri locale</title><link>http://example.org/</link>{entries}</channel></rss>"
    ).encode()


class Feeds:
    """What the server answers, changed by the tests, and what it was asked."""

    def __init__(self) -> None:
        self.items = [1, 2]
        self.requests: list[tuple[str, dict]] = []
        self.answer: dict[str, tuple[int, dict]] = {}  # path -> status, headers

    def body(self) -> bytes:
        return rss(self.items)


class Handler(BaseHTTPRequestHandler):
    feeds: Feeds

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        feeds = self.feeds
        feeds.requests.append((self.path, dict(self.headers)))
        if self.path in feeds.answer:
            status, headers = feeds.answer[self.path]
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/list.opml":
            opml = f'<opml version="2.0"><body><outline text="L" xmlUrl="{feeds.base}/feed"/>'
            self._send(200, "text/xml", (opml + "</body></opml>").encode())
            return
        if self.path == "/empty":
            self._send(200, "text/html", b"   ")
            return
        if self.path == "/broken":
            self._send(200, "application/rss+xml", b"<rss><channel><item><title>x</titl")
            return
        if self.path == "/untitled":
            body = rss([7]).replace("<title>Știri locale</title>".encode(), b"")
            self._send(200, "application/rss+xml", body)
            return
        if self.path == "/page":
            body = b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed">'
            self._send(200, "text/html", body + b"</head><body>Home</body></html>")
            return
        if self.path in ("/feed", "/moved-here"):
            body = feeds.body()
            etag = f'"{hash(body)}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self._send(200, "application/rss+xml", body, ETag=etag)
            return
        self._send(404, "text/plain", b"no")

    def _send(self, status: int, kind: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def feeds():
    state = Feeds()
    handler = type("H", (Handler,), {"feeds": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def db(tmp_path):
    library = open_db(tmp_path / "library.db")
    yield library
    library.close()


def titles(db) -> list[str]:
    return [row[0] for row in db.execute("SELECT title FROM articles ORDER BY id")]


def test_subscribing_imports_the_feed_and_a_page_leads_to_its_feed(db, feeds):
    checked = subscriptions.subscribe(db, f"{feeds.base}/page", load_rules())
    assert checked.subscription["url"] == f"{feeds.base}/feed"
    assert checked.imported == 2 and len(titles(db)) == 2
    (row,) = list_subscriptions(db)
    assert row["title"] == "Știri locale" and row["status"] == "updated"
    with pytest.raises(InvalidInput, match="already subscribed"):
        subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())


def test_a_refresh_imports_exactly_the_new_items_and_an_unchanged_feed_costs_a_304(
    db, feeds, monkeypatch
):
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    from webreader.importers import pipeline

    imports = []
    original = pipeline.import_feed
    monkeypatch.setattr(
        pipeline, "import_feed", lambda *a, **k: imports.append(1) or original(*a, **k)
    )

    (unchanged,) = subscriptions.refresh(db, load_rules(), everything=True)
    assert unchanged.status == "unchanged" and imports == []
    assert feeds.requests[-1][1].get("If-None-Match")  # a conditional GET, answered 304

    feeds.items = [1, 2, 3]
    (updated,) = subscriptions.refresh(db, load_rules(), everything=True)
    assert updated.status == "updated" and updated.imported == 1
    assert len(titles(db)) == 3 and titles(db)[-1].startswith("Știrea numărul 3")


def test_only_due_subscriptions_are_checked(db, feeds):
    checked = subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules(), every=3600)
    asked = len(feeds.requests)
    assert subscriptions.refresh(db, load_rules()) == []  # checked just now: due in an hour
    assert len(feeds.requests) == asked
    later = checked.subscription["next_check_at"] + 1
    assert len(subscriptions.refresh(db, load_rules(), now=later)) == 1


def test_a_permanent_redirect_updates_the_address(db, feeds):
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    feeds.answer["/feed"] = (301, {"Location": "/moved-here"})
    subscriptions.refresh(db, load_rules(), everything=True)
    assert list_subscriptions(db)[0]["url"] == f"{feeds.base}/moved-here"


def test_gone_pauses_the_subscription_and_says_so(db, feeds):
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    feeds.answer["/feed"] = (410, {})
    (checked,) = subscriptions.refresh(db, load_rules(), everything=True)
    assert checked.status == "gone"
    row = list_subscriptions(db)[0]
    assert row["paused"] == 1 and "gone" in row["error"]
    assert subscriptions.refresh(db, load_rules(), everything=True) == []


def test_too_many_requests_waits_for_retry_after(db, feeds):
    checked = subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules(), every=60)
    feeds.answer["/feed"] = (429, {"Retry-After": "7200"})
    (waiting,) = subscriptions.refresh(db, load_rules(), everything=True)
    assert waiting.status == "waiting" and "429" in waiting.message
    row = list_subscriptions(db)[0]
    assert row["next_check_at"] >= row["checked_at"] + 7200
    assert row["failures"] == 1 and checked.subscription["id"] == row["id"]


def test_errors_back_off_and_never_stop_the_other_feeds(db, feeds):
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules(), every=60)
    db["subscriptions"].insert(
        {
            "url": f"{feeds.base}/broken",
            "every_seconds": 60,
            "next_check_at": 0,
            "created_at": 0,
        }
    )
    db.conn.commit()
    feeds.answer["/broken"] = (500, {})
    feeds.items = [1, 2, 3]
    results = {
        c.subscription["url"]: c for c in subscriptions.refresh(db, load_rules(), everything=True)
    }
    assert results[f"{feeds.base}/feed"].status == "updated"
    assert results[f"{feeds.base}/broken"].status == "failed"
    waits = []
    for _ in range(3):
        [_] = [
            c
            for c in subscriptions.refresh(db, load_rules(), everything=True)
            if c.subscription["url"].endswith("/broken")
        ]
        row = find_subscription(db, f"{feeds.base}/broken")
        waits.append(row["next_check_at"] - row["checked_at"])
    assert waits == [120, 240, 480]  # the interval doubled per failure in a row


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400), ("90", 90)]
)
def test_durations(text, seconds):
    assert subscriptions.parse_duration(text) == seconds


def test_a_bad_duration_and_an_impolite_interval_are_refused(db, feeds):
    with pytest.raises(ValueError, match="not a duration"):
        subscriptions.parse_duration("soon")
    with pytest.raises(InvalidInput, match="not polite"):
        subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules(), every=5)


def test_the_commands(tmp_path, feeds):
    from click.testing import CliRunner

    from webreader.cli import cli

    runner = CliRunner()
    library = str(tmp_path / "cli.db")
    done = runner.invoke(
        cli, ["subscribe", "--db", library, f"{feeds.base}/page", "--every", "30m"]
    )
    assert done.exit_code == 0, done.output
    assert "subscribed to" in done.output and "2 imported" in done.output
    listed = runner.invoke(cli, ["subscriptions", "--db", library])
    assert "Știri locale" in listed.output and "next check" in listed.output
    feeds.items = [1, 2, 3]
    refreshed = runner.invoke(cli, ["refresh", "--db", library, "--all"])
    assert refreshed.exit_code == 0 and "1 imported" in refreshed.output
    feeds.answer["/feed"] = (500, {})
    failed = runner.invoke(cli, ["refresh", "--db", library, "--all"])
    assert failed.exit_code == 1 and "500" in failed.output
    gone = runner.invoke(cli, ["unsubscribe", "--db", library, "1"])
    assert gone.exit_code == 0 and "unsubscribed" in gone.output
    assert "No subscriptions" in runner.invoke(cli, ["subscriptions", "--db", library]).output
    bad = runner.invoke(cli, ["subscribe", "--db", library, f"{feeds.base}/nothing"])
    assert bad.exit_code == 1 and "cannot subscribe" in bad.output


def test_one_refresher_at_a_time(db, feeds):
    """A second refresher (another server, a cron job) finds the lease taken and checks
    nothing; once the first is done, or its lease has run out, the next may."""
    import time

    from webreader.db import release_lease, take_lease

    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    assert take_lease(db, subscriptions.LEASE, "another process", 60, time.time())
    asked = len(feeds.requests)
    with pytest.raises(subscriptions.Busy):
        subscriptions.refresh(db, load_rules(), everything=True)
    assert len(feeds.requests) == asked
    release_lease(db, subscriptions.LEASE, "another process")
    assert len(subscriptions.refresh(db, load_rules(), everything=True)) == 1
    assert take_lease(db, subscriptions.LEASE, "a crashed process", -1, time.time())
    assert len(subscriptions.refresh(db, load_rules(), everything=True)) == 1  # expired


def test_the_servers_refresher_imports_what_is_new(tmp_path, feeds):
    import threading
    import time

    library = open_db(tmp_path / "served.db")
    subscriptions.subscribe(library, f"{feeds.base}/feed", load_rules(), every=60)
    library.execute("UPDATE subscriptions SET next_check_at = 0")
    library.conn.commit()
    feeds.items = [1, 2, 3]
    stop = threading.Event()
    thread = subscriptions.refresh_in_background(
        str(tmp_path / "served.db"), 0.05, load_rules(), public_only=False, stop=stop
    )
    deadline = time.monotonic() + 10
    while len(titles(library)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=5)
    assert len(titles(library)) == 3
    library.close()


def test_a_public_servers_refresher_fetches_nothing_of_its_own_network(db, feeds):
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    (checked,) = subscriptions.refresh(db, load_rules(), everything=True, public_only=True)
    assert checked.status == "failed" and "own network" in checked.message


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Mine</title></head><body>
  <outline text="Știri" title="Știri">
    <outline type="rss" text="Locale" title="Locale" xmlUrl="{base}/feed"/>
    <outline type="rss" text="Vremea &amp; drumuri" xmlUrl="https://example.org/vreme.xml"/>
  </outline>
  <outline type="rss" text="Fără dosar" xmlUrl="https://example.net/feed"/>
</body></opml>"""


def test_opml_subscribes_to_every_feed_and_exports_them_back(tmp_path, feeds):
    from click.testing import CliRunner

    from webreader.cli import cli

    runner = CliRunner()
    library = str(tmp_path / "opml.db")
    source = tmp_path / "subscriptions.opml"
    source.write_text(OPML.format(base=feeds.base), encoding="utf-8")
    done = runner.invoke(cli, ["import", "--db", library, str(source)])
    assert done.exit_code == 0, done.output
    assert "3 subscriptions added" in done.output
    again = runner.invoke(cli, ["import", "--db", library, str(source)])
    assert "0 subscriptions added, 3 already there" in again.output

    db = open_db(library)
    rows = [(r["url"], r["title"], r["folder"]) for r in list_subscriptions(db)]
    assert rows == [
        (f"{feeds.base}/feed", "Locale", "Știri"),
        ("https://example.org/vreme.xml", "Vremea & drumuri", "Știri"),
        ("https://example.net/feed", "Fără dosar", None),
    ]
    db.close()
    exported = tmp_path / "out.opml"
    runner.invoke(cli, ["export", "--db", library, "--format", "opml", "-o", str(exported)])
    copy = str(tmp_path / "copy.db")
    assert runner.invoke(cli, ["import", "--db", copy, str(exported)]).exit_code == 0
    db = open_db(copy)
    assert [(r["url"], r["title"], r["folder"]) for r in list_subscriptions(db)] == rows
    db.close()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<opml><body><outline text='x'/></body></opml>", "names no feed"),
        (b"<opml><body><outline xmlUrl='file:///etc/passwd'/></body></opml>", "http"),
        (b"<opml><body>", "OPML file we can read"),
        (
            b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<opml><body><outline xmlUrl='http://e.org/&x;'/></body></opml>",
            "",
        ),
    ],
)
def test_bad_opml_is_refused_clearly_and_subscribes_to_nothing(db, data, reason):
    from webreader.importers.pipeline import import_upload

    result = import_upload(db, "list.opml", data, load_rules())
    if reason:
        assert result.status == "failed" and reason in result.error
    assert all("root:" not in (r["url"] or "") for r in list_subscriptions(db))


def test_a_feed_that_breaks_its_check_does_not_stop_the_others(db, feeds):
    """A Retry-After that is no number (a superscript two), or a redirect onto another
    subscription's address, fail that feed's check (and put it off), never the pass: the
    feeds after it are checked."""
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    subscriptions.subscribe(db, f"{feeds.base}/moved-here", load_rules())
    for url, path in [("a", "/odd"), ("b", "/clash")]:
        db["subscriptions"].insert(
            {
                "url": f"{feeds.base}{path}",
                "every_seconds": 60,
                "next_check_at": 0,
                "created_at": 0,
                "title": url,
            }
        )
    db.conn.commit()
    feeds.answer["/odd"] = (429, {"Retry-After": "²"})
    feeds.answer["/clash"] = (301, {"Location": "/feed"})
    feeds.items = [1, 2, 3]
    results = {
        c.subscription["url"]: c.status
        for c in subscriptions.refresh(db, load_rules(), everything=True)
    }
    assert results[f"{feeds.base}/feed"] == "updated"
    assert results[f"{feeds.base}/odd"] == "failed"  # no wait it can read: backed off
    assert results[f"{feeds.base}/clash"] == "failed"
    row = find_subscription(db, f"{feeds.base}/clash")
    assert row["next_check_at"] > row["checked_at"]


def test_a_pass_stops_when_its_lease_was_taken_over(db, feeds, monkeypatch):
    from webreader import db as queries

    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    subscriptions.subscribe(db, f"{feeds.base}/moved-here", load_rules())
    calls = []
    take = queries.take_lease
    monkeypatch.setattr(
        queries, "take_lease", lambda *a: calls.append(1) or (len(calls) <= 2 and take(*a))
    )
    assert len(subscriptions.refresh(db, load_rules(), everything=True)) == 1


def test_an_opml_file_served_as_xml_subscribes(db, feeds):
    from webreader.importers.pipeline import import_url

    feeds.answer.pop("/list.opml", None)
    result = import_url(db, f"{feeds.base}/list.opml", load_rules())
    assert result.status == "imported", result.error
    assert [r["url"] for r in list_subscriptions(db)] == [f"{feeds.base}/feed"]


def test_a_served_librarys_cron_refresh_fetches_nothing_of_its_own_network(tmp_path, feeds):
    from click.testing import CliRunner

    from webreader import auth
    from webreader.cli import cli

    library = tmp_path / "served.db"
    db = open_db(library)
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    auth.set_password(db, "a long enough password")
    db.close()
    done = CliRunner().invoke(cli, ["refresh", "--db", str(library), "--all"])
    assert done.exit_code == 1 and "own network" in done.output


@pytest.mark.parametrize("every", ["0", "30s", "8d"])
def test_the_servers_refresh_interval_is_a_minute_to_a_week(every, tmp_path):
    from click.testing import CliRunner

    from webreader.cli import cli

    done = CliRunner().invoke(
        cli, ["serve", "--db", str(tmp_path / "x.db"), "--refresh-every", every]
    )
    assert done.exit_code == 2 and "a minute" in done.output


def test_a_dump_that_mentions_opml_is_still_a_dump(db):
    from webreader.importers.pipeline import import_upload

    text = "Cum exporți <opml> din cititorul tău\n📅 2024-11-01\n\nUn ghid despre fișiere.\n"
    result = import_upload(db, "ghid.txt", text.encode(), load_rules())
    assert result.status == "imported" and list_subscriptions(db) == []


def test_a_long_interval_is_never_shortened_by_back_off(db, feeds):
    checked = subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules(), every=3 * 86400)
    feeds.answer["/feed"] = (500, {})
    subscriptions.refresh(db, load_rules(), everything=True)
    row = find_subscription(db, checked.subscription["url"])
    assert row["next_check_at"] - row["checked_at"] >= 3 * 86400


def test_an_opml_with_some_bad_addresses_subscribes_to_the_rest_and_says_which(db):
    from webreader.importers.pipeline import import_upload

    data = (
        b"<opml><body><outline xmlUrl='https://example.org/a.xml'/>"
        b"<outline xmlUrl='javascript:alert(1)'/>"
        b"<outline xmlUrl='https://example.org/b.xml'/>"
        b"<outline xmlUrl='https://example.org/a.xml'/></body></opml>"
    )
    result = import_upload(db, "list.opml", data, load_rules())
    assert result.status == "imported"
    assert result.counts == {"subscribed": 2, "already subscribed": 1, "skipped": 1}
    assert len(result.warnings) == 1 and "javascript:alert(1)" in result.warnings[0]
    assert [r["url"] for r in list_subscriptions(db)] == [
        "https://example.org/a.xml",
        "https://example.org/b.xml",
    ]


def test_an_opml_naming_too_many_feeds_is_refused_whole(db, monkeypatch):
    from webreader.importers import opml
    from webreader.importers.pipeline import import_upload

    monkeypatch.setattr(opml, "MAX_FEEDS", 3)
    outlines = "".join(f"<outline xmlUrl='https://example.org/{n}.xml'/>" for n in range(4))
    result = import_upload(
        db, "list.opml", f"<opml><body>{outlines}</body></opml>".encode(), load_rules()
    )
    assert result.status == "failed" and "more than 3 feeds" in result.error
    assert list_subscriptions(db) == []


@pytest.mark.parametrize(("status", "kept"), [(302, "/for-now"), (307, "/for-now"), (301, "/feed")])
def test_subscribing_through_a_redirect_keeps_the_address_only_a_permanent_one_gives(
    db, feeds, status, kept
):
    feeds.answer["/for-now"] = (status, {"Location": "/feed"})
    checked = subscriptions.subscribe(db, f"{feeds.base}/for-now", load_rules())
    assert checked.subscription["url"] == f"{feeds.base}{kept}"
    assert [r["url"] for r in list_subscriptions(db)] == [f"{feeds.base}{kept}"]


def test_a_new_subscription_is_not_due_while_its_first_check_runs(db, feeds, monkeypatch):
    """The server's refresher must not check a feed subscribe is importing."""
    due_meanwhile = []
    real = subscriptions._take

    def take(db, row, *args):
        due_meanwhile.extend(subscriptions.queries.due_subscriptions(db, row["created_at"] + 1))
        return real(db, row, *args)

    monkeypatch.setattr(subscriptions, "_take", take)
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    assert due_meanwhile == []


@pytest.mark.parametrize(
    ("path", "reason"), [("/empty", "no feed there"), ("/broken", "cannot be read|no feed")]
)
def test_a_feed_that_cannot_be_read_is_refused_and_not_kept(db, feeds, path, reason):
    with pytest.raises(InvalidInput, match=reason):
        subscriptions.subscribe(db, f"{feeds.base}{path}", load_rules())
    assert list_subscriptions(db) == []


def test_a_feed_without_a_title_keeps_none(db, feeds):
    checked = subscriptions.subscribe(db, f"{feeds.base}/untitled", load_rules())
    assert checked.subscription["title"] is None  # the screen shows its address


def test_the_same_feed_written_two_ways_is_one_subscription(db, feeds):
    subscriptions.subscribe(db, f"{feeds.base}/feed#top", load_rules())
    with pytest.raises(InvalidInput, match="already subscribed"):
        subscriptions.subscribe(db, f"{feeds.base}/feed?", load_rules())
    assert [r["url"] for r in list_subscriptions(db)] == [f"{feeds.base}/feed"]


def test_two_requests_subscribing_at_once_get_one_row_and_a_clear_answer(db, feeds, monkeypatch):
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    # The second request checked before the first had stored its row.
    monkeypatch.setattr(subscriptions.queries, "find_subscription", lambda db, url: None)
    with pytest.raises(InvalidInput, match="already subscribed"):
        subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    assert len(list_subscriptions(db)) == 1


def test_a_subscription_removed_during_its_check_does_not_stop_the_pass(db, feeds, monkeypatch):
    for path in ("/feed", "/moved-here"):
        subscriptions.subscribe(db, f"{feeds.base}{path}", load_rules())
    first, second = list_subscriptions(db)
    real = subscriptions.check

    def check(db, subscription, *args, **kwargs):
        if subscription["id"] == first["id"]:
            subscriptions.queries.delete_subscription(db, first["id"])
            raise RuntimeError("the feed broke while it was removed")
        return real(db, subscription, *args, **kwargs)

    monkeypatch.setattr(subscriptions, "check", check)
    results = subscriptions.refresh(db, load_rules(), everything=True)
    assert [c.subscription["id"] for c in results] == [first["id"], second["id"]]
    assert [r["id"] for r in list_subscriptions(db)] == [second["id"]]


def test_a_feed_moved_onto_one_already_followed_is_paused_and_says_so(db, feeds):
    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    subscriptions.subscribe(db, f"{feeds.base}/moved-here", load_rules())
    feeds.answer["/moved-here"] = (301, {"Location": "/feed"})
    results = {
        c.subscription["id"]: c for c in subscriptions.refresh(db, load_rules(), everything=True)
    }
    moved = find_subscription(db, f"{feeds.base}/moved-here")
    assert moved["paused"] == 1 and "subscribed already" in moved["error"]
    assert results[moved["id"]].status == "failed"


def test_a_lease_left_by_a_process_that_ended_is_taken_over(db, feeds):
    import subprocess
    import sys
    import time

    from webreader import db as queries

    subscriptions.subscribe(db, f"{feeds.base}/feed", load_rules())
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    gone = f"{subscriptions.socket.gethostname()}:{ended.stdout.strip()}:1:x"
    queries.take_lease(db, subscriptions.LEASE, gone, 600, time.time())
    assert subscriptions.refresh_one(db, 1, load_rules()) is not None
    # A live holder keeps it: this very process.
    alive = f"{subscriptions.socket.gethostname()}:{subscriptions.os.getpid()}:1:y"
    queries.take_lease(db, subscriptions.LEASE, alive, 600, time.time())
    with pytest.raises(subscriptions.Busy):
        subscriptions.refresh_one(db, 1, load_rules())
