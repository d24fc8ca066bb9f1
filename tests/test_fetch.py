"""URLs and feeds, against a local HTTP server on 127.0.0.1 (no network): pages, feeds,
and every way a fetch goes wrong. Each failure is a clear message and loses nothing."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import CROSS_SITE
from webreader.cli import cli
from webreader.db import open_db
from webreader.importers import web as fetch_module
from webreader.importers.pipeline import InvalidInput, import_file, import_url
from webreader.importers.textdump import load_rules
from webreader.importers.web import fetch

FIXTURES = Path(__file__).parent / "fixtures"
PAGE = (FIXTURES / "pages" / "stiri-digi-energie.html").read_bytes()


class Handler(BaseHTTPRequestHandler):
    user_agents: ClassVar[list[str]] = []
    paths: ClassVar[list[str]] = []

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass

    def _send(self, status: int, content_type: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        Handler.user_agents.append(self.headers.get("User-Agent", ""))
        Handler.paths.append(self.path)
        base = f"http://127.0.0.1:{self.server.server_port}"
        if self.path == "/page.html":
            self._send(200, "text/html; charset=utf-8", PAGE)
        elif self.path == "/feed.xml":
            feed = (FIXTURES / "feeds" / "rss-summaries.xml").read_text(encoding="utf-8")
            self._send(200, "application/rss+xml", feed.replace("{base}", base).encode())
        elif self.path == "/slow":
            time.sleep(3)
            self._send(200, "text/html", PAGE)
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()  # no Content-Length: the limit must hold while reading
            for _ in range(64):
                self.wfile.write(b"<p>" + b"x" * 16_000 + b"</p>")
        elif self.path == "/loop":
            self._send(302, "text/plain", b"", Location="/loop")
        elif self.path == "/to-ftp":
            self._send(302, "text/plain", b"", Location="ftp://127.0.0.1/file")
        elif self.path.startswith("/to-localhost"):
            port = self.server.server_address[1]
            self._send(302, "text/plain", b"", Location=f"http://localhost:{port}/page.html")
        elif self.path == "/moved":
            self._send(301, "text/plain", b"", Location="/page.html")
        elif self.path == "/image.png":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
        else:
            self._send(404, "text/html", b"<h1>Not found</h1>")


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def titles(db) -> list[str]:
    return [row["title"] for row in db.query("SELECT title FROM articles ORDER BY id")]


def test_a_page_url_is_fetched_and_extracted(db, server):
    result = import_url(db, server + "/page.html", load_rules())
    assert result.status == "imported", result.error
    row = db["articles"].get(result.article_id)
    assert row["title"] == "Guvernul aprobă planul pentru energie nucleară"
    # The page's canonical URL is kept; the same story from another address updates it.
    assert row["url"].startswith("https://stiri.example.ro/economie/")
    assert import_url(db, server + "/moved", load_rules()).status == "unchanged"
    assert titles(db) == ["Guvernul aprobă planul pentru energie nucleară"]


def test_requests_carry_an_honest_user_agent(db, server):
    import_url(db, server + "/page.html", load_rules())
    assert Handler.user_agents[-1].startswith("webreader/")


def test_a_feed_of_summaries_gives_teasers_with_links(db, server):
    result = import_url(db, server + "/feed.xml", load_rules())
    assert result.status == "imported"
    assert "Știri Exemplu: 2 entries" in result.title
    rows = list(db.query("SELECT kind, title, summary, url, source, published FROM articles"))
    assert {r["kind"] for r in rows} == {"teaser"}
    first = next(r for r in rows if r["title"].startswith("Guvernul"))
    assert first["summary"] == "Guvernul a aprobat miercuri planul de investiții pentru Cernavodă."
    assert first["url"] == server + "/page.html"
    assert first["source"] == "Știri Exemplu"
    assert first["published"] == "2024-11-26"


def test_fetch_full_replaces_summaries_with_pages_and_keeps_what_fails(db, server):
    result = import_url(db, server + "/feed.xml", load_rules(), fetch_full=True)
    rows = {r["title"]: r for r in db.query("SELECT * FROM articles")}
    full = rows["Guvernul aprobă planul pentru energie nucleară"]
    assert full["kind"] == "article"
    assert "Calendarul lucrărilor" in full["html"]
    assert full["source"] == "Știri Exemplu"
    assert rows["Pagina care lipsește"]["kind"] == "teaser"
    assert any("404" in w and "kept the summary" in w for w in result.warnings)


def test_fetch_full_fetches_a_page_once_across_checks(db, server):
    """A feed checked again (a new item arrived) does not fetch the pages it completed
    before: their articles are stored, under their canonical addresses."""
    import_url(db, server + "/feed.xml", load_rules(), fetch_full=True)
    Handler.paths.clear()
    import_url(db, server + "/feed.xml", load_rules(), fetch_full=True)
    assert Handler.paths == ["/feed.xml", "/404"]  # the failed one is tried again
    assert db.execute("SELECT count(*) FROM articles WHERE kind = 'article'").fetchone()[0] == 1


def test_fetch_full_fetches_a_bounded_number_of_pages_per_check(db, server, monkeypatch):
    from webreader.importers import pipeline

    monkeypatch.setattr(pipeline, "MAX_FULL_TEXT_PAGES", 1)
    Handler.paths.clear()
    result = import_url(db, server + "/feed.xml", load_rules(), fetch_full=True)
    assert len([p for p in Handler.paths if p != "/feed.xml"]) == 1
    assert any("fetched when the feed next changes" in w for w in result.warnings)
    assert len(list(db.query("SELECT 1 FROM articles"))) == 2  # the other kept as a teaser


def test_a_feed_file_with_full_content_gives_sanitized_articles(db):
    result = import_file(db, FIXTURES / "feeds" / "atom-full.xml", load_rules())
    assert result.status == "imported", result.error
    (row,) = db.query("SELECT * FROM articles")
    assert row["kind"] == "article"
    assert row["author"] == "Mihai Ionescu"
    assert row["lang"] == "ro"
    assert row["published"] == "2024-11-27"
    assert "<script" not in row["html"] and "onclick" not in row["html"]
    assert row["html"].count("<p>") == 9


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/404", "the server answered 404 Not Found"),
        ("/loop", "more than 5 redirects"),
        ("/to-ftp", "not http or https"),
        ("/image.png", "not a web page, feed or text (the server sent image/png)"),
    ],
)
def test_fetch_failures_are_clear_and_lose_nothing(db, server, path, reason):
    import_url(db, server + "/page.html", load_rules())
    before = titles(db)
    result = import_url(db, server + path, load_rules())
    assert result.status == "failed"
    assert reason in result.error
    assert titles(db) == before


def test_a_slow_server_times_out(db, server, monkeypatch):
    monkeypatch.setattr(fetch_module, "TIMEOUT_SECONDS", 0.5)
    result = import_url(db, server + "/slow", load_rules())
    assert result.status == "failed"
    assert result.error == "no answer within 0.5 seconds"


def test_a_huge_response_is_cut_off(db, server, monkeypatch):
    monkeypatch.setattr(fetch_module, "MAX_BYTES", 100_000)
    result = import_url(db, server + "/huge", load_rules())
    assert result.status == "failed"
    assert result.error == "larger than the 100,000 bytes limit"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "javascript://x"])
def test_only_http_and_https(db, url):
    result = import_url(db, url, load_rules())
    assert result.status == "failed"
    assert "only http and https" in result.error


def test_the_cli_takes_urls_beside_files(runner, tmp_path, server, sample_path):
    result = runner.invoke(
        cli,
        [
            "import",
            "--db",
            str(tmp_path / "c.db"),
            str(sample_path),
            server + "/feed.xml",
            server + "/404",
        ],
    )
    assert result.exit_code == 1
    assert f"imported: {server}/feed.xml: Știri Exemplu: 2 entries" in result.stdout
    assert f"  {server}/404: the server answered 404 Not Found" in result.stderr


# ---- the Add form -----------------------------------------------------------------------


@pytest.fixture
def client(tmp_path):
    from webreader import create_app

    return create_app(
        {"DATABASE": str(tmp_path / "add.db"), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()


def test_add_a_url_from_the_page(client, server):
    response = client.post("/add", data={"url": server + "/page.html"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/articles/1/guvernul-aproba-planul")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Calendarul lucrărilor" in page


def test_add_an_uploaded_file(client, sample_path):
    import io

    data = {"file": (io.BytesIO(sample_path.read_bytes()), sample_path.name)}
    response = client.post("/add", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    assert "/articles/1/vladimir-putin" in response.headers["Location"]


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({}, "Give the address of a page or feed"),
        ({"url": "ftp://example.org/x"}, "only http and https"),
        ({"url": "{server}/404"}, "the server answered 404"),
    ],
)
def test_add_refuses_bad_input_with_a_clear_page(client, server, form, reason):
    form = {k: v.replace("{server}", server) for k, v in form.items()}
    response = client.post("/add", data={**form})
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert "No articles yet" in client.get("/").get_data(as_text=True)


def test_add_from_another_site_is_refused(client, server):
    response = client.post("/add", data={"url": server + "/page.html"}, headers=CROSS_SITE)
    assert response.status_code == 403
    assert "No articles yet" in client.get("/").get_data(as_text=True)


def test_an_upload_over_the_size_limit_is_413(client):
    import io

    assert client.application.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024
    # A smaller limit for the test: a 10 MB body would be spooled to a temporary file.
    client.application.config["MAX_CONTENT_LENGTH"] = 50_000
    data = {"file": (io.BytesIO(b"x" * 60_000), "big.txt")}
    response = client.post("/add", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "413" in response.get_data(as_text=True)


# ---- a public server fetches nothing of its own network ------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "http://localhost:9/",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://0.0.0.0:9/",
    ],
)
def test_public_only_refuses_the_servers_own_network(url):
    with pytest.raises(InvalidInput, match="address on the server's own network"):
        fetch(url, public_only=True)


def test_public_only_checks_every_redirect(server, monkeypatch):
    """The first address passes (as if public); its redirect to localhost does not."""
    from webreader.importers import web

    real = web.resolve
    # 127.0.0.1 stands for a public site here (for the check only: it still connects there).
    monkeypatch.setattr(
        web,
        "resolve",
        lambda host, port: {"93.184.216.34"} if host == "127.0.0.1" else real(host, port),
    )
    with pytest.raises(InvalidInput, match="localhost is an address on the server's own"):
        fetch(server + "/to-localhost", public_only=True)
    assert fetch(server + "/page.html", public_only=True).data  # the public one is fetched


def test_the_add_form_of_a_public_server_refuses_local_addresses(tmp_path, server):
    from werkzeug.security import generate_password_hash

    from webreader import auth, create_app

    db = open_db(tmp_path / "public.db")
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?)",
        [auth.PASSWORD_SETTING, generate_password_hash("a long password")],
    )
    db.conn.commit()
    db.close()
    client = create_app(
        {"DATABASE": str(tmp_path / "public.db"), "TESTING": True, "LOGIN_REQUIRED": True}
    ).test_client()
    client.post("/login", data={"password": "a long password"})
    response = client.post("/add", data={"url": server + "/page.html"})
    assert response.status_code == 400
    assert "address on the server&#39;s own network" in response.text


# ---- bodies the server packs: unpacked with a bound, or refused ------------------------------


class Packed(BaseHTTPRequestHandler):
    """Bodies with a Content-Encoding, and one that trickles."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        import gzip
        import zlib

        page = b"<html><head><title>Packed</title></head><body><p>Hello.</p></body></html>"
        bodies = {
            "/gzip": ("gzip", gzip.compress(page)),
            "/deflate": ("deflate", zlib.compress(page)),
            "/raw-deflate": ("deflate", zlib.compress(page)[2:-4]),
            # 20 MB of spaces in 20 KB: unpacked, it passes the limit, and is refused there.
            "/gzip-bomb": ("gzip", gzip.compress(b" " * (20 * 1024 * 1024))),
            "/br": ("br", b"\x1b\xff\xff\x7f"),
            "/damaged": ("gzip", b"\x1f\x8b\x08\x00broken"),
        }
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" " * 10)
                self.wfile.flush()
                time.sleep(0.1)
            return
        coding, body = bodies[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def packed():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Packed)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/raw-deflate"])
def test_packed_bodies_are_unpacked(packed, path):
    assert b"<p>Hello.</p>" in fetch(packed + path).data


def test_a_packed_body_is_bounded_as_it_unpacks(packed):
    with pytest.raises(InvalidInput, match="larger than the 5 MB limit"):
        fetch(packed + "/gzip-bomb")


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/br", "encoding webreader does not read"), ("/damaged", "gzip data is damaged")],
)
def test_an_encoding_not_read_or_damaged_is_refused_in_words(packed, path, reason):
    with pytest.raises(InvalidInput, match=reason):
        fetch(packed + path)


def test_an_answer_that_trickles_is_cut_off(packed, monkeypatch):
    from webreader.importers import web

    monkeypatch.setattr(web, "TOTAL_SECONDS", 1.0)
    started = time.monotonic()
    with pytest.raises(InvalidInput, match="took longer than 1 seconds"):
        fetch(packed + "/slow")
    assert time.monotonic() - started < 3
